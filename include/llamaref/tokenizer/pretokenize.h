/* pretokenize.h - the Llama 3 pre-tokenizer: splits text into the pieces
 * that BPE encodes one by one.  It is a hand-written matcher exactly
 * equivalent to the split regex of Llama 3 (tiktoken / HF `Split`,
 * Python-`regex` semantics, alternatives tried left to right):
 *
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *
 * Bytes that are not well-formed UTF-8 (see lr_utf8_decode) are treated one
 * byte at a time as a character that is neither a letter, a number nor
 * whitespace (exactly where U+FFFD would be), so every byte string splits
 * into pieces that concatenate back to it.
 */
#ifndef LLAMAREF_PRETOKENIZE_H
#define LLAMAREF_PRETOKENIZE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* End offset of the piece that starts at text[pos] (pos < n); always > pos. */
size_t lr_pretokenize_next(const char *text, size_t n, size_t pos);

#ifdef __cplusplus
}
#endif
/* The same for GPT-2's regex (llama.cpp pre-tokenizer "gpt-2"):
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * and for SmolLM's ("smollm"): each \p{N} character alone, GPT-2's regex on
 * the text between them. */
size_t lr_pretokenize_gpt2_next(const char *text, size_t n, size_t pos);
size_t lr_pretokenize_smollm_next(const char *text, size_t n, size_t pos);

/* Pre-tokenizer kinds (lr_tokenizer.pre). */
enum { LR_PRE_LLAMA3 = 0, LR_PRE_GPT2 = 1, LR_PRE_SMOLLM = 2 };

#endif
