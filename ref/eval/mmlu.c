/* mmlu.c - MMLU data files and the harness prompt; see mmlu.h. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/core/csv.h"
#include "llamaref/eval/mcscore.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/tokenizer/unicode.h"

const char *const lr_mmlu_subjects[LR_MMLU_N_SUBJECTS] = {
    "abstract_algebra", "anatomy", "astronomy", "business_ethics",
    "clinical_knowledge", "college_biology", "college_chemistry",
    "college_computer_science", "college_mathematics", "college_medicine",
    "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics",
    "formal_logic", "global_facts", "high_school_biology",
    "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics",
    "high_school_mathematics", "high_school_microeconomics",
    "high_school_physics", "high_school_psychology",
    "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality",
    "international_law", "jurisprudence", "logical_fallacies",
    "machine_learning", "management", "marketing", "medical_genetics",
    "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting",
    "professional_law", "professional_medicine", "professional_psychology",
    "public_relations", "security_studies", "sociology",
    "us_foreign_policy", "virology", "world_religions"
};

void lr_mmlu_items_free(lr_mmlu_items *it)
{
    size_t i;
    int c;
    if (!it) return;
    for (i = 0; i < it->n; i++) {
        free(it->items[i].question);
        for (c = 0; c < 4; c++) free(it->items[i].choices[c]);
    }
    free(it->items);
    memset(it, 0, sizeof *it);
}

int lr_mmlu_read(const char *path, lr_mmlu_items *out, lr_error *err)
{
    static const char *const header[6] = {"question", "choice0", "choice1",
                                          "choice2", "choice3", "answer"};
    lr_csv csv;
    size_t r, first = 0;
    int c, rc = -1;
    memset(out, 0, sizeof *out);
    if (lr_csv_read_file(path, &csv, err)) return -1;
    if (csv.n_records == 0) {
        lr_fail(err, "%s:1: empty MMLU file", path);
        goto done;
    }
    out->original_format = 1;
    if (csv.records[0].n_fields == 6) {
        int is_header = 1;
        for (c = 0; c < 6; c++)
            is_header &= !strcmp(csv.records[0].fields[c], header[c]);
        if (is_header) { out->original_format = 0; first = 1; }
    }
    out->items = lr_zalloc(csv.n_records, sizeof *out->items, "MMLU items", err);
    if (!out->items) goto done;
    for (r = first; r < csv.n_records; r++) {
        lr_csv_record *rec = &csv.records[r];
        lr_mmlu_item *it = &out->items[out->n];
        const char *a;
        if (rec->n_fields != 6) {
            lr_fail(err, "%s:%lu: %lu fields, expected 6 (question, 4 choices, "
                    "answer)", path, rec->line, (unsigned long)rec->n_fields);
            goto done;
        }
        a = rec->fields[5];
        if (out->original_format) {
            if (strlen(a) != 1 || a[0] < 'A' || a[0] > 'D') {
                lr_fail(err, "%s:%lu: answer '%.20s' is not one of A, B, C, D",
                        path, rec->line, a);
                goto done;
            }
            it->answer = a[0] - 'A';
        } else {
            if (strlen(a) != 1 || a[0] < '0' || a[0] > '3') {
                lr_fail(err, "%s:%lu: answer '%.20s' is not one of 0, 1, 2, 3",
                        path, rec->line, a);
                goto done;
            }
            it->answer = a[0] - '0';
        }
        /* take ownership of the fields */
        it->question = rec->fields[0];
        rec->fields[0] = NULL;
        for (c = 0; c < 4; c++) {
            it->choices[c] = rec->fields[1 + c];
            rec->fields[1 + c] = NULL;
        }
        it->line = rec->line;
        out->n++;
    }
    rc = 0;
done:
    lr_csv_free(&csv);
    if (rc) lr_mmlu_items_free(out);
    return rc;
}

char *lr_py_strip(const char *s, lr_error *err)
{
    size_t n = strlen(s), b = 0, e = n;
    /* leading */
    while (b < n) {
        uint32_t cp;
        int l = lr_utf8_decode((const unsigned char *)s + b, n - b, &cp);
        if (l <= 0 || !lr_chat_is_py_space(cp)) break;
        b += (size_t)l;
    }
    /* trailing: step back to the start of the last character */
    while (e > b) {
        size_t k = e - 1;
        uint32_t cp;
        int l;
        while (k > b && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        l = lr_utf8_decode((const unsigned char *)s + k, e - k, &cp);
        if (l <= 0 || (size_t)l != e - k || !lr_chat_is_py_space(cp)) break;
        e = k;
    }
    return lr_strndup(s + b, e - b, err);
}

int lr_mmlu_format_parse(const char *name, lr_mmlu_format *f)
{
    if (!strcmp(name, "letter")) *f = LR_MMLU_LETTER;
    else if (!strcmp(name, "continuation")) *f = LR_MMLU_CONTINUATION;
    else return -1;
    return 0;
}

const char *lr_mmlu_format_name(lr_mmlu_format f)
{
    return f == LR_MMLU_CONTINUATION ? "continuation" : "letter";
}

/* doc_to_text of either task */
static int doc_to_text(lr_buf *out, lr_mmlu_format f, const lr_mmlu_item *q,
                       lr_error *err)
{
    char *qs = lr_py_strip(q->question, err);
    if (!qs) return -1;
    if (f == LR_MMLU_CONTINUATION)
        lr_buf_printf(out, "Question: %s\nAnswer:", qs);
    else
        lr_buf_printf(out, "%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer:", qs,
                      q->choices[0], q->choices[1], q->choices[2],
                      q->choices[3]);
    free(qs);
    return 0;
}

const char *lr_mmlu_choice(lr_mmlu_format f, const lr_mmlu_item *q, int c)
{
    static const char *const letters[4] = {"A", "B", "C", "D"};
    return f == LR_MMLU_CONTINUATION ? q->choices[c] : letters[c];
}

int lr_mmlu_prompt(lr_mmlu_format f, const char *subject,
                   const lr_mmlu_item *shots, size_t n_shots,
                   const lr_mmlu_item *q, lr_buf *out, lr_error *err)
{
    size_t i;
    const char *p;
    lr_buf_puts(out, f == LR_MMLU_CONTINUATION
                         ? "The following are questions (with answers) about "
                         : "The following are multiple choice questions (with "
                           "answers) about ");
    for (p = subject; *p; p++) lr_buf_append(out, *p == '_' ? " " : p, 1);
    lr_buf_puts(out, ".\n\n");
    /* shot = doc_to_text + target delimiter " " + doc_to_choice[answer] */
    for (i = 0; i < n_shots; i++) {
        if (doc_to_text(out, f, &shots[i], err)) return -1;
        lr_buf_printf(out, " %s\n\n", lr_mmlu_choice(f, &shots[i], shots[i].answer));
    }
    if (doc_to_text(out, f, q, err)) return -1;
    return out->oom ? lr_fail(err, "out of memory building an MMLU prompt") : 0;
}

int lr_mmlu_context(const char *subject, const lr_mmlu_item *shots,
                    size_t n_shots, const lr_mmlu_item *q, lr_buf *out,
                    lr_error *err)
{
    return lr_mmlu_prompt(LR_MMLU_LETTER, subject, shots, n_shots, q, out, err);
}

/* Python len(): code points (each ill-formed byte counts as one) */
static size_t n_chars(const char *s)
{
    size_t n = strlen(s), i = 0, count = 0;
    while (i < n) {
        uint32_t cp;
        int l = lr_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        i += l > 0 ? (size_t)l : 1;
        count++;
    }
    return count;
}

void lr_mmlu_predict(lr_mmlu_format f, const lr_mmlu_item *q,
                     const double ll[4], long *pred, long *pred_norm)
{
    double norm[4];
    int c;
    for (c = 0; c < 4; c++)
        norm[c] = ll[c] / (double)n_chars(lr_mmlu_choice(f, q, c));
    *pred = lr_mc_argmax(ll, 4);
    *pred_norm = lr_mc_argmax(norm, 4);
}

int lr_mmlu_score(lr_loglik *L, const lr_tokenizer *tok, int add_bos,
                  lr_mmlu_format f, const char *subject,
                  const lr_mmlu_item *shots, size_t n_shots,
                  const lr_mmlu_item *q, lr_buf *ctx, double ll[4],
                  long *pred, long *pred_norm, lr_error *err)
{
    lr_buf cont = {0};
    int c;
    ctx->len = 0;
    if (lr_mmlu_prompt(f, subject, shots, n_shots, q, ctx, err)) return -1;
    for (c = 0; c < 4; c++) {
        int *ci, *co, nci, nco, r;
        cont.len = 0;
        lr_buf_printf(&cont, " %s", lr_mmlu_choice(f, q, c));
        if (cont.oom) {
            lr_buf_free(&cont);
            return lr_fail(err, "out of memory building an MMLU choice");
        }
        if (lr_loglik_encode_pair(tok, ctx->data, cont.data, add_bos, &ci, &nci,
                                  &co, &nco, err)) {
            lr_buf_free(&cont);
            return -1;
        }
        r = lr_loglik_score(L, ci, nci, co, nco, &ll[c], NULL, err);
        free(ci);
        free(co);
        if (r) {
            lr_buf_free(&cont);
            return -1;
        }
    }
    lr_buf_free(&cont);
    lr_mmlu_predict(f, q, ll, pred, pred_norm);
    return 0;
}
