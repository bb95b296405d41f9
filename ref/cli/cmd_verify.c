/* cmd_verify.c - `llamaref verify`: compare a candidate implementation's
 * tensor dump with golden truth tensor by tensor in computation order,
 * name the first divergence (ref/verify*.c, docs/verify.md).  Exit 0 when
 * everything is within tolerance, 1 on a divergence, 2 for unusable input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/core/common.h"
#include "llamaref/train/dump_file.h"
#include "llamaref/eval/verify.h"

static const char head[] =
"usage: llamaref verify --golden REF.safetensors --candidate THEIRS.safetensors\n"
"                       [--rtol R] [--atol A] [--compute f32|bf16|f16|f64]\n"
"                       [--names MAP.json] [--row R] [--json OUT.json]\n"
"       llamaref verify -m, --model PATH --ids \"i0 i1 ...\" [--pos0 P]\n"
"                       [--adapter DIR --labels \"l0 l1 ...\"]\n"
"                       --candidate THEIRS.safetensors [options above]\n"
"Compares every tensor present in both dumps (names: docs/tensors.md) in\n"
"computation order and names the first one beyond tolerance.  With\n"
"--model the golden is `llamaref dump --all` of this build (float64\n"
"truth in a DOUBLE=1 build; in the float build its own float32 error is\n"
"added to the default tolerances).\n";
static const char foot[] =
"Exit status: 0 pass, 1 a divergence, 2 unusable input (a usage error, or a\n"
"file that cannot be read).\n";

static int parse_compute(const char *opt, const char *v, void *dst)
{
    if (!lr_verify_compute_from_name(v, dst)) return 0;
    fprintf(stderr, "llamaref verify: %s '%s': expected f32, bf16, "
            "f16 or f64\n", opt, v);
    return -1;
}

/* The golden file (lr_dump_file_tmp, its path to tmp[cap]): what
 * `llamaref dump` writes for --model with --ids (every intermediate), or
 * with --labels the loss and gradients. */
static int run_dump(lr_dump_options *o, const char *ids, const char *labels,
                    char *tmp, size_t cap)
{
    lr_error err;
    int *id = NULL, *lab = NULL, T = 0, nl = 0, rc = 2;
    if (cli_ids("--ids", ids, &id, &T) ||
        (labels && cli_ids("--labels", labels, &lab, &nl)))
        goto done;
    if (labels && nl != T) {
        fprintf(stderr, "llamaref verify: --labels has %d values, --ids %d\n", nl, T);
        goto done;
    }
    o->ids = id;
    o->labels = lab;
    o->T = T;
    o->all = !labels;
    rc = 1;
    if (lr_dump_file_tmp(o, tmp, cap, &err)) fprintf(stderr, "llamaref verify: %s\n", err.msg);
    else rc = 0;
done:
    free(id);
    free(lab);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *golden = NULL, *cand = NULL, *names = NULL, *json = NULL;
    const char *ids = NULL, *labels = NULL;
    lr_dump_options d; /* --model, --pos0, --adapter: the golden's dump */
    char tmp[4096] = ""; /* the --model golden, removed at the end */
    lr_verify_opts o;
    lr_verify_report r;
    lr_verify_map map;
    lr_buf b = {0};
    lr_error err;
    int rc = 2;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_H("--golden", CLI_STR, &golden,
              "--golden FILE             the golden dump (safetensors)"),
        CLI_H("--candidate", CLI_STR, &cand,
              "--candidate FILE          the dump of the implementation under test"),
        CLI_OPT("--model", CLI_STR, &d.model_path),
        CLI_H("--ids", CLI_STR, &ids,
              "--ids \"i0 i1 ...\"         with --model: the token ids"),
        CLI_HN("--pos0", CLI_LONG, &d.pos0, 0, 1L << 30,
               "--pos0 P                  with --model: position of the first token (0)"),
        CLI_OPT("--adapter", CLI_STR, &d.adapter),
        CLI_H("--labels", CLI_STR, &labels,
              "--labels \"l0 l1 ...\"      with --model and --adapter: HF labels (loss and\n"
              "                            the adapter's gradients are compared too)"),
        {"--compute", CLI_FN, &o.compute, 0, 0, NULL, parse_compute,
         "--compute T               the candidate's compute type, which sets the\n"
         "                            default tolerances (default: each candidate\n"
         "                            tensor's dtype)"},
        CLI_HN("--rtol", CLI_DBL, &o.rtol, 0, HUGE_VAL,
               "--rtol R                  tolerance relative to the golden tensor's max |x|"),
        CLI_HN("--atol", CLI_DBL, &o.atol, 0, HUGE_VAL,
               "--atol A                  absolute tolerance; an element passes within\n"
               "                            either"),
        CLI_H("--names", CLI_STR, &names,
              "--names MAP               hf (names of vectors/gen/hf_dump.py), llama.cpp\n"
              "                            (graph tensor names), or a JSON map\n"
              "                            {\"golden name\": \"candidate name\" | {\"name\",\n"
              "                            \"transpose\", \"interleave\", \"reshape\"}}\n"
              "                            (docs/verify.md)"),
        CLI_HN("--row", CLI_INT, &o.row, 0, 1L << 30,
               "--row R                   golden batch row compared with a one-sequence\n"
               "                            candidate (default 0)"),
        CLI_H("--json", CLI_STR, &json,
              "--json F                  the report as JSON, written atomically"),
    };
    lr_verify_opts_init(&o);
    memset(&map, 0, sizeof map);
    memset(&r, 0, sizeof r);
    memset(&d, 0, sizeof d);
    if ((rc = cli_parse_doc("verify", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    if (!cand || !golden == !d.model_path || (d.model_path && !ids) ||
        (ids && !d.model_path)) {
        fprintf(stderr, "llamaref verify: --candidate and either --golden or "
                "--model with --ids are required (see --help)\n");
        return 2;
    }
    if (d.model_path) {
        if ((rc = run_dump(&d, ids, labels, tmp, sizeof tmp)) != 0) {
            fprintf(stderr, "llamaref verify: running the reference on --model "
                    "%s failed\n", d.model_path);
            if (tmp[0]) remove(tmp);
            return rc == 1 ? 2 : rc;
        }
        golden = tmp;
#ifndef LR_DOUBLE
        o.golden_compute = LR_F32;
        fprintf(stderr, "llamaref verify: the golden is this float build's own "
                "forward (float32, within ~1e-6 relative of float64 truth, "
                "docs/tensors.md); its error is added to the default tolerances. "
                "A DOUBLE=1 build gives float64 truth.\n");
#endif
    }
    rc = 2;
    if (names && lr_verify_names(names, &o, &map, &err)) {
        fprintf(stderr, "llamaref verify: --names: %s\n", err.msg);
        goto done;
    }
    if (lr_verify_files(golden, cand, &o, &r, &err)) {
        fprintf(stderr, "llamaref verify: %s\n", err.msg);
        goto done;
    }
    if (lr_verify_report_text(&r, &b) || fwrite(b.data, 1, b.len, stdout) != b.len) {
        fprintf(stderr, "llamaref verify: %s\n", b.oom ? "out of memory" : "writing stdout");
        goto done;
    }
    if (json && lr_verify_report_save_json(&r, json, &err)) {
        fprintf(stderr, "llamaref verify: --json %s: %s\n", json, err.msg);
        goto done; /* rc 2 */
    }
    rc = r.pass ? 0 : 1;
done:
    if (tmp[0]) remove(tmp);
    lr_buf_free(&b);
    lr_verify_report_free(&r);
    lr_verify_map_free(&map);
    return rc;
}
