/* cmd_tokenize.c - the tokenizer commands of ./llamaref:
 *   tokenize --tokenizer PATH [--text TEXT | --file FILE] [--special] [--bos]
 *            [--eos] [--jsonl]
 *   detokenize --tokenizer PATH
 *   chat-template --tokenizer PATH --messages FILE.json [--generation-prompt]
 *                 [--ids] [--template llama3.1|llama3] [--date "26 Jul 2024"]
 * See docs/tokenizer.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/core/tokens.h"

/* --file FILE, or stdin when file is NULL, into b */
static int read_input(const char *file, lr_buf *b)
{
    lr_error err;
    if (!lr_read_input(file, b, &err)) return 0;
    fprintf(stderr, "llamaref %s: %s\n", cli_cmd, err.msg);
    return -1;
}

static const char tokenize_head[] =
"usage: llamaref tokenize --tokenizer PATH [--text TEXT | -f, --file FILE]\n"
"                         [--special] [--bos] [--eos] [--jsonl]\n";
static const char tokenize_foot[] =
"Prints token ids (space-separated, or a JSON array per line).\n";
static const char detokenize_head[] = "usage: llamaref detokenize --tokenizer PATH\n";
static const char detokenize_foot[] =
"Reads whitespace-separated token ids on stdin and writes the decoded\n"
"bytes to stdout (special tokens as their text).\n";
static const char chat_template_head[] =
"usage: llamaref chat-template --tokenizer PATH --messages FILE.json\n"
"         [--generation-prompt] [--ids] [--template llama3.1|llama3]\n"
"         [--date \"26 Jul 2024\"]\n";
static const char chat_template_foot[] =
"Prints the prompt rendered as HF's apply_chat_template does.\n";

/* --tokenizer PATH: 2 (a usage error) when missing, 1 when it does not
 * load, else 0 */
static int load(const char *path, lr_tokenizer *tok)
{
    lr_error err;
    if (!path) {
        fprintf(stderr, "llamaref %s: --tokenizer PATH is required (see --help)\n", cli_cmd);
        return 2;
    }
    if (lr_tokenizer_load(path, tok, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cli_cmd, err.msg);
        return 1;
    }
    return 0;
}

/* out on stdout, also when failed (then with err's message): --jsonl's
 * lines before an error, as they would be streamed.  0, or 1 when failed
 * or not written. */
static int write_out(const lr_buf *out, int failed, const lr_error *err)
{
    int w = out->len && fwrite(out->data, 1, out->len, stdout) != out->len;
    if (failed) fprintf(stderr, "llamaref %s: %s\n", cli_cmd, err->msg);
    return failed || w || fflush(stdout) ? 1 : 0;
}

int cmd_tokenize(int argc, char **argv)
{
    const char *path = NULL, *text = NULL, *file = NULL, *src;
    size_t n;
    unsigned flags;
    int jsonl = 0, special = 0, bos = 0, eos = 0, rc = 1;
    lr_tokenizer tok;
    lr_buf in = {0}, out = {0};
    lr_error err;
    const cli_optdef opts[] = {
        CLI_OPT("--tokenizer", CLI_STR, &path),
        CLI_H("--text", CLI_STR, &text,
              "--text TEXT               the text to encode, exactly (no trailing\n"
              "                            newline added)"),
        CLI_H("--file", CLI_STR, &file, "stdin, all of it as one text"),
        CLI_H("--jsonl", CLI_FLAG, &jsonl,
              "--jsonl                   the input holds one {\"text\": ...} object per\n"
              "                            line"),
        CLI_H("--special", CLI_FLAG, &special,
              "--special                 parse special-token strings such as <|eot_id|>\n"
              "                            (default: plain text)"),
        CLI_H("--bos", CLI_FLAG, &bos, "--bos                     add BOS"),
        CLI_H("--eos", CLI_FLAG, &eos, "--eos                     add EOS"),
    };
    if ((rc = cli_parse_doc("tokenize", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            tokenize_head, tokenize_foot)) >= 0)
        return rc;
    flags = (special ? LR_ENCODE_SPECIAL : 0) | (bos ? LR_ENCODE_BOS : 0) |
            (eos ? LR_ENCODE_EOS : 0);
    if (path && text && file) { /* a missing --tokenizer is said first (load) */
        fprintf(stderr, "llamaref tokenize: --text and --file exclude each other\n");
        return 2;
    }
    if ((rc = load(path, &tok)) != 0) return rc;
    rc = 1;
    if (text) { /* the input: --text, --file or stdin */
        src = text;
        n = strlen(text);
    } else {
        if (read_input(file, &in)) goto done;
        src = in.data ? in.data : "";
        n = in.len;
    }
    rc = write_out(&out, lr_tokenize_text(&tok, src, n, flags, jsonl, "stdin", &out, &err),
                   &err);
done:
    lr_buf_free(&in);
    lr_buf_free(&out);
    lr_tokenizer_free(&tok);
    return rc;
}

int cmd_detokenize(int argc, char **argv)
{
    const char *path = NULL;
    int rc;
    lr_tokenizer tok;
    lr_buf in = {0}, out = {0};
    lr_tokens ids = {0};
    lr_error err;
    const cli_optdef opts[] = {CLI_OPT("--tokenizer", CLI_STR, &path)};
    if ((rc = cli_parse_doc("detokenize", argc, argv, 1, opts, 1, detokenize_head,
                            detokenize_foot)) >= 0)
        return rc;
    if ((rc = load(path, &tok)) != 0) return rc;
    rc = 1;
    if (read_input(NULL, &in)) goto done;
    if (lr_tokens_parse(in.data ? in.data : "", in.len, &ids, &err)) {
        fprintf(stderr, "llamaref detokenize: stdin: %s\n", err.msg);
        goto done;
    }
    if (lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err)) {
        fprintf(stderr, "llamaref detokenize: %s\n", err.msg);
        goto done;
    }
    rc = write_out(&out, 0, &err);
done:
    lr_buf_free(&in);
    lr_buf_free(&out);
    lr_tokens_free(&ids);
    lr_tokenizer_free(&tok);
    return rc;
}

/* --template: llama3.1 or llama3 */
static int parse_template(const char *opt, const char *v, void *dst)
{
    if (!lr_chat_template_from_name(v, dst)) return 0;
    fprintf(stderr, "llamaref chat-template: %s must be llama3.1 or llama3\n", opt);
    return -1;
}

int cmd_chat_template(int argc, char **argv)
{
    const char *path = NULL, *messages = NULL, *date = NULL;
    int rc, gen = 0, want_ids = 0;
    lr_chat_template tmpl = LR_CHAT_LLAMA31;
    lr_tokenizer tok;
    lr_buf text = {0}, ids = {0};
    lr_error err;
    const cli_optdef opts[] = {
        CLI_OPT("--tokenizer", CLI_STR, &path),
        CLI_H("--messages", CLI_STR, &messages,
              "--messages FILE.json      [{\"role\": ..., \"content\": ...}, ...]"),
        CLI_H("--generation-prompt", CLI_FLAG, &gen,
              "--generation-prompt       end with the assistant header"),
        CLI_H("--ids", CLI_FLAG, &want_ids,
              "--ids                     print the token ids (special tokens parsed as\n"
              "                            HF does) instead of the text"),
        {"--template", CLI_FN, &tmpl, 0, 0, NULL, parse_template,
         "--template T              llama3.1 (default) or llama3"},
        CLI_H("--date", CLI_STR, &date,
              "--date \"26 Jul 2024\"      the date of the Llama 3.1 system header"),
    };
    if ((rc = cli_parse_doc("chat-template", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            chat_template_head, chat_template_foot)) >= 0)
        return rc;
    if (!messages) {
        fprintf(stderr, "llamaref chat-template: --messages FILE.json is required\n");
        return 2;
    }
    if ((rc = load(path, &tok)) != 0) return rc;
    if (lr_chat_render_file(tmpl, messages, gen, date, &text, &err)) {
        fprintf(stderr, "llamaref chat-template: %s\n", err.msg);
        rc = 1;
    } else if (want_ids) /* special tokens parsed, as HF does */
        rc = write_out(&ids, lr_tokenize_text(&tok, text.data, text.len, LR_ENCODE_SPECIAL,
                                              0, "", &ids, &err), &err);
    else
        rc = write_out(&text, 0, &err);
    lr_buf_free(&text);
    lr_buf_free(&ids);
    lr_tokenizer_free(&tok);
    return rc;
}
