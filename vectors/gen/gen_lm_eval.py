"""gen_lm_eval.py - MMLU and TruthfulQA as lm-evaluation-harness 0.4.13
defines them, from the harness's OWN task definitions (issue 12).

    HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/gen_lm_eval.py           # vectors
    HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/gen_lm_eval.py --check   # vs llamaref

The tasks are the harness's registered YAML configs, loaded through its
TaskManager: `mmlu_<subject>` (letter format), `mmlu_<subject>_continuation` (group mmlu_continuation),
`truthfulqa_mc1` and `truthfulqa_mc2` (with the harness's own
process_results_mc2).  The hub cannot be reached, so two of the task's own
hooks point it at the local files and nothing else is changed:
  * custom_dataset: reads $LLAMAREF_DATA/mmlu/{test,dev}/<subject>_*.csv with
    Python's csv module (every field a string, as in the hub dataset), or
    $LLAMAREF_DATA/truthfulqa/mc_task.json (each target object's keys in
    file order = the hub dataset's choices order);
  * process_docs: turns the local columns into the hub schema
    (MMLU: question, choices = [choice0..choice3], answer = int(answer);
    TruthfulQA: mc1_targets / mc2_targets = {"choices", "labels"}).
The requests are the Instances of task.build_all_requests() (context,
continuation); the picks are the task's process_results() on given
log-likelihoods (acc / acc_norm for MMLU; mc1 acc and the harness's mc2).

Default: writes vectors/eval/lm_eval_vectors.json for tests/eval/test_lm_eval.c:
  mmlu_requests  both formats, the first test question of every subject,
                 5-shot (and 0-shot for 3 subjects): context, continuations
  tqa_requests   the first 5 TruthfulQA questions: context, mc1 / mc2
                 continuations
  mmlu_picks     seeded log-likelihoods for 4 choices, many of them
                 non-ASCII (accents, Cyrillic, CJK, emoji, combining marks):
                 the harness's pred (acc) and pred_norm (acc_norm) found by
                 running process_results with each choice as the gold one;
                 pred_bytes (the harness's acc_bytes) is recorded to show
                 that many cases tell characters from bytes
  tqa_scores     seeded log-likelihoods: the harness's mc1 acc and mc2
Running it again reproduces the file byte for byte (seeded, no clocks).

--check: every MMLU test question of every subject (5-shot and 0-shot, both
formats) and every TruthfulQA question, compared byte for byte with
`llamaref eval mmlu|truthfulqa --requests`; ends with "N passed, N failed".
"""
import argparse
import csv
import json
import logging
import os
import random
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import datasets  # noqa: E402
import numpy as np  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402
from lm_eval.tasks._yaml_loader import load_yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.environ.get("LLAMAREF_DATA", os.path.join(ROOT, "..", "shared", "data"))
OUT = os.path.join(ROOT, "vectors", "eval", "lm_eval_vectors.json")

datasets.disable_progress_bars()
datasets.logging.set_verbosity_error()
logging.getLogger("lm_eval").setLevel(logging.ERROR)
logging.getLogger("lm-eval").setLevel(logging.ERROR)

_TM = None


def task_manager():
    global _TM
    if _TM is None:
        _TM = TaskManager()
    return _TM


# ------------------------------------------------------------ local data hooks

def read_mmlu_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def mmlu_custom_dataset(**kw):
    s = kw["subject"]
    return datasets.DatasetDict({
        "test": datasets.Dataset.from_list(read_mmlu_csv(os.path.join(DATA, "mmlu", "test", s + "_test.csv"))),
        "dev": datasets.Dataset.from_list(read_mmlu_csv(os.path.join(DATA, "mmlu", "dev", s + "_dev.csv"))),
    })


def mmlu_process_docs(ds):
    def one(d):
        return {"question": d["question"],
                "choices": [d["choice0"], d["choice1"], d["choice2"], d["choice3"]],
                "answer": int(d["answer"])}
    return ds.map(one, remove_columns=ds.column_names)


def tqa_custom_dataset(**kw):
    with open(os.path.join(DATA, "truthfulqa", "mc_task.json"), encoding="utf-8") as f:
        items = json.load(f)
    rows = []
    for it in items:
        row = {"question": it["question"]}
        for k in ("mc1", "mc2"):
            t = it[k + "_targets"]
            row[k + "_choices"] = list(t.keys())
            row[k + "_labels"] = [int(v) for v in t.values()]
        rows.append(row)
    return datasets.DatasetDict({"validation": datasets.Dataset.from_list(rows)})


def tqa_process_docs(ds):
    def one(d):
        return {"question": d["question"],
                "mc1_targets": {"choices": d["mc1_choices"], "labels": d["mc1_labels"]},
                "mc2_targets": {"choices": d["mc2_choices"], "labels": d["mc2_labels"]}}
    return ds.map(one, remove_columns=ds.column_names)


def load_task(name, **overrides):
    """The harness's registered task `name` (its YAML, includes resolved),
    with only the given keys overridden."""
    tm = task_manager()
    entry = tm._entry(name)
    if entry is None or not entry.yaml_path:
        sys.exit("gen_lm_eval: lm_eval has no task %s" % name)
    cfg = dict(load_yaml(entry.yaml_path, resolve_func=True))
    cfg.pop("tag", None)
    cfg.update(overrides)
    r = tm.load([cfg])
    return r["tasks"][name]


def mmlu_task(fmt, subject, shots, metrics=None):
    name = "mmlu_" + subject + ("" if fmt == "letter" else "_continuation")
    over = {"custom_dataset": mmlu_custom_dataset, "process_docs": mmlu_process_docs,
            "num_fewshot": shots, "metadata": {"subject": subject}}
    if metrics:
        over["metric_list"] = [{"metric": m, "aggregation": "mean", "higher_is_better": True}
                               for m in metrics]
    return load_task(name, **over)


def tqa_task(which):
    return load_task("truthfulqa_" + which, custom_dataset=tqa_custom_dataset,
                     process_docs=tqa_process_docs, metadata={})


def requests_of(task, limit=None):
    """{doc_id: (context, [continuations])} from the task's Instances."""
    task.build_all_requests(limit=limit, rank=0, world_size=1)
    out = {}
    for inst in sorted(task.instances, key=lambda i: (i.doc_id, i.idx)):
        ctx, cont = inst.arguments
        c = out.setdefault(inst.doc_id, [ctx, []])
        if c[0] != ctx:
            sys.exit("gen_lm_eval: %s doc %d has two contexts" % (task.config.task, inst.doc_id))
        c[1].append(cont)
    return out


def subjects():
    return sorted(f[: -len("_test.csv")] for f in os.listdir(os.path.join(DATA, "mmlu", "test"))
                  if f.endswith("_test.csv"))


# ------------------------------------------------------------ picks

def rnd_choice_text(r):
    pools = ["abcdefghij klmnop", "éèàçüößñø ", "абвгдеёжзий ", "日本語中文字漢", "😀👍🏽🇫🇷❤️",
             "e\u0301a\u0308o\u0302", "αβγδεζηθ", "0123456789.,", "ﬁﬂß"]
    s = "".join(r.choice(r.choice(pools)) for _ in range(r.randint(1, 12))).strip()
    return s or "x"


def mmlu_picks(seed=12, n_discriminating=40, n_other=40):
    """Seeded cases; pred / pred_norm from the harness's process_results."""
    r = random.Random(seed)
    letter = mmlu_task("letter", "abstract_algebra", 0, ["acc", "acc_norm", "acc_bytes"])
    cont = mmlu_task("continuation", "abstract_algebra", 0, ["acc", "acc_norm", "acc_bytes"])
    cases = []
    n_disc = n_oth = 0
    while n_disc < n_discriminating or n_oth < n_other:
        choices = [rnd_choice_text(r) for _ in range(4)]
        if r.random() < 0.5:
            lls = [round(-r.uniform(0.5, 30.0), 3) for _ in range(4)]
        else:  # lengths proportional: ll near -k * len(bytes or chars)
            k = r.uniform(0.5, 3.0)
            lls = [round(-k * (len(c.encode()) if r.random() < 0.5 else len(c)) * r.uniform(0.8, 1.2), 3)
                   for c in choices]
        if r.random() < 0.1:
            lls[2] = lls[0]  # a tie: first wins
        fmt = "continuation" if r.random() < 0.85 else "letter"
        task = cont if fmt == "continuation" else letter
        doc = {"question": "q", "choices": choices, "answer": 0}
        res = [(ll, False) for ll in lls]
        pick = {}
        for key in ("acc", "acc_norm", "acc_bytes"):
            golds = [g for g in range(4) if task.process_results(dict(doc, answer=g), res)[key] == 1.0]
            assert len(golds) == 1, (key, golds)
            pick[key] = golds[0]
        disc = pick["acc_norm"] != pick["acc_bytes"]
        if disc and n_disc >= n_discriminating or not disc and n_oth >= n_other:
            continue
        n_disc += disc
        n_oth += not disc
        cases.append({"format": fmt, "choices": choices, "ll": lls, "pred": pick["acc"],
                      "pred_norm": pick["acc_norm"], "pred_bytes": pick["acc_bytes"]})
    return cases


def tqa_scores(seed=13, n=40):
    r = random.Random(seed)
    t1, t2 = tqa_task("mc1"), tqa_task("mc2")
    cases = []
    for i in range(n):
        n1, n2 = r.randint(2, 8), r.randint(2, 10)
        ll1 = [round(-r.uniform(0.1, 40.0), 4) for _ in range(n1)]
        ll2 = [round(-r.uniform(0.1, 40.0), 4) for _ in range(n2)]
        if i % 5 == 0:
            ll1[1] = ll1[0]  # a tie with the correct answer: argmax takes the first
        labels = [1] * r.randint(1, n2 - 1)
        labels += [0] * (n2 - len(labels))
        doc = {"question": "q",
               "mc1_targets": {"choices": ["c%d" % k for k in range(n1)], "labels": [1] + [0] * (n1 - 1)},
               "mc2_targets": {"choices": ["c%d" % k for k in range(n2)], "labels": labels}}
        mc1 = t1.process_results(doc, [(x, False) for x in ll1])["acc"]
        mc2 = float(t2.process_results(doc, [(x, False) for x in ll2])["acc"])
        cases.append({"mc1_ll": ll1, "mc1": mc1, "mc2_ll": ll2, "mc2_labels": labels, "mc2": mc2})
    return cases


# ------------------------------------------------------------ vectors / check

def write_vectors():
    mmlu = []
    subs = subjects()
    for s in subs:
        for fmt in ("letter", "continuation"):
            for shots in ((5, 0) if s in ("abstract_algebra", "high_school_european_history", "virology")
                          else (5,)):
                req = requests_of(mmlu_task(fmt, s, shots), limit=1)
                ctx, conts = req[0]
                mmlu.append({"subject": s, "format": fmt, "shots": shots, "doc_id": 0,
                             "context": ctx, "continuations": conts})
    tqa = []
    r1 = requests_of(tqa_task("mc1"), limit=5)
    r2 = requests_of(tqa_task("mc2"), limit=5)
    for d in sorted(r1):
        assert r1[d][0] == r2[d][0]
        tqa.append({"doc_id": d, "context": r1[d][0], "mc1": r1[d][1], "mc2": r2[d][1]})
    picks = mmlu_picks()
    doc = {
        "generator": "vectors/gen/gen_lm_eval.py (lm_eval 0.4.13's own mmlu, mmlu_continuation, "
                     "truthfulqa_mc1/mc2 tasks over the local data files)",
        "mmlu_requests": mmlu,
        "tqa_requests": tqa,
        "mmlu_picks": picks,
        "tqa_scores": tqa_scores(),
    }
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("gen_lm_eval: %d MMLU requests, %d TruthfulQA requests, %d MMLU picks (%d where acc_norm by "
          "characters and by bytes differ), %d TruthfulQA scores -> %s"
          % (len(mmlu), len(tqa), len(picks), sum(p["pred_norm"] != p["pred_bytes"] for p in picks),
             len(doc["tqa_scores"]), os.path.relpath(OUT, ROOT)))


def llamaref_requests(bin_, args):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "req.jsonl")
        p = subprocess.run([bin_, "eval"] + args + ["--requests", out], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode:
            sys.exit("gen_lm_eval: llamaref eval %s failed: %s" % (" ".join(args), p.stderr.decode()))
        with open(out, encoding="utf-8") as f:
            return [json.loads(x) for x in f]


def check(bin_, limit):
    passed = failed = 0

    def compare(label, ours, theirs):
        nonlocal passed, failed
        if ours == theirs:
            passed += 1
            return
        failed += 1
        if failed <= 10:
            oc, tc = ours[0], theirs[0]
            k = next((i for i in range(min(len(oc), len(tc))) if oc[i] != tc[i]), min(len(oc), len(tc)))
            print("FAIL: %s: context differs at character %d: llamaref %r lm_eval %r; continuations "
                  "llamaref %r lm_eval %r" % (label, k, oc[k:k + 40], tc[k:k + 40], ours[1], theirs[1]))

    n_mmlu = 0
    for fmt in ("letter", "continuation"):
        for shots in (5, 0):
            args = ["mmlu", "--data", os.path.join(DATA, "mmlu"), "--format", fmt, "--shots", str(shots)]
            if limit is not None:
                args += ["--limit", str(limit)]
            ours = {}
            for x in llamaref_requests(bin_, args):
                ours[(x["subject"], x["doc_id"])] = (x["context"], x["continuations"])
            for s in subjects():
                theirs = requests_of(mmlu_task(fmt, s, shots), limit=limit)
                for d, v in theirs.items():
                    compare("mmlu %s %d-shot %s doc %d" % (fmt, shots, s, d), ours.pop((s, d), ("", [])),
                            (v[0], v[1]))
                    n_mmlu += 1
            for k in ours:
                compare("mmlu %s %d-shot %s doc %d (llamaref only)" % (fmt, shots, k[0], k[1]), ours[k], ("", []))
            print("lm_eval: mmlu %-12s %d-shot: %d requests compared so far" % (fmt, shots, n_mmlu))
    args = ["truthfulqa", "--data", os.path.join(DATA, "truthfulqa", "mc_task.json")]
    if limit is not None:
        args += ["--limit", str(limit)]
    ours = llamaref_requests(bin_, args)
    r1 = requests_of(tqa_task("mc1"), limit=limit)
    r2 = requests_of(tqa_task("mc2"), limit=limit)
    if len(ours) != len(r1):
        failed += 1
        print("FAIL: truthfulqa: llamaref %d questions, lm_eval %d" % (len(ours), len(r1)))
    for x in ours:
        d = x["doc_id"]
        compare("truthfulqa_mc1 doc %d" % d, (x["context"], x["mc1"]), tuple(r1.get(d, ("", []))))
        compare("truthfulqa_mc2 doc %d" % d, (x["context"], x["mc2"]), tuple(r2.get(d, ("", []))))
    print("lm_eval: %d MMLU questions (2 formats x 5/0 shots) and %d TruthfulQA questions (mc1, mc2): "
          "%d identical, %d differ" % (n_mmlu, len(ours), passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare with llamaref eval --requests")
    ap.add_argument("--limit", type=int, default=None, help="--check: questions per subject")
    ap.add_argument("--llamaref", default=os.path.join(ROOT, "llamaref"))
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if check(a.llamaref, a.limit) else 1)
    write_vectors()


if __name__ == "__main__":
    main()
