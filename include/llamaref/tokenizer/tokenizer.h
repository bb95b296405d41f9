/* tokenizer.h - loading, encoding and decoding with the Llama tokenizers.
 *
 * Formats (detected from the content; a directory is searched for
 * tokenizer.json, tokenizer.model, tokenizer.bin, original/tokenizer.model):
 *   LR_TOK_TIKTOKEN  Llama 3 tiktoken file: lines "base64(bytes) rank"; the
 *                    256 special tokens (ids n.. n+255, Llama 3.1 names) are
 *                    defined in code; n is the number of lines (128000 for
 *                    Llama 3; any n >= 256, e.g. a bpe-train vocabulary).
 *   LR_TOK_HF_JSON   Hugging Face tokenizer.json of a byte-level BPE with the
 *                    Llama 3 split regex: model.vocab through the GPT-2
 *                    byte->unicode map, model.merges (checked to agree with
 *                    the ranks), added_tokens as special tokens.
 *   LR_TOK_LLAMA2C   llama2.c tokenizer.bin (SentencePiece BPE; see
 *                    sentencepiece.h).
 * The first two give identical encodings: pre-tokenizer (pretokenize.h) and
 * tiktoken BPE (bpe.h).
 *
 * Special tokens: by default text is plain text, so "<|eot_id|>" in user input
 * encodes as ordinary characters (tiktoken's encode()).  With
 * LR_ENCODE_SPECIAL, special-token strings in the text become their ids
 * (tiktoken's allowed_special="all", HF's default); at each position the
 * longest special token wins, and the text between them is encoded
 * separately.  llama2.c tokenizers have no special-token strings.
 */
#ifndef LLAMAREF_TOKENIZER_H
#define LLAMAREF_TOKENIZER_H

#include "llamaref/tokenizer/bpe.h"
#include "llamaref/core/common.h"
#include "llamaref/tokenizer/pretokenize.h"
#include "llamaref/tokenizer/sentencepiece.h"
#include "llamaref/tokenizer/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_tokenizer_format {
    LR_TOK_TIKTOKEN = 1,
    LR_TOK_HF_JSON = 2,
    LR_TOK_LLAMA2C = 3,
    LR_TOK_GGUF = 4 /* byte-level BPE from tokenizer.ggml.* (gguf_tokenizer.c) */
} lr_tokenizer_format;

typedef struct lr_tokenizer {
    lr_tokenizer_format format;
    char *path;             /* the file actually loaded */
    size_t vocab_size;      /* every valid id is < vocab_size */
    int32_t bos_id, eos_id; /* Llama 3: <|begin_of_text|>, <|end_of_text|> */
    /* byte-level BPE (tiktoken and tokenizer.json) */
    lr_vocab bpe;           /* id = rank */
    int ignore_merges;      /* whole-piece lookup first (Llama 3: yes) */
    int pre;                /* pre-tokenizer: LR_PRE_* (pretokenize.h) */
    lr_vocab *merge_pairs;  /* owned; NULL: tiktoken merging (see vocab.h) */
    char *chat_template;    /* GGUF tokenizer.chat_template (Jinja), or NULL */
    int missing_bytes;      /* GGUF only: some bytes are not tokens; they
                             * split pieces and are dropped (llama.cpp) */
    lr_vocab specials;      /* special-token strings, index k */
    int32_t *special_ids;   /* id of special k */
    int32_t *id_to_special; /* for ids >= bpe.n: special index or -1 */
    unsigned char special_first[256]; /* first bytes of special strings */
    size_t special_lens[64];          /* distinct lengths, longest first */
    size_t n_special_lens;
    /* llama2.c */
    lr_sp sp;
} lr_tokenizer;

/* Encode flags. */
#define LR_ENCODE_SPECIAL 1u /* parse special-token strings */
#define LR_ENCODE_BOS 2u     /* prepend bos_id */
#define LR_ENCODE_EOS 4u     /* append eos_id */

/* Loads a tokenizer file or a directory containing one. */
int lr_tokenizer_load(const char *path, lr_tokenizer *tok, lr_error *err);
/* Loads from memory; source names the data in error messages. */
int lr_tokenizer_load_buffer(const char *data, size_t len, const char *source,
                             lr_tokenizer *tok, lr_error *err);
void lr_tokenizer_free(lr_tokenizer *tok);
const char *lr_tokenizer_format_name(lr_tokenizer_format f);

/* Appends the ids of text[0..n) to out (any bytes; see pretokenize.h for
 * ill-formed UTF-8). */
int lr_tokenizer_encode(const lr_tokenizer *tok, const char *text, size_t n,
                        unsigned flags, lr_tokens *out, lr_error *err);
/* `llamaref tokenize --jsonl`: every line of data[0..len) a JSON object
 * with a "text" string, encoded with flags; appends one JSON array of ids
 * per line to out ("[1,2,3]\n", lr_tokens_format).  Errors name the line
 * as "<source>:<line>" (source: "stdin"). */
int lr_tokenize_jsonl(const lr_tokenizer *tok, const char *data, size_t len,
                      unsigned flags, const char *source, lr_buf *out,
                      lr_error *err);
/* `llamaref tokenize`: the ids of data[0..len) encoded with flags as a
 * line "1 2 3\n" appended to out, or with jsonl lr_tokenize_jsonl (whose
 * lines before an error stay in out).  -1 with err set on an error or
 * when out of memory. */
int lr_tokenize_text(const lr_tokenizer *tok, const char *data, size_t len,
                     unsigned flags, int jsonl, const char *source, lr_buf *out,
                     lr_error *err);

/* Appends the bytes of ids[0..n) to out; special tokens decode to their
 * text.  Fails on an id outside [0, vocab_size) or without a token. */
int lr_tokenizer_decode(const lr_tokenizer *tok, const int32_t *ids, size_t n,
                        lr_buf *out, lr_error *err);

/* For loaders of other formats (gguf_tokenizer.c): registers special
 * token `name` with id `id`, and, once all are added, builds the lookup
 * tables and checks that all 256 bytes are tokens. */
int lr_tokenizer_add_special(lr_tokenizer *tok, const char *name, size_t len,
                             int32_t id, lr_error *err);
int lr_tokenizer_finish(lr_tokenizer *tok, const char *source, lr_error *err);

/* Id of a special token by name ("<|eot_id|>"), or -1. */
int32_t lr_tokenizer_special_id(const lr_tokenizer *tok, const char *name);

/* Streaming decoder: push ids one at a time; each push appends to out only
 * complete UTF-8 characters (an incomplete sequence at the end is held back
 * until the next push completes it or proves it ill-formed, in which case
 * its bytes are passed through unchanged).  The concatenation of all output
 * after lr_stream_decoder_flush equals lr_tokenizer_decode of all ids. */
typedef struct lr_stream_decoder {
    const lr_tokenizer *tok;
    unsigned char pending[4];
    size_t n_pending;
    int at_start; /* llama2.c: the next text piece loses a leading space */
} lr_stream_decoder;

/* d keeps tok (which must outlive it); nothing is allocated, so there is
 * nothing to free.  push appends the complete characters of id to out and
 * returns 0, or -1 (err: an id outside the vocabulary or without a token,
 * out of memory) with
 * out as it was and the pending bytes kept; flush appends the bytes still
 * held back and readies d for a new text (0, or -1 when out of memory). */
void lr_stream_decoder_init(lr_stream_decoder *d, const lr_tokenizer *tok);
int lr_stream_decoder_push(lr_stream_decoder *d, int32_t id, lr_buf *out,
                           lr_error *err);
int lr_stream_decoder_flush(lr_stream_decoder *d, lr_buf *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
