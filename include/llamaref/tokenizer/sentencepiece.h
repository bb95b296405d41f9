/* sentencepiece.h - the SentencePiece-BPE tokenizers of llama2.c's
 * `tokenizer.bin` format (Llama 2's 32,000 tokens, stories260K's tok512).
 *
 * File format (little-endian): uint32 max_token_length, then until the end
 * of the file, per token: float32 score, int32 length, length bytes.  Token
 * strings have SentencePiece's U+2581 already replaced by a space.  By the
 * llama2.c convention id 0 is <unk>, 1 BOS, 2 EOS, and tokens spelled
 * "<0xXX>" are byte-fallback tokens.
 *
 * Encoding follows SentencePiece's BPE (checked against python3-
 * sentencepiece): text with U+2581 read as a space, a space prepended
 * (add_dummy_prefix) when the text is not empty, split into characters, then
 * repeatedly merge the adjacent pair whose concatenation is a normal token of
 * highest score (leftmost on ties); symbols that are not tokens become their
 * bytes' <0xXX> tokens.  Control and byte tokens are never produced by
 * merging.  Ill-formed UTF-8 bytes are single symbols, hence byte tokens.
 * Decoding: BOS/EOS give nothing, <unk> gives " \u2047 ", byte tokens their
 * raw byte, and the first piece that is not BOS/EOS loses one leading space.
 */
#ifndef LLAMAREF_SENTENCEPIECE_H
#define LLAMAREF_SENTENCEPIECE_H

#include "llamaref/tokenizer/bpe.h"
#include "llamaref/tokenizer/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LR_SP_NORMAL = 0, LR_SP_CONTROL = 1, LR_SP_UNKNOWN = 2, LR_SP_BYTE = 3 };

typedef struct lr_sp {
    lr_vocab vocab;
    float *scores;             /* per id */
    unsigned char *kind;       /* per id: LR_SP_* */
    int32_t byte_id[256];      /* id of <0xXX>, or -1 */
    int32_t unk_id, bos_id, eos_id;
    uint32_t max_token_length; /* as stored in the file */
} lr_sp;

/* Parses a tokenizer.bin image; source names it in error messages. */
int lr_sp_load_buffer(const unsigned char *data, size_t len, const char *source,
                      lr_sp *sp, lr_error *err);
void lr_sp_free(lr_sp *sp);

/* Appends the ids of text[0..n) (no BOS/EOS) to out. */
int lr_sp_encode(const lr_sp *sp, const char *text, size_t n, lr_tokens *out,
                 lr_error *err);

/* Appends the bytes of token id to out.  *at_start is 1 before the first
 * token of a text and is cleared by the first token that is not BOS/EOS
 * (that token loses a leading space). */
int lr_sp_decode_token(const lr_sp *sp, int32_t id, int *at_start, lr_buf *out,
                       lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
