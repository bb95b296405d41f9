"""hf_dump.py - dump the Hugging Face transformers forward of a Llama
checkpoint with forward hooks on the real modules, for `llamaref verify
--names hf` (docs/verify.md).  A maintainer tool: run it with the oracle
environment (make oracle-env, then .oracle-env/bin/python).

    python vectors/gen/hf_dump.py --model DIR --ids "i0 i1 ..." --out F.safetensors
        [--pos0 P] [--dtype float32|float64|bfloat16]
        [--break-rope-layer N --break-rope-theta THETA]
        [--adapter DIR --labels "l0 l1 ..."] [--labels "..." --grads-only]

Tensors are written under the HF module path whose output (or ".input":
input) they are, shape [1, T, X]:
  model.embed_tokens, model.layers.N.input_layernorm,
  model.layers.N.self_attn.{q,k,v}_proj, .rotary.{q,k} (the outputs of
  apply_rotary_pos_emb, heads concatenated), .attn_weights ([1, H, T, T],
  eager attention), .o_proj.input, .o_proj,
  model.layers.N.post_attention_layernorm.input (the residual h),
  model.layers.N.post_attention_layernorm, model.layers.N.mlp.{gate,up}_proj,
  model.layers.N.mlp.down_proj.input, model.layers.N.mlp.down_proj,
  model.layers.N (the decoder layer's output), model.norm, lm_head;
plus input_ids and position_ids (I64).

With --adapter (a PEFT LoRA directory, dropout off) and --labels (HF
labels, -100 ignored) it also runs the backward of HF's loss and writes
loss [1], grad.<PEFT key> for every adapter tensor, and the gradient of
every hooked tensor that requires one as "d:<name>" ("d:model.layers.N"
is the gradient of layer N's output): `verify --names hf` maps them to
dlogits, dfinal_norm, dlayers.N.* (docs/tensors.md).

With --labels and no --adapter every parameter of the model requires a
gradient (full-parameter training): grad.<HF parameter name> for each
(a tied lm_head is torch's one shared parameter, model.embed_tokens.weight,
so its gradient is the sum of both uses), which `verify` compares with
`llamaref dump --full --labels` under the same names.  --grads-only
writes only loss, grad.*, input_ids, position_ids and labels (a small
float64 golden: vectors/verify/hf_gqa_tied_f64_full_grads.safetensors).

--break-rope-layer N --break-rope-theta THETA is a deliberate bug for the
walkthrough: layer N's RoPE uses rope_theta THETA (cos/sin recomputed the
way HF's default rotary embedding does), every other layer the config's.
"""
import argparse
import json
import os

import torch
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pos0", type=int, default=0)
    ap.add_argument("--dtype", default="float32",
                    choices=["float32", "float64", "bfloat16"])
    ap.add_argument("--break-rope-layer", type=int, default=-1)
    ap.add_argument("--break-rope-theta", type=float, default=None)
    ap.add_argument("--adapter", default=None)
    ap.add_argument("--labels", default=None)
    ap.add_argument("--grads-only", action="store_true")
    a = ap.parse_args()
    dtype = getattr(torch, a.dtype)
    torch.manual_seed(0)
    # config.json and model.safetensors read directly: from_pretrained
    # would follow an adapter_config.json in the same directory to its
    # base model on the Hub
    cfg = LlamaConfig.from_pretrained(a.model)
    cfg._attn_implementation = "eager"
    model = LlamaForCausalLM(cfg).to(dtype)
    missing, unexpected = model.load_state_dict(
        load_file(os.path.join(a.model, "model.safetensors")), strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"] or (
            missing and not cfg.tie_word_embeddings):
        raise SystemExit("%s: missing %s, unexpected %s" % (a.model, missing, unexpected))
    model.tie_weights()
    if a.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, a.adapter, is_trainable=True)
        for mod in model.modules():  # dropout off, as the reference's dump
            if isinstance(mod, torch.nn.Dropout):
                mod.p = 0.0
    model.eval()
    cfg = model.config
    train = a.labels is not None
    kept = {}
    ids = torch.tensor([[int(x) for x in a.ids.split()]], dtype=torch.long)
    T = ids.shape[1]
    pos = torch.arange(a.pos0, a.pos0 + T, dtype=torch.long)[None, :]
    out = {}
    cur = {"layer": -1}

    def save(name, t):
        if train and t.requires_grad:
            t.retain_grad()
            kept[name] = t
        out[name] = t.detach().to(torch.float32 if dtype != torch.float64
                                  else torch.float64).contiguous().clone()

    def hook_out(name):
        def h(mod, inp, outp):
            save(name, outp[0] if isinstance(outp, tuple) else outp)
        return h

    def hook_in(name):
        def h(mod, inp):
            save(name, inp[0])
        return h

    lm = model.base_model.model if a.adapter else model
    m = lm.model
    m.embed_tokens.register_forward_hook(hook_out("model.embed_tokens"))
    for n, layer in enumerate(m.layers):
        p = "model.layers.%d" % n
        layer.self_attn.register_forward_pre_hook(
            lambda mod, inp, n=n: cur.__setitem__("layer", n))
        layer.input_layernorm.register_forward_hook(hook_out(p + ".input_layernorm"))
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            getattr(layer.self_attn, proj).register_forward_hook(
                hook_out("%s.self_attn.%s" % (p, proj)))
        layer.self_attn.o_proj.register_forward_pre_hook(
            hook_in(p + ".self_attn.o_proj.input"))
        layer.post_attention_layernorm.register_forward_pre_hook(
            hook_in(p + ".post_attention_layernorm.input"))
        layer.post_attention_layernorm.register_forward_hook(
            hook_out(p + ".post_attention_layernorm"))
        for proj in ("gate_proj", "up_proj", "down_proj"):
            getattr(layer.mlp, proj).register_forward_hook(
                hook_out("%s.mlp.%s" % (p, proj)))
        layer.mlp.down_proj.register_forward_pre_hook(
            hook_in(p + ".mlp.down_proj.input"))
        layer.register_forward_hook(hook_out(p))
    m.norm.register_forward_hook(hook_out("model.norm"))
    lm.lm_head.register_forward_hook(hook_out("lm_head"))

    orig = modeling_llama.apply_rotary_pos_emb

    def rope(q, k, cos, sin, *args, **kw):
        n = cur["layer"]
        if n == a.break_rope_layer and a.break_rope_theta is not None:
            # layer n's cos/sin with another theta, computed as HF's default
            # rotary embedding does (inv_freq and the angle in float32)
            hd = q.shape[-1]
            inv = 1.0 / (a.break_rope_theta ** (
                torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
            fr = pos.float()[0][:, None] * inv[None, :]
            emb = torch.cat((fr, fr), dim=-1)
            cos = emb.cos()[None].to(q.dtype)
            sin = emb.sin()[None].to(q.dtype)
        qe, ke = orig(q, k, cos, sin, *args, **kw)
        B, H, TT, hd = qe.shape
        # a view in our layout; its gradient is the rotary output's
        qv = qe.transpose(1, 2).reshape(B, TT, H * hd)
        kv = ke.transpose(1, 2).reshape(B, TT, ke.shape[1] * hd)
        save("model.layers.%d.self_attn.rotary.q" % n, qv)
        save("model.layers.%d.self_attn.rotary.k" % n, kv)
        return (qv.reshape(B, TT, H, hd).transpose(1, 2),
                kv.reshape(B, TT, ke.shape[1], hd).transpose(1, 2))

    modeling_llama.apply_rotary_pos_emb = rope
    if train:
        labels = torch.tensor([[int(x) for x in a.labels.split()]])
        res = model(input_ids=ids, position_ids=pos, labels=labels,
                    output_attentions=True, use_cache=False)
        res.loss.backward()
        out["loss"] = res.loss.detach().reshape(1).to(out["lm_head"].dtype)
        for name, t in kept.items():
            if t.grad is not None:
                out["d:" + name] = t.grad.detach().to(out[name].dtype).contiguous().clone()
        for pname, p in model.named_parameters():
            if p.requires_grad and p.grad is not None:
                key = pname.replace(".default", "")
                out["grad." + key] = p.grad.detach().to(out["lm_head"].dtype).contiguous().clone()
    else:
        with torch.no_grad():
            res = model(input_ids=ids, position_ids=pos, output_attentions=True,
                        use_cache=False)
    modeling_llama.apply_rotary_pos_emb = orig
    for n, att in enumerate(res.attentions):
        out["model.layers.%d.self_attn.attn_weights" % n] = att.detach().to(
            out["lm_head"].dtype).contiguous().clone()
    if train:
        out["labels"] = labels
    out["input_ids"] = ids
    out["position_ids"] = pos
    if a.grads_only:
        if not train:
            raise SystemExit("--grads-only needs --labels")
        out = {k: v for k, v in out.items()
               if k in ("loss", "input_ids", "position_ids", "labels")
               or k.startswith("grad.")}
    meta = {"generator": "vectors/gen/hf_dump.py", "dtype": a.dtype,
            "transformers_config": json.dumps({"rope_theta": cfg.rope_theta})}
    if a.break_rope_layer >= 0:
        meta["deliberate_bug"] = "layer %d rope_theta %g" % (
            a.break_rope_layer, a.break_rope_theta)
    save_file(out, a.out, metadata=meta)


if __name__ == "__main__":
    main()
