#!/usr/bin/env python3
"""gen_lora_peft.py - LoRA golden vectors written by the REAL transformers +
PEFT (issue 12), in the layout tests/train/test_lora.c reads:

  vectors/lora/<case>/config.json, model.safetensors   LlamaForCausalLM.
                      save_pretrained (random float32-representable
                      weights stored as F64)
  vectors/lora/<case>/adapter_config.json,
                      adapter_model.safetensors        PeftModel.save_pretrained
                                                       (B != 0)
  vectors/lora/<case>/expected.safetensors  input_ids, attention_mask,
      labels (I64 [B, T]), logits F64 [B, T, V], loss F64 [1] (the model's
      own labels= loss) and grad.<adapter key> F64 (autograd).

The model is built by oracle_model.build() (transformers.LlamaForCausalLM,
eager attention, float64, peft.get_peft_model with lora_dropout=0) and run
with oracle_model.F64Casts active: HF's float32 casts (RMSNorm, rotary
angles and inv_freq, softmax, loss) become float64, so the values are
float64 truth (the DOUBLE=1 build checks them at 1e-9; unpatched HF
differs by ~1e-7).  The cases have LoRA scales other than 1 and 2, which a
hard-coded scale cannot pass:

  peft_r4_a6          r 4, alpha 6 (scale 1.5); q,v,o,gate,down; GQA 4/2;
                      untied; batch of 2, the second right-padded
  peft_rslora_r3_a5   rsLoRA r 3, alpha 5 (scale 5/sqrt(3) = 2.89); k,up
                      on layer 1 only; MQA, head_dim 6 != 16/4; tied;
                      llama3 rope scaling

Run (byte-identical output):
  OMP_NUM_THREADS=1 PYTHONHASHSEED=0 .oracle-env/bin/python vectors/gen/gen_lora_peft.py
"""
import os
import shutil
import sys
import tempfile

# MKL's Conditional Numerical Reproducibility: torch's float64 products take
# the same code path, so the same bits, on every x86-64 CPU (by default MKL
# picks kernels by CPU, which moved values by ~1e-15 between two machines
# and failed make regen-check); set before torch is imported.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_model as om  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lora")

CASES = [
    ("peft_r4_a6", {
        "layers": 2, "kv_heads": 2, "heads": 4, "head_dim": 4, "hidden": 16,
        "inter": 24, "vocab": 32, "theta": 10000.0, "eps": 1e-5,
        "tied": False, "r": 4, "alpha": 6, "rslora": False,
        "rope_scaling": None,
        "targets": ["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"],
        "layers_to_transform": None, "wseed": 1201},
     [[3, 17, 9, 25, 1, 30, 12, 7], [5, 22, 14, 8, 19, 0, 0, 0]],
     [[-100, -100, 9, 25, 1, 30, 12, 7], [-100, 22, 14, -100, 19, -100, -100, -100]],
     [[1] * 8, [1, 1, 1, 1, 1, 0, 0, 0]]),
    ("peft_rslora_r3_a5", {
        "layers": 2, "kv_heads": 1, "heads": 4, "head_dim": 6, "hidden": 16,
        "inter": 20, "vocab": 29, "theta": 500.0, "eps": 1e-6,
        "tied": True, "r": 3, "alpha": 5, "rslora": True,
        "rope_scaling": {"rope_type": "llama3", "factor": 4.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 16},
        "targets": ["k_proj", "up_proj"], "layers_to_transform": [1],
        "wseed": 1202},
     [[2, 11, 28, 4, 4, 19, 6, 23, 15, 0, 9, 27]],
     [[-100, 11, 28, -100, 4, 19, 6, 23, -100, 0, 9, 27]],
     [[1] * 12]),
]


def main():
    torch.set_num_threads(1)
    for name, c, ids, labels, mask in CASES:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="gen_lora_peft_")
        try:
            pm = om.build(c, True, os.path.join(tmp, "base"))
            pm.save_pretrained(os.path.join(tmp, "adapter"), safe_serialization=True)
            for f in ("config.json", "model.safetensors"):
                shutil.copyfile(os.path.join(tmp, "base", f), os.path.join(d, f))
            for f in ("adapter_config.json", "adapter_model.safetensors"):
                shutil.copyfile(os.path.join(tmp, "adapter", f), os.path.join(d, f))
        finally:
            shutil.rmtree(tmp)
        ids_t, lab_t, mask_t = (torch.tensor(x, dtype=torch.int64)
                                for x in (ids, labels, mask))
        pm.zero_grad(set_to_none=True)
        with om.F64Casts():
            out = pm(input_ids=ids_t, attention_mask=mask_t, labels=lab_t)
            out.loss.backward()
        exp = {"input_ids": ids_t, "labels": lab_t, "attention_mask": mask_t,
               "logits": out.logits.detach().to(torch.float64).contiguous(),
               "loss": out.loss.detach().reshape(1).to(torch.float64)}
        for n, p in pm.named_parameters():
            if p.requires_grad:
                exp["grad." + n.replace(".default.", ".")] = \
                    p.grad.detach().to(torch.float64).contiguous()
        save_file(exp, os.path.join(d, "expected.safetensors"),
                  metadata={"generator": "vectors/gen/gen_lora_peft.py"})
        print("%s: loss %.17g, %d gradients" % (name, float(out.loss.detach()),
                                                 len(exp) - 5))


if __name__ == "__main__":
    main()
