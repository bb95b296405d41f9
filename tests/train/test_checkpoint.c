/* test_checkpoint.c - the training state on disk and the run's options
 * (checkpoint.h, train_run.h): params_digest against FNV-1a 64 worked out
 * independently (Python struct.pack('<d') over [1.0, -2.5]), the defaults
 * and the recorded text of the options, and --resume resolution in a run
 * directory (the latest complete checkpoint-<step>; staging directories
 * and checkpoints without optimizer.safetensors skipped). */
#include <string.h>

#include "harness.h"
#include "llamaref/train/checkpoint.h"

static void touch(const char *p)
{
    FILE *f = fopen(p, "wb");
    if (f) fclose(f);
}

static void test_digest(void)
{
    lr_float p[2];
    char hex[17];
    p[0] = 1.0f;
    p[1] = -2.5f;
    lr_params_digest(p, 2, hex);
    CHECK_STR(hex, "2f20b4ea1c69d79c");
    lr_params_digest(p, 0, hex); /* the FNV offset basis */
    CHECK_STR(hex, "cbf29ce484222325");
}

/* The defaults (HF / PEFT, written once) and their recorded text. */
static void test_options(void)
{
    lr_train_options a;
    size_t n, k;
    const lr_train_opt *t = lr_train_opt_table(&n);
    char buf[64];
    int seen = 0;
    lr_train_options_default(&a);
    CHECK_STR(a.targets, "gate_proj,up_proj,down_proj");
    CHECK_STR(a.schedule, "linear");
    CHECK_INT(a.r, 1);
    CHECK_INT(a.epochs, 10);
    CHECK_INT(a.batch, 8);
    CHECK_INT(a.seed, 42);
    CHECK(a.rslora == 0 && a.full == 0 && a.model == NULL);
    for (k = 0; k < n; k++) {
        if (!strcmp(t[k].name, "--lr")) {
            lr_train_opt_text(&a, &t[k], buf, sizeof buf);
            CHECK_STR(buf, "0.001");
            CHECK(t[k].record);
            seen++;
        } else if (!strcmp(t[k].name, "--alpha")) {
            a.alpha = 0.1 + 0.2; /* needs 17 digits to read back */
            lr_train_opt_text(&a, &t[k], buf, sizeof buf);
            CHECK_STR(buf, "0.30000000000000004");
            seen++;
        } else if (!strcmp(t[k].name, "--data")) {
            lr_train_opt_text(&a, &t[k], buf, sizeof buf);
            CHECK_STR(buf, "");
            seen++;
        } else if (!strcmp(t[k].name, "--out")) {
            CHECK(!t[k].record); /* the output directory may change */
            seen++;
        }
    }
    CHECK_INT(seen, 4);
}

/* the combinations a run refuses, before and after a resume */
static void test_options_check(void)
{
    lr_train_options a;
    lr_error err;
    lr_train_options_default(&a);
    CHECK_ERR(lr_train_options_check(&a, 0, &err), &err,
              "--model, --data and --out are required");
    a.model = "m";
    a.data = "d.jsonl";
    a.out = "o";
    CHECK_OK(lr_train_options_check(&a, 0, &err), &err);
    CHECK_OK(lr_train_options_check(&a, 1, &err), &err);
    a.warmup = 3;
    a.warmup_ratio = 0.1;
    CHECK_ERR(lr_train_options_check(&a, 0, &err), &err, "exclude each other");
    a.warmup = 0;
    a.eval_every = 2;
    CHECK_ERR(lr_train_options_check(&a, 0, &err), &err, "--eval-every needs --eval-data");
    a.eval_every = 0;
    a.init = "config.json"; /* --init replaces --model, needs --full, --tokenizer */
    CHECK_ERR(lr_train_options_check(&a, 0, &err), &err, "--init needs --full");
    a.model = NULL;
    a.full = 1;
    a.tokenizer = "t";
    CHECK_OK(lr_train_options_check(&a, 0, &err), &err);
    a.loss_on = "prompt";
    CHECK_OK(lr_train_options_check(&a, 0, &err), &err); /* checked after a resume */
    CHECK_ERR(lr_train_options_check(&a, 1, &err), &err, "--loss-on is 'all' or 'completion'");
    a.loss_on = "completion";
    a.data = NULL;
    a.resume = "run";
    CHECK_OK(lr_train_options_check(&a, 0, &err), &err); /* --data not yet needed */
    CHECK_ERR(lr_train_options_check(&a, 1, &err), &err, "--data is required");
}

static void test_resolve(void)
{
    char p[4200], q[4300];
    const char *run = h_tmp("ckpt_run");
    lr_train_options a;
    lr_error err;
    int latest = -1;
    lr_make_dirs(run);
    snprintf(p, sizeof p, "%s/checkpoint-2", run); lr_make_dirs(p);
    snprintf(q, sizeof q, "%s/optimizer.safetensors", p); touch(q);
    snprintf(p, sizeof p, "%s/checkpoint-9.partial", run); lr_make_dirs(p);
    snprintf(q, sizeof q, "%s/optimizer.safetensors", p); touch(q);
    snprintf(p, sizeof p, "%s/checkpoint-12", run); lr_make_dirs(p); /* incomplete */
    snprintf(p, sizeof p, "%s/checkpoint-4", run); lr_make_dirs(p);
    snprintf(q, sizeof q, "%s/optimizer.safetensors", p); touch(q);
    lr_train_options_default(&a);
    a.resume = run;
    CHECK_OK(lr_checkpoint_resolve(&a, &latest, &err), &err);
    snprintf(p, sizeof p, "%s/checkpoint-4", run);
    CHECK_STR(a.resume, p);
    CHECK_INT(latest, 1);
    /* a checkpoint directory itself: its own state (unreadable here, so
     * not "own"), no checkpoint inside: an error naming it */
    lr_train_options_default(&a);
    snprintf(q, sizeof q, "%s/checkpoint-12", run);
    a.resume = q;
    CHECK(lr_checkpoint_resolve(&a, &latest, &err) != 0);
    CHECK(strstr(err.msg, "no optimizer.safetensors") != NULL);
    a.resume = h_tmp("ckpt_no_such_dir");
    CHECK(lr_checkpoint_resolve(&a, &latest, &err) != 0);
    CHECK(strstr(err.msg, "not a checkpoint or run directory") != NULL);
}

int main(void)
{
    RUN(test_digest);
    RUN(test_options);
    RUN(test_options_check);
    RUN(test_resolve);
    return h_finish("test_checkpoint");
}
