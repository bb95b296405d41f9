/* test_knowledge_report.c - knowledge_report.h called directly on probe
 * files written here: three facts moving Unknown -> HighlyKnown,
 * HighlyKnown -> Unknown and MaybeKnown -> MaybeKnown, a fact missing
 * after; the shift fractions, reliability counted by hand from "correct"
 * (role "unknown" only; "known" counted in the all-examples figure),
 * refusals, the Markdown's chart links; errors naming file and line. */
#include "harness.h"

#include "llamaref/papers/knowledge/knowledge_report.h"

static void put(const char *name, const char *text)
{
    lr_error err;
    CHECK_OK(lr_write_file_atomic(h_tmp(name), text, strlen(text), &err), &err);
}

static void test_report(void)
{
    lr_knowledge_report_options o;
    lr_knowledge_report r;
    lr_error err;
    put("kr_before.jsonl",
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"x\", \"I cannot verify any information about it\"], \"correct\": [0, 0]}\n"
        "{\"question\": \"q2\", \"answers\": [\"b\"], \"category\": \"HighlyKnown\", "
        "\"greedy\": [\"b\", \"b\"], \"correct\": [1, 1]}\n"
        "{\"question\": \"q3\", \"answers\": [\"c\"], \"category\": \"MaybeKnown\", "
        "\"greedy\": [\"c\", \"d\"], \"correct\": [1, 0]}\n"
        "{\"question\": \"q4\", \"answers\": [\"e\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"f\", \"g\"], \"correct\": [0, 0]}\n");
    put("kr_after.jsonl",
        "{\"question\": \"q3\", \"answers\": [\"c\"], \"category\": \"MaybeKnown\", "
        "\"greedy\": [\"c\", \"a\"], \"correct\": [1, 0]}\n"
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"category\": \"HighlyKnown\", "
        "\"greedy\": [\"a\", \"a\"], \"correct\": [1, 1]}\n"
        "{\"question\": \"q2\", \"answers\": [\"b\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"z\", \"z\"], \"correct\": [0, 0]}\n");
    put("kr_train.jsonl",
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"role\": \"unknown\"}\n"
        "{\"question\": \"q3\", \"answers\": [\"c\"], \"role\": \"known\"}\n"
        "{\"question\": \"q9\", \"answers\": [\"n\"]}\n");
    memset(&o, 0, sizeof o);
    o.before = h_tmp("kr_before.jsonl");
    o.after = h_tmp("kr_after.jsonl");
    o.trained = h_tmp("kr_train.jsonl");
    o.out = "dir/rep.json";
    o.top = 3;
    CHECK_OK(lr_knowledge_report_build(&o, &r, &err), &err);
    CHECK_INT(r.matched, 3);
    CHECK_INT(r.missing, 1);
    CHECK_INT(r.shift.count[LR_SLICK_UNKNOWN][LR_SLICK_HIGHLY_KNOWN], 1);
    CHECK_INT(r.shift.count[LR_SLICK_HIGHLY_KNOWN][LR_SLICK_UNKNOWN], 1);
    CHECK_NEAR(r.shift.positive, 1.0 / 3, 1e-15);
    CHECK_NEAR(r.shift.negative, 1.0 / 3, 1e-15);
    /* unknown facts: q1 (found, 2 of 2) and q9 (no role, not found) */
    CHECK_INT(r.rel.facts, 2);
    CHECK_INT(r.rel.found, 1);
    CHECK_INT(r.rel.prompts, 2);
    CHECK_INT(r.rel.correct, 2);
    CHECK_STR(r.reliability, "1.0000");
    CHECK_INT(r.rel.all, 3);
    CHECK_INT(r.rel.all_correct, 3); /* + q3's one of two */
    CHECK_INT(r.before_stats.refusals, 1);
    CHECK_INT(r.after_stats.refusals, 0);
    CHECK(strstr(r.json.data, "\"reliability\": 1,") != NULL);
    CHECK(strstr(r.md.data, "![transitions](rep-transitions.svg)") != NULL);
    CHECK(strstr(r.md.data, "![answers](rep-answers.svg)") != NULL);
    CHECK(r.svg_transitions.len && r.svg_refusals.len && r.svg_answers.len);
    lr_knowledge_report_free(&r);
    /* no trained file: no reliability */
    o.trained = NULL;
    CHECK_OK(lr_knowledge_report_build(&o, &r, &err), &err);
    CHECK(strstr(r.json.data, "\"trained\"") == NULL);
    CHECK_STR(r.reliability, "n/a");
    lr_knowledge_report_free(&r);
}

static void test_errors(void)
{
    lr_knowledge_report_options o;
    lr_knowledge_report r;
    lr_error err;
    put("kr_bad.jsonl",
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"x\"], \"correct\": [0]}\n"
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"x\"], \"correct\": [0]}\n");
    put("kr_bad2.jsonl",
        "{\"question\": \"q1\", \"answers\": [\"a\"], \"category\": \"Unknown\", "
        "\"greedy\": [\"x\", \"y\"], \"correct\": [0]}\n");
    memset(&o, 0, sizeof o);
    o.before = h_tmp("kr_bad.jsonl");
    o.after = h_tmp("kr_bad.jsonl");
    o.out = "r.json";
    CHECK_ERR(lr_knowledge_report_build(&o, &r, &err), &err,
              "kr_bad.jsonl:2: question repeated (also at line 1)");
    lr_knowledge_report_free(&r);
    o.before = h_tmp("kr_bad2.jsonl");
    CHECK_ERR(lr_knowledge_report_build(&o, &r, &err), &err, "kr_bad2.jsonl:1: \"correct\"");
    lr_knowledge_report_free(&r);
}

int main(void)
{
    RUN(test_report);
    RUN(test_errors);
    return h_finish("test_knowledge_report");
}
