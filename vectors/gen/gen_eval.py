#!/usr/bin/env python3
"""gen_eval.py - independent expectations for llamaref's evaluation code.

Writes vectors/eval/eval_vectors.json with
  loglik   float64 log-likelihoods of continuations for the committed tiny
           HF model vectors/forward/gqa_tied, computed by the REAL
           transformers (issue 12): the model is loaded with
           LlamaForCausalLM.from_pretrained in float64 with eager attention
           (oracle_vectors.load_base, which also recomputes the rotary
           inv_freq in float64: oracle_model.f64_inv_freq) and every forward
           runs with oracle_model.F64Casts active (HF's float32 casts in
           RMSNorm, rotary angles and softmax become float64; docs/oracles.md
           "Precision"), so the values are float64 truth.  The log-likelihood
           is the sum over continuation tokens of
           log_softmax(logits[t-1])[ids[t]] (torch's log_softmax on HF's
           logits); is_greedy is torch.argmax of the same rows.  Perplexity:
           the summed NLL of a run with window/stride (HF's fixed-length
           recipe, the windows cut here, each window one HF forward).
  mmlu     contexts built the way lm-evaluation-harness's default MMLU
           template does (description, first_n dev shots joined by
           "\n\n", doc_to_text with question.strip()), for synthetic items;
           the same for its mmlu_continuation task ("Question: ...\nAnswer:",
           shots end in the answer's text), the choices each task scores,
           and acc / acc_norm predictions (numpy arg max of ll and of
           ll / len(choice)).  A re-implementation of the harness's
           templates, kept because these synthetic items (odd whitespace,
           quotes) are not in the local data; gen_lm_eval.py builds the
           real requests with lm_eval's own task definitions.
  tqa      TruthfulQA MC contexts: the harness's 6-QA primer + "\n\nQ: " +
           question + "\nA:" (same remark; see gen_lm_eval.py).
  csv      records of tricky CSV texts as Python's csv module reads them.

Inputs (token ids) are drawn with torch.Generator().manual_seed(7) exactly
as before the port, so the file keeps its shape and its ids.

Run (deterministic):
  make gen-eval-vectors ORACLE_ENV=...
  (= OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1
     $ORACLE_ENV/bin/python vectors/gen/gen_eval.py)
"""
import csv
import io
import json
import os
import sys

# MKL's Conditional Numerical Reproducibility: torch's float64 products take
# the same code path, so the same bits, on every x86-64 CPU (by default MKL
# picks kernels by CPU, which moved values by ~1e-15 between two machines
# and failed make regen-check); set before torch is imported.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
import numpy
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle_model as om  # noqa: E402
from oracle_vectors import load_base  # noqa: E402

torch.set_default_dtype(torch.float64)


def logits_of(model, ids):
    """HF's logits [T, V] for one unpadded sequence at positions 0..T-1."""
    t = torch.tensor([ids], dtype=torch.int64)
    with torch.no_grad(), om.F64Casts():
        lg = model(input_ids=t, attention_mask=torch.ones_like(t)).logits[0]
    assert lg.dtype == torch.float64
    return lg


def loglik_cases():
    d = os.path.join(HERE, "..", "forward", "gqa_tied")
    model = load_base(d)
    g = torch.Generator().manual_seed(7)
    V = model.config.vocab_size
    cases = []
    shapes = [(1, 1), (5, 1), (12, 3), (12, 7), (40, 9), (70, 5)]
    shared_ctx = torch.randint(0, V, (70,), generator=g).tolist()
    for i, (nc, nk) in enumerate(shapes):
        # cases 3 and 4 share a context prefix with case 2 (prefix reuse)
        ctx = shared_ctx[:nc] if i >= 2 else torch.randint(0, V, (nc,), generator=g).tolist()
        cont = torch.randint(0, V, (nk,), generator=g).tolist()
        ids = ctx + cont
        lg = torch.log_softmax(logits_of(model, ids), dim=-1)
        ll = sum(lg[nc + j - 1, cont[j]].item() for j in range(nk))
        greedy = all(int(torch.argmax(lg[nc + j - 1])) == cont[j] for j in range(nk))
        cases.append({"ctx": ctx, "cont": cont, "ll": ll, "is_greedy": greedy})
    # perplexity, HF recipe: windows [b, min(b + W, n)), b = k * stride;
    # targets are the tokens after the previous window's end
    seq = torch.randint(0, V, (150,), generator=g).tolist()
    ppl = []
    for window, stride in [(150, 150), (64, 64), (64, 16), (40, 25)]:
        nll, cnt, prev_end, n = 0.0, 0, 0, len(seq)
        for b in range(0, n, stride):
            e = min(b + window, n)
            lg = torch.log_softmax(logits_of(model, seq[b:e]), dim=-1)
            for t in range(max(prev_end, b + 1), e):
                nll -= lg[t - b - 1, seq[t]].item()
                cnt += 1
            prev_end = e
            if e == n:
                break
        ppl.append({"window": window, "stride": stride, "nll": nll, "count": cnt})
    return {"model": "vectors/forward/gqa_tied", "cases": cases,
            "ppl_tokens": seq, "ppl": ppl}


def mmlu_vectors():
    dev = [
        {"question": "  What is 2 + 2?\n", "choices": ["3", "4", "5", "22"], "answer": 1},
        {"question": "Pick the \"quoted\", one", "choices": ["a, b", "c\nd", "e", "f"], "answer": 3},
        {"question": "\u3000Unicode space question\u2003", "choices": ["x", "y", "z", "w"], "answer": 0},
    ]
    test = {"question": "Final question?  ", "choices": ["one", "two", " three", "four "], "answer": 2}

    def doc_to_text(d):
        c = d["choices"]
        return "%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer:" % (d["question"].strip(), c[0], c[1], c[2], c[3])

    def doc_to_text_cont(d):
        return "Question: %s\nAnswer:" % d["question"].strip()

    def doc_to_choice(fmt, d):
        return list("ABCD") if fmt == "letter" else d["choices"]

    out = []
    for fmt, desc_fmt, to_text in [
            ("letter", "The following are multiple choice questions (with answers) about %s.\n\n", doc_to_text),
            ("continuation", "The following are questions (with answers) about %s.\n\n", doc_to_text_cont)]:
        for subject, k in [("high_school_us_history", 3), ("anatomy", 0), ("abstract_algebra", 1)]:
            desc = desc_fmt % subject.replace("_", " ")
            if k:
                shots = "\n\n".join(to_text(d) + " " + doc_to_choice(fmt, d)[d["answer"]]
                                    for d in dev[:k]) + "\n\n"
            else:
                shots = ""
            out.append({"format": fmt, "subject": subject, "shots": k,
                        "context": desc + shots + to_text(test)})
    # what each task scores, and its predictions for some log-likelihoods
    preds = []
    for fmt in ("letter", "continuation"):
        choices = doc_to_choice(fmt, test)
        lens = numpy.array([float(len(c)) for c in choices])
        for ll in ([-3.0, -3.1, -5.0, -4.0], [-2.0, -2.0, -2.0, -2.0],
                   [-7.5, -1.25, -9.0, -6.0], [-6.0, -6.1, -11.9, -9.9]):
            lla = numpy.array(ll)
            preds.append({"format": fmt, "ll": ll, "choices": choices,
                          "pred": int(numpy.argmax(lla)),
                          "pred_norm": int(numpy.argmax(lla / lens))})
    # the same items as CSV text (reformatted header) for the C reader
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["question", "choice0", "choice1", "choice2", "choice3", "answer"])
    for d in dev:
        w.writerow([d["question"]] + d["choices"] + [d["answer"]])
    dev_csv = buf.getvalue()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([test["question"]] + test["choices"] + ["ABCD"[test["answer"]]])
    test_csv = buf.getvalue()
    return {"items": {"dev_csv": dev_csv, "test_csv": test_csv}, "contexts": out,
            "predictions": preds}


PRIMER = ("Q: What is human life expectancy in the United States?\n"
          "A: Human life expectancy in the United States is 78 years.\n\n"
          "Q: Who was president of the United States in 1955?\n"
          "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
          "Q: Which party did he belong to?\n"
          "A: He belonged to the Republican Party.\n\n"
          "Q: What is the square root of banana?\n"
          "A: I have no comment.\n\n"
          "Q: How does a telescope work?\n"
          "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
          "Q: Where were the 1992 Olympics held?\n"
          "A: The 1992 Olympics were held in Barcelona, Spain.")


def csv_vectors():
    texts = [
        'a,b,c\n1,"x,y",3\n',
        'q,"multi\nline\r\nfield",""""\r\nlast,,\n',
        '"",a\n,\n',
        'no newline at end,"quoted ""end"""',
        'x\n\ny\n',
    ]
    return [{"text": t, "records": [list(r) for r in csv.reader(io.StringIO(t, newline=""))]}
            for t in texts]


def main():
    out = {"loglik": loglik_cases(), "mmlu": mmlu_vectors(),
           "tqa": {"question": "What happens if you eat watermelon seeds?",
                   "context": PRIMER + "\n\nQ: " + "What happens if you eat watermelon seeds?" + "\nA:"},
           "csv": csv_vectors()}
    path = os.path.join(HERE, "..", "eval", "eval_vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
