/* logits.c - llamaref as a library: load a model, run the reference
 * forward pass over a list of token ids, print the logits.
 *
 *   cc -std=c99 logits.c $(pkg-config --cflags --libs llamaref) -o logits
 *   ./logits MODEL ID [ID...]
 *
 * MODEL is a Hugging Face directory (config.json + safetensors) or a
 * llama2.c .bin checkpoint.  Prints, for every position, the arg-max token
 * and its logit, then the whole logit row of the last position (%.9g: every
 * float digit), and the next token a greedy decoder would pick.  Exit
 * status 2 on a usage error, 1 when the model cannot be loaded or an id is
 * out of range (the message says which). */
#include <stdio.h>
#include <stdlib.h>

#include <llamaref.h>

int main(int argc, char **argv)
{
    lr_model *m = NULL;
    lr_acts acts;
    lr_error err;
    int *ids, n, i, t, V, best = 0;
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL ID [ID...]\n", argv[0]);
        return 2;
    }
    n = argc - 2;
    ids = malloc(sizeof *ids * (size_t)n);
    if (!ids) return 1;
    for (i = 0; i < n; i++) {
        char *end;
        long v = strtol(argv[i + 2], &end, 10);
        if (*end || end == argv[i + 2] || v < 0 || v > 2147483647L) {
            fprintf(stderr, "logits: token id '%s' is not a number >= 0\n",
                    argv[i + 2]);
            free(ids);
            return 2;
        }
        ids[i] = (int)v;
    }
    /* the model (NULL options: weights converted to lr_float) */
    if (lr_model_load(argv[1], NULL, &m, &err)) {
        fprintf(stderr, "logits: %s\n", err.msg);
        free(ids);
        return 1;
    }
    V = m->config.vocab_size;
    /* one sequence of n tokens, positions 0..n-1, no padding */
    if (lr_acts_alloc(&acts, &m->config, 1, n, 0, &err) ||
        lr_forward(m, &acts, ids, NULL, NULL, 1, n, &err)) {
        fprintf(stderr, "logits: %s\n", err.msg);
        lr_model_free(m);
        free(ids);
        return 1;
    }
    printf("llamaref %s (lr_float %s), %s: vocab %d, %d layers\n",
           lr_version(), lr_float_size() == 8 ? "double" : "float", argv[1],
           V, m->config.num_hidden_layers);
    for (t = 0; t < n; t++) {
        const lr_float *row = acts.logits + (size_t)t * V;
        int a = 0;
        for (i = 1; i < V; i++)
            if (row[i] > row[a]) a = i;
        printf("position %d: token %d, arg-max %d (logit %.9g)\n", t, ids[t],
               a, (double)row[a]);
        if (t == n - 1) best = a;
    }
    printf("logits of the last position:");
    for (i = 0; i < V; i++)
        printf(" %.9g", (double)acts.logits[(size_t)(n - 1) * V + i]);
    printf("\nnext token (greedy): %d\n", best);
    lr_acts_free(&acts);
    lr_model_free(m);
    free(ids);
    return 0;
}
