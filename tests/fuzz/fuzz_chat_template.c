/* fuzz_chat_template.c - libFuzzer target: chat messages as JSON (`tokenize
 * --messages`, the "messages" training format) read by
 * lr_chat_messages_from_json and rendered with both Llama 3 templates,
 * with and without the generation prompt. */
#include "fuzz_util.h"
#include "llamaref/tokenizer/chat_template.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *copy = fz_copy(data, n, 0);
    lr_json_doc *d;
    lr_error err;
    if (!copy) return 0;
    if (lr_json_parse(copy, n, "fuzz", &d, &err) == 0) {
        lr_chat_message *m = NULL;
        size_t k;
        if (lr_chat_messages_from_json(lr_json_root(d), "fuzz", &m, &k, &err) == 0) {
            int g;
            for (g = 0; g < 2; g++) {
                lr_buf b = {0};
                (void)lr_chat_render(LR_CHAT_LLAMA31, m, k, g, NULL, &b, &err);
                (void)lr_chat_render(LR_CHAT_LLAMA30, m, k, g, NULL, &b, &err);
                (void)lr_chat_render(LR_CHAT_LLAMA31, m, k, g, "1 Jan 2025", &b, &err);
                lr_buf_free(&b);
            }
            free(m);
        }
        lr_json_free(d);
    }
    free(copy);
    return 0;
}
