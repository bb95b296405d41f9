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
#include "llamaref/core/json.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/core/tokens.h"

static int read_stdin(lr_buf *b)
{
    lr_error err;
    if (!lr_read_stream(stdin, "stdin", b, &err)) return 0;
    fprintf(stderr, "llamaref %s: %s\n", cli_cmd, err.msg);
    return -1;
}

/* --tokenizer missing: a usage error (exit 2) */
static int need_tokenizer(const char *path)
{
    if (path) return 0;
    fprintf(stderr, "llamaref %s: --tokenizer PATH is required (see --help)\n", cli_cmd);
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

/* the ids as a line of text (lr_tokens_format) */
static int print_ids(FILE *f, const lr_tokens *t, int json)
{
    lr_buf b = {0};
    int rc;
    lr_tokens_format(&b, t, json);
    rc = b.oom || fwrite(b.data, 1, b.len, f) != b.len || ferror(f) ? -1 : 0;
    lr_buf_free(&b);
    return rc;
}

static int load(const char *path, lr_tokenizer *tok)
{
    lr_error err;
    if (lr_tokenizer_load(path, tok, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cli_cmd, err.msg);
        return -1;
    }
    return 0;
}

int cmd_tokenize(int argc, char **argv)
{
    const char *path = NULL, *text = NULL, *file = NULL, *src;
    char *data = NULL;
    size_t n;
    unsigned flags;
    int jsonl = 0, special = 0, bos = 0, eos = 0, rc = 1;
    lr_tokenizer tok;
    lr_buf in = {0};
    lr_tokens ids = {0};
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
    rc = 1;
    flags = (special ? LR_ENCODE_SPECIAL : 0) | (bos ? LR_ENCODE_BOS : 0) |
            (eos ? LR_ENCODE_EOS : 0);
    if (need_tokenizer(path)) return 2;
    if (text && file) {
        fprintf(stderr, "llamaref tokenize: --text and --file exclude each other\n");
        return 2;
    }
    if (load(path, &tok)) return 1;
    if (text) { /* the input: --text, --file or stdin */
        src = text;
        n = strlen(text);
    } else if (file) {
        if (lr_read_file(file, &data, &n, &err)) {
            fprintf(stderr, "llamaref tokenize: %s\n", err.msg);
            goto done;
        }
        src = data;
    } else {
        if (read_stdin(&in)) goto done;
        src = in.data ? in.data : "";
        n = in.len;
    }
    if (!jsonl) {
        if (lr_tokenizer_encode(&tok, src, n, flags, &ids, &err)) {
            fprintf(stderr, "llamaref tokenize: %s\n", err.msg);
            goto done;
        }
        if (print_ids(stdout, &ids, 0)) goto done;
    } else {
        /* the lines before an error are printed, as they would be streamed */
        lr_buf out = {0};
        int r = lr_tokenize_jsonl(&tok, src, n, flags, "stdin", &out, &err);
        int w = out.len && fwrite(out.data, 1, out.len, stdout) != out.len;
        lr_buf_free(&out);
        if (r) fprintf(stderr, "llamaref tokenize: %s\n", err.msg);
        if (r || w) goto done;
    }
    rc = fflush(stdout) ? 1 : 0;
done:
    free(data);
    lr_buf_free(&in);
    lr_tokens_free(&ids);
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
    rc = 1;
    if (need_tokenizer(path)) return 2;
    if (load(path, &tok)) return 1;
    if (read_stdin(&in)) goto done;
    if (lr_tokens_parse(in.data ? in.data : "", in.len, &ids, &err)) {
        fprintf(stderr, "llamaref detokenize: stdin: %s\n", err.msg);
        goto done;
    }
    if (lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err)) {
        fprintf(stderr, "llamaref detokenize: %s\n", err.msg);
        goto done;
    }
    if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) goto done;
    rc = fflush(stdout) ? 1 : 0;
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
    lr_chat_template *t = dst;
    if (!strcmp(v, "llama3.1")) *t = LR_CHAT_LLAMA31;
    else if (!strcmp(v, "llama3")) *t = LR_CHAT_LLAMA30;
    else {
        fprintf(stderr, "llamaref chat-template: %s must be llama3.1 or llama3\n", opt);
        return -1;
    }
    return 0;
}

int cmd_chat_template(int argc, char **argv)
{
    const char *path = NULL, *messages = NULL, *date = NULL;
    int rc, gen = 0, want_ids = 0;
    lr_chat_template tmpl = LR_CHAT_LLAMA31;
    lr_tokenizer tok;
    lr_json_doc *doc = NULL;
    lr_chat_message *msgs = NULL;
    size_t n_msgs = 0;
    lr_buf out = {0};
    lr_tokens ids = {0};
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
    rc = 1;
    if (!messages) {
        fprintf(stderr, "llamaref chat-template: --messages FILE.json is required\n");
        return 2;
    }
    if (need_tokenizer(path)) return 2;
    if (load(path, &tok)) return 1;
    if (lr_json_parse_file(messages, &doc, &err) ||
        lr_chat_messages_from_json(lr_json_root(doc), messages, &msgs, &n_msgs, &err) ||
        lr_chat_render(tmpl, msgs, n_msgs, gen, date, &out, &err)) {
        fprintf(stderr, "llamaref chat-template: %s\n", err.msg);
        goto done;
    }
    if (want_ids) {
        if (lr_tokenizer_encode(&tok, out.data, out.len, LR_ENCODE_SPECIAL, &ids, &err)) {
            fprintf(stderr, "llamaref chat-template: %s\n", err.msg);
            goto done;
        }
        if (print_ids(stdout, &ids, 0)) goto done;
    } else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        goto done;
    }
    rc = fflush(stdout) ? 1 : 0;
done:
    free(msgs);
    lr_json_free(doc);
    lr_buf_free(&out);
    lr_tokens_free(&ids);
    lr_tokenizer_free(&tok);
    return rc;
}
