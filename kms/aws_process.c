/* credential_process: word splitting, running the program (spawn.c) and
 * reading its JSON. Its stdout holds secrets and is wiped; its stderr is
 * never shown whole, only a short excerpt of printable text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws_process.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "spawn.h"

#define MAX_OUT (64u * 1024)
#define MAX_ERR (4u * 1024)
#define MAX_WORDS 256
#define EXCERPT 160

void nk_aws_argv_free(char **argv)
{
    size_t i;

    if (argv == NULL)
        return;
    for (i = 0; argv[i] != NULL; i++)
        nk_strfreezero(argv[i]);
    free(argv);
}

/* Appends one character to the word being built. */
static void put(char *w, size_t *n, char c)
{
    w[(*n)++] = c;
}

/* The word starting at *p, into w (at least strlen(*p) + 1 bytes);
 * advances *p past it. 1 for a word, 0 at the end, -1 on bad quoting. */
static int next_word(const char **p, char *w, const char **why)
{
    const char *s = *p;
    size_t n = 0;
    int any = 0;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (; *s != '\0' && !(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r');
         s++) {
        any = 1;
        if (*s == '\\') {
            if (*++s == '\0') {
                *why = "ends with a backslash";
                return -1;
            }
            put(w, &n, *s);
        } else if (*s == '\'') {
            for (s++; *s != '\'' && *s != '\0'; s++)
                put(w, &n, *s);
            if (*s == '\0') {
                *why = "has no closing quotation";
                return -1;
            }
        } else if (*s == '"') {
            for (s++; *s != '"' && *s != '\0'; s++) {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                    s++;
                put(w, &n, *s);
            }
            if (*s == '\0') {
                *why = "has no closing quotation";
                return -1;
            }
        } else {
            put(w, &n, *s);
        }
    }
    w[n] = '\0';
    *p = s;
    return any;
}

int nk_aws_argv_split(const char *cmd, char ***argv, struct nk_err *err)
{
    char **v = nk_xcalloc(MAX_WORDS + 1, sizeof(*v));
    size_t wlen = strlen(cmd) + 1, n = 0;
    char *w = nk_xmalloc(wlen);
    const char *p = cmd, *why = NULL;
    int r;

    *argv = NULL;
    while ((r = next_word(&p, w, &why)) == 1 && n < MAX_WORDS)
        v[n++] = nk_xstrdup(w);
    /* The whole buffer: a word cut short by bad quoting is not
     * NUL-terminated. */
    nk_memzero(w, wlen);
    free(w);
    if (r == 1)
        why = "has more than 256 words";
    if (why == NULL && n == 0)
        why = "is empty";
    if (why != NULL) {
        nk_aws_argv_free(v);
        return nk_err_set(err, NK_ERR_VALIDATION, "credential_process %s", why);
    }
    *argv = v;
    return 0;
}

/* Wipes every string of o, then frees it (cJSON does not wipe). */
static void wipe_json(cJSON *o)
{
    cJSON *it;

    cJSON_ArrayForEach(it, o) if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
    cJSON_Delete(o);
}

/* A member that must be a string when present (JSON null counts as
 * absent); -1 for any other type. */
static int opt_str(const cJSON *o, const char *name, const char **v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

    *v = NULL;
    if (it == NULL || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsString(it))
        return -1;
    *v = it->valuestring;
    return 0;
}

static int check_fields(const cJSON *o, long long now, const char *what,
                        struct nk_aws_creds *out, struct nk_err *err)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "Version");
    const char *ak, *sk, *st, *exp;
    long long t = 0;

    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"Version\" must be the "
                          "number 1 (the only version there is)",
                          what);
    if (opt_str(o, "AccessKeyId", &ak) != 0 ||
        opt_str(o, "SecretAccessKey", &sk) != 0 || ak == NULL || sk == NULL ||
        ak[0] == '\0' || sk[0] == '\0')
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"AccessKeyId\" and "
                          "\"SecretAccessKey\" must be non-empty strings",
                          what);
    if (opt_str(o, "SessionToken", &st) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"SessionToken\" is not "
                          "a string",
                          what);
    if (opt_str(o, "Expiration", &exp) != 0 ||
        (exp != NULL && nk_aws_parse_time(exp, &t) != 0))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"Expiration\" is not an "
                          "RFC 3339 time",
                          what);
    if (exp != NULL && t <= now)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "%s: the credentials expired "
                          "at %.40s",
                          what, exp);
    return nk_aws_creds_set(out, ak, sk, st, t) == 0
               ? 0
               : nk_err_set(err, NK_ERR_GENERIC, "%s: no credentials", what);
}

int nk_aws_process_parse(const char *text, size_t n, long long now,
                         const char *what, struct nk_aws_creds *out,
                         struct nk_err *err)
{
    const char *end = NULL;
    cJSON *o;
    int ret;

    if (text == NULL)
        text = "";
    o = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (o != NULL && end != NULL)
        while (end < text + n &&
               (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
    if (o == NULL || !cJSON_IsObject(o) || end != text + n) {
        if (o != NULL)
            wipe_json(o);
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the output is not one "
                          "JSON object (%zu bytes)",
                          what, n);
    }
    ret = check_fields(o, now, what, out, err);
    wipe_json(o);
    return ret;
}

/* The last non-empty line of the program's stderr, printable ASCII only,
 * at most EXCERPT characters; "" when there is none. */
static void excerpt(const struct nk_buf *b, char *out, size_t n)
{
    const char *s = b->data != NULL ? (const char *)b->data : "";
    size_t len = b->len, start, end, i, j = 0;

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
                       s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    end = len;
    for (start = end; start > 0 && s[start - 1] != '\n'; start--)
        ;
    if (end - start > EXCERPT)
        end = start + EXCERPT;
    for (i = start; i < end && j + 2 < n; i++) {
        unsigned char c = (unsigned char)s[i];

        out[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[j] = '\0';
    if (j > 0 && (end < len || start > 0 || b->len >= b->max - 1)) {
        /* cut or one of several lines: say so */
        snprintf(out + j, n - j, " ...");
    }
}

/* Maps how the program ended to an error; 0 when it exited 0. */
static int ended(const struct nk_spawn *r, const char *what, double timeout,
                 struct nk_err *err)
{
    char tail[EXCERPT + 8];

    excerpt(&r->errout, tail, sizeof(tail));
    if (r->timed_out)
        return nk_err_set(err, NK_ERR_TIMEOUT,
                          "%s did not finish within "
                          "%.1f s (pluginConfig \"timeout\")",
                          what, timeout);
    if (r->out_too_big)
        return nk_err_set(err, NK_ERR_GENERIC, "%s wrote more than %u bytes",
                          what, MAX_OUT);
    if (WIFSIGNALED(r->status))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s was killed by signal %d%s"
                          "%s",
                          what, WTERMSIG(r->status), tail[0] ? ": " : "", tail);
    if (WEXITSTATUS(r->status) != 0)
        return nk_err_set(err, NK_ERR_ACCESS, "%s exited with status %d%s%s",
                          what, WEXITSTATUS(r->status), tail[0] ? ": " : "",
                          tail);
    return 0;
}

int nk_aws_process_creds(const char *profile, const char *cmd,
                         const struct nk_kms_net *net, struct nk_aws_creds *out,
                         struct nk_err *err)
{
    struct nk_spawn r;
    char **argv = NULL, what[320];
    double timeout = nk_kms_net_left(net);
    int ret = -1;

    memset(&r, 0, sizeof(r));
    if (nk_aws_argv_split(cmd, &argv, err) != 0)
        return nk_err_prefix(err, "profile \"%s\"", profile);
    snprintf(what, sizeof(what),
             "credential_process \"%.100s\" of profile "
             "\"%.100s\"",
             argv[0], profile);
    if (nk_spawn_run(argv, timeout, MAX_OUT, MAX_ERR, &r, err) != 0) {
        nk_err_prefix(err, "profile \"%s\": credential_process", profile);
        goto out;
    }
    if (ended(&r, what, timeout, err) != 0 ||
        nk_aws_process_parse((const char *)r.out.data, r.out.len,
                             (long long)time(NULL), what, out, err) != 0)
        goto out;
    snprintf(out->source, sizeof(out->source),
             "credential_process (profile "
             "\"%.100s\")",
             profile);
    ret = 0;
out:
    nk_spawn_release(&r);
    nk_aws_argv_free(argv);
    return ret;
}
