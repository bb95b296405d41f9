"""oracle_smollm2_eval.py - MMLU and TruthfulQA log-likelihoods of SmolLM2
against lm-evaluation-harness driving transformers (issue 21).

A maintainer tool: run it with the oracle environment,

    HF_HUB_OFFLINE=1 /work/oracle-env/bin/python vectors/gen/oracle_smollm2_eval.py \
        --gguf data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --llamaref ./llamaref \
        --work build/oracle_smollm2_eval [--subjects a,b] [--mmlu-limit 3] [--tqa-limit 3]

On one side `llamaref eval mmlu` (5-shot, letter format) and `llamaref eval
truthfulqa` write their per-question log-likelihoods (`--items`).  On the
other side lm-evaluation-harness 0.4.13 does everything it does for a
Hugging Face model: its registered tasks (`mmlu_<subject>`,
`truthfulqa_mc1`, `truthfulqa_mc2`, loaded as vectors/gen/gen_lm_eval.py
loads them, from the local files) build the requests, its `HFLM` model
class splits context and continuation (`_encode_pair`) and computes the
log-likelihoods (`loglikelihood`), and the task's `process_results` scores
each question.  The model is transformers loading the same GGUF in float64
(`oracle_smollm2.load_hf`: the weights gguf-py dequantises); the one part
replaced is `HFLM.tok_encode`, which calls `llamaref tokenize` (SmolLM2's
own pre-tokenizer; transformers' converted GGUF tokenizer may differ, see
issue 21; how many requests it would tokenise differently is reported).

Compared per choice: |ll_llamaref - ll_hf| (absolute and relative to
|ll_hf|), and per question: the harness's picks (acc, acc_norm; MC1, MC2)
from the HF log-likelihoods against llamaref's.  Exit status 1 when any
log-likelihood differs by more than --tol (relative, default 1e-4: float32
arithmetic over 30 layers) or any pick differs.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--llamaref", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--subjects", default="astronomy,high_school_geography,nutrition,world_religions")
    ap.add_argument("--mmlu-limit", type=int, default=3)
    ap.add_argument("--tqa-limit", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.makedirs(a.work, exist_ok=True)
    import gen_lm_eval as gle  # lm_eval's tasks on the local data
    import oracle_smollm2 as osm
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoTokenizer

    data = gle.DATA
    subjects = a.subjects.split(",")

    # ---- llamaref's side
    mm_items = os.path.join(a.work, "mmlu_items.jsonl")
    tq_items = os.path.join(a.work, "tqa_items.jsonl")
    run([a.llamaref, "eval", "mmlu", "-m", a.gguf, "--data", os.path.join(data, "mmlu"),
         "--subjects", a.subjects, "--limit", str(a.mmlu_limit), "--items", mm_items])
    run([a.llamaref, "eval", "truthfulqa", "-m", a.gguf, "--data",
         os.path.join(data, "truthfulqa", "mc_task.json"), "--limit", str(a.tqa_limit),
         "--items", tq_items])
    ours_mm = {}
    for line in open(mm_items, encoding="utf-8"):
        r = json.loads(line)  # in document order per subject ("line" is the
        # CSV line, not the index: quoted fields may span lines)
        ours_mm[(r["subject"], sum(1 for k in ours_mm if k[0] == r["subject"]))] = r
    ours_tq = {json.loads(x)["index"]: json.loads(x) for x in open(tq_items, encoding="utf-8")}

    # ---- the harness's side
    cache = {}

    def llamaref_ids(text):
        if text not in cache:
            out = run([a.llamaref, "tokenize", "--tokenizer", a.gguf, "--text", text]).stdout
            cache[text] = [int(t) for t in out.split()]
        return cache[text]

    class LlamarefTokHFLM(HFLM):
        def tok_encode(self, string, add_special_tokens=None, left_truncate_len=None, **kw):
            enc = list(llamaref_ids(string))
            if left_truncate_len:
                enc = enc[-left_truncate_len:]
            return enc

    model = osm.load_hf(a.gguf, False)
    d, f = os.path.split(os.path.abspath(a.gguf))
    hf_tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    lm = LlamarefTokHFLM(pretrained=model, tokenizer=hf_tok, batch_size=1, max_length=2048,
                         device="cpu", logits_cache=True)

    worst_abs = worst_rel = 0.0
    n_ll = n_q = pick_diff = ll_fail = tok_diff = n_req = q_fail = 0
    acc_h = {}
    acc_o = {}

    def score(task, limit, ours_of, key_ll, picks):
        nonlocal worst_abs, worst_rel, n_ll, n_q, pick_diff, ll_fail, tok_diff, n_req, q_fail
        task.build_all_requests(limit=limit, rank=0, world_size=1)
        insts = sorted(task.instances, key=lambda i: (i.doc_id, i.idx))
        with torch.no_grad():
            res = lm.loglikelihood(insts, disable_tqdm=True)
        by_doc = {}
        for inst, r in zip(insts, res):
            by_doc.setdefault(inst.doc_id, (inst.doc, []))[1].append(r)
            ctx, cont = inst.arguments
            n_req += 1
            if hf_tok.encode(ctx + cont, add_special_tokens=False) != llamaref_ids(ctx + cont):
                tok_diff += 1
        name = task.config.task
        for doc_id, (doc, rs) in sorted(by_doc.items()):
            ours = ours_of(doc_id)
            ll_o = ours[key_ll]
            ll_h = [float(x[0]) for x in rs]
            if len(ll_o) != len(ll_h):
                print(f"{name} doc {doc_id}: {len(ll_o)} choices here, {len(ll_h)} in the harness")
                pick_diff += 1
                q_fail += 1
                continue
            bad = pick_diff + ll_fail
            for x, y in zip(ll_o, ll_h):
                e = abs(x - y)
                worst_abs = max(worst_abs, e)
                worst_rel = max(worst_rel, e / max(abs(y), 1e-30))
                n_ll += 1
                if e > a.tol * max(abs(y), 1.0):
                    ll_fail += 1
            pr = task.process_results(doc, [(y, False) for y in ll_h])
            n_q += 1
            line = f"{name:36} doc {doc_id:3d}  max|dll| {max(abs(x - y) for x, y in zip(ll_o, ll_h)):.2e}"
            po = task.process_results(doc, [(x, False) for x in ll_o])
            for hk, ok, conv, tol in picks:
                h = float(pr[hk])
                o = conv(ours)
                # llamaref's score of its own log-likelihoods is the harness's
                if abs(float(po[hk]) - o) > 1e-12 * max(1.0, abs(o)):
                    line += f"  [{hk}: harness on llamaref's ll {float(po[hk]):.6g}, llamaref {o:.6g}]"
                    pick_diff += 1
                acc_h.setdefault((name, hk), []).append(h)
                acc_o.setdefault((name, hk), []).append(o)
                same = abs(h - o) <= tol
                pick_diff += not same
                line += f"  {hk} {h:.4g}/{o:.4g}{'' if same else ' DIFFER'}"
            q_fail += pick_diff + ll_fail > bad
            print(line)

    for s in subjects:
        t = gle.mmlu_task("letter", s, 5, ["acc", "acc_norm"])
        score(t, a.mmlu_limit, lambda i, s=s: ours_mm[(s, i)], "ll",
              [("acc", "acc", lambda o: float(o["pred"] == o["gold"]), 0),
               ("acc_norm", "acc_norm", lambda o: float(o["pred_norm"] == o["gold"]), 0)])
    score(gle.tqa_task("mc1"), a.tqa_limit, lambda i: ours_tq[i], "mc1_ll",
          [("acc", "mc1", lambda o: float(o["mc1"]), 0)])
    score(gle.tqa_task("mc2"), a.tqa_limit, lambda i: ours_tq[i], "mc2_ll",
          [("acc", "mc2", lambda o: float(o["mc2"]), a.tol)])

    for (name, k), v in acc_h.items():
        o = acc_o[(name, k)]
        print(f"{name:36} {k:8} harness+HF {sum(v) / len(v):.4f}  llamaref {sum(o) / len(o):.4f}  ({len(v)} questions)")
    print(f"{n_ll} log-likelihoods of {n_q} questions: max |d| {worst_abs:.3e}, "
          f"max relative {worst_rel:.3e} (tolerance {a.tol:g} relative)")
    print(f"transformers' converted GGUF tokenizer differs from llamaref's on {tok_diff} of {n_req} requests")
    print(f"{n_q - q_fail} passed, {q_fail} failed")
    return 1 if q_fail else 0


if __name__ == "__main__":
    sys.exit(main())
