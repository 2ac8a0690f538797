/* AWS Signature Version 4: canonical request, string to sign and the
 * HMAC-SHA256 signing key chain, byte for byte as the AWS test suite. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/mem.h"
#include "sigv4.h"

#define SIGV4_MAX (256u * 1024)

struct hdr {
    char *name;  /* lower case */
    char *value; /* trimmed, runs of white space collapsed */
    size_t order;
};

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(p, n, md);
    hex(md, sizeof(md), out);
}

void nk_sigv4_amz_date(long long t, char *buf)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encodes p[0..n) the AWS way (upper-case hex); '/' kept when
 * keep_slash. */
static int encode(struct nk_buf *b, const char *p, size_t n, int keep_slash,
                  struct nk_err *err)
{
    char esc[4];
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (unreserved(c) || (keep_slash && c == '/')) {
            if (nk_buf_append(b, &p[i], 1, err) != 0)
                return -1;
            continue;
        }
        snprintf(esc, sizeof(esc), "%%%02X", c);
        if (nk_buf_append(b, esc, 3, err) != 0)
            return -1;
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes p[0..n) into a new string. */
static char *decode(const char *p, size_t n)
{
    char *out = nk_xmalloc(n + 1);
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
            hexval(p[i + 2]) >= 0) {
            out[j++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            out[j++] = p[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* RFC 3986 dot-segment removal with empty segments dropped; a trailing
 * slash survives. */
static char *normalize_path(const char *p, size_t n)
{
    char *out = nk_xmalloc(n + 2);
    size_t len = 0, i = 0, seg, k;
    int trailing = n > 0 && p[n - 1] == '/';

    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        seg = i;
        while (i < n && p[i] != '/')
            i++;
        k = i - seg;
        if (k == 0 || (k == 1 && p[seg] == '.'))
            continue;
        if (k == 2 && p[seg] == '.' && p[seg + 1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, p + seg, k);
        len += k;
    }
    if (len == 0 || trailing)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

struct qparam {
    char *k, *v; /* encoded */
};

static int cmp_q(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->k, y->k);

    return c != 0 ? c : strcmp(x->v, y->v);
}

static char *encoded(const char *p, size_t n, struct nk_err *err)
{
    struct nk_buf b;
    char *raw = decode(p, n);

    nk_buf_init(&b, SIGV4_MAX);
    if (encode(&b, raw, strlen(raw), 0, err) != 0 ||
        nk_buf_append(&b, "", 0, err) != 0) {
        free(raw);
        nk_buf_release(&b);
        return NULL;
    }
    free(raw);
    return (char *)nk_buf_take(&b, NULL);
}

static int canon_query(struct nk_buf *b, const char *q, struct nk_err *err)
{
    struct qparam *ps = NULL;
    size_t n = 0, i, len;
    const char *p = q, *eq, *end;
    int ret = -1;

    while (*p != '\0') {
        end = p + strcspn(p, "&");
        len = (size_t)(end - p);
        if (len > 0) {
            eq = memchr(p, '=', len);
            ps = nk_xrealloc(ps, (n + 1) * sizeof(*ps));
            ps[n].k = encoded(p, eq ? (size_t)(eq - p) : len, err);
            ps[n].v = eq ? encoded(eq + 1, (size_t)(end - eq - 1), err)
                         : nk_xstrdup("");
            n++;
            if (ps[n - 1].k == NULL || ps[n - 1].v == NULL)
                goto out;
        }
        p = *end ? end + 1 : end;
    }
    if (n > 0)
        qsort(ps, n, sizeof(*ps), cmp_q);
    for (i = 0; i < n; i++) {
        if ((i > 0 && nk_buf_appendstr(b, "&", err) != 0) ||
            nk_buf_appendstr(b, ps[i].k, err) != 0 ||
            nk_buf_appendstr(b, "=", err) != 0 ||
            nk_buf_appendstr(b, ps[i].v, err) != 0)
            goto out;
    }
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        free(ps[i].k);
        free(ps[i].v);
    }
    free(ps);
    return ret;
}

static char *clean_value(const char *v)
{
    size_t n = strlen(v), i, j = 0;
    char *out = nk_xmalloc(n + 1);
    int space = 0;

    for (i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
            space = j > 0;
            continue;
        }
        if (space)
            out[j++] = ' ';
        space = 0;
        out[j++] = v[i];
    }
    out[j] = '\0';
    return out;
}

static int cmp_h(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void add_hdr(struct hdr **hs, size_t *n, const char *name,
                    const char *value)
{
    size_t i;

    *hs = nk_xrealloc(*hs, (*n + 1) * sizeof(**hs));
    (*hs)[*n].name = nk_xstrdup(name);
    for (i = 0; (*hs)[*n].name[i] != '\0'; i++)
        (*hs)[*n].name[i] = (char)tolower((unsigned char)name[i]);
    (*hs)[*n].value = clean_value(value);
    (*hs)[*n].order = *n;
    (*n)++;
}

/* Appends "name:v1,v2\n" lines and builds the signed header list. */
static int canon_headers(struct nk_buf *b, struct nk_buf *signed_h,
                         struct hdr *hs, size_t n, struct nk_err *err)
{
    size_t i;

    qsort(hs, n, sizeof(*hs), cmp_h);
    for (i = 0; i < n; i++) {
        int same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;

        if (same) {
            if (nk_buf_appendstr(b, ",", err) != 0)
                return -1;
        } else {
            if ((i > 0 && nk_buf_appendstr(b, "\n", err) != 0) ||
                nk_buf_appendstr(b, hs[i].name, err) != 0 ||
                nk_buf_appendstr(b, ":", err) != 0)
                return -1;
            if ((i > 0 && nk_buf_appendstr(signed_h, ";", err) != 0) ||
                nk_buf_appendstr(signed_h, hs[i].name, err) != 0)
                return -1;
        }
        if (nk_buf_appendstr(b, hs[i].value, err) != 0)
            return -1;
    }
    return nk_buf_appendstr(b, "\n\n", err);
}

static int canon_request(const struct nk_sigv4_params *p, const char *method,
                         const char *target, struct hdr *hs, size_t n,
                         const char *body_hash, struct nk_buf *b,
                         struct nk_buf *sh, struct nk_err *err)
{
    size_t plen = strcspn(target, "?");
    char *path;
    int r;

    if (nk_buf_appendstr(b, method, err) != 0 ||
        nk_buf_appendstr(b, "\n", err) != 0)
        return -1;
    path =
        p->normalize ? normalize_path(target, plen) : nk_xstrndup(target, plen);
    if (path[0] == '\0') {
        free(path);
        path = nk_xstrdup("/");
    }
    r = encode(b, path, strlen(path), 1, err);
    free(path);
    if (r != 0 || nk_buf_appendstr(b, "\n", err) != 0)
        return -1;
    if (target[plen] == '?' && canon_query(b, target + plen + 1, err) != 0)
        return -1;
    if (nk_buf_appendstr(b, "\n", err) != 0 ||
        canon_headers(b, sh, hs, n, err) != 0 ||
        nk_buf_append(b, sh->data, sh->len, err) != 0 ||
        nk_buf_appendstr(b, "\n", err) != 0)
        return -1;
    return nk_buf_appendstr(b, body_hash, err);
}

/* kSigning = HMAC chain over date, region, service, "aws4_request". */
static void signing_key(const struct nk_sigv4_params *p, unsigned char key[32])
{
    const char *parts[4] = {NULL, p->region, p->service, "aws4_request"};
    char date[9], *k0;
    unsigned int len = 32;
    int i;

    memcpy(date, p->amz_date, 8);
    date[8] = '\0';
    parts[0] = date;
    k0 = nk_xasprintf("AWS4%s", p->secret_key);
    HMAC(EVP_sha256(), k0, (int)strlen(k0), (const unsigned char *)parts[0],
         strlen(parts[0]), key, &len);
    nk_strfreezero(k0);
    for (i = 1; i < 4; i++)
        HMAC(EVP_sha256(), key, 32, (const unsigned char *)parts[i],
             strlen(parts[i]), key, &len);
}

static void put(struct nk_sigv4_out *out, const char *name, char *value)
{
    out->owned[out->n_add] = value;
    out->add[out->n_add].name = name;
    out->add[out->n_add].value = value;
    out->n_add++;
}

static int finish(const struct nk_sigv4_params *p, struct nk_sigv4_out *out,
                  const char *signed_h, struct nk_err *err)
{
    unsigned char key[32], sig[32];
    unsigned int len = 32;
    char creq_hash[65];

    sha256_hex(out->creq, strlen(out->creq), creq_hash);
    out->sts = nk_xasprintf("AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
                            p->amz_date, p->amz_date, p->region, p->service,
                            creq_hash);
    signing_key(p, key);
    if (HMAC(EVP_sha256(), key, 32, (const unsigned char *)out->sts,
             strlen(out->sts), sig, &len) == NULL) {
        nk_memzero(key, sizeof(key));
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot compute SigV4 HMAC");
    }
    nk_memzero(key, sizeof(key));
    hex(sig, sizeof(sig), out->signature);
    if (p->token != NULL && p->omit_token)
        put(out, "X-Amz-Security-Token", nk_xstrdup(p->token));
    put(out, "Authorization",
        nk_xasprintf("AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request,"
                     " SignedHeaders=%s, Signature=%s",
                     p->access_key, p->amz_date, p->region, p->service,
                     signed_h, out->signature));
    return 0;
}

int nk_sigv4_sign(const struct nk_sigv4_params *p, const char *method,
                  const char *target, const struct nk_http_header *headers,
                  size_t n_headers, const unsigned char *body, size_t body_len,
                  struct nk_sigv4_out *out, struct nk_err *err)
{
    struct nk_buf b, sh;
    struct hdr *hs = NULL;
    size_t n = 0, i;
    char body_hash[65];
    int ret = -1;

    memset(out, 0, sizeof(*out));
    nk_buf_init(&b, SIGV4_MAX);
    nk_buf_init(&sh, SIGV4_MAX);
    if (p->amz_date == NULL || strlen(p->amz_date) != 16)
        return nk_err_set(err, NK_ERR_GENERIC, "bad SigV4 date");
    sha256_hex(body != NULL ? body : (const unsigned char *)"", body_len,
               body_hash);
    for (i = 0; i < n_headers; i++)
        add_hdr(&hs, &n, headers[i].name, headers[i].value);
    put(out, "X-Amz-Date", nk_xstrdup(p->amz_date));
    add_hdr(&hs, &n, "x-amz-date", p->amz_date);
    if (p->sign_body) {
        put(out, "X-Amz-Content-Sha256", nk_xstrdup(body_hash));
        add_hdr(&hs, &n, "x-amz-content-sha256", body_hash);
    }
    if (p->token != NULL && !p->omit_token) {
        put(out, "X-Amz-Security-Token", nk_xstrdup(p->token));
        add_hdr(&hs, &n, "x-amz-security-token", p->token);
    }
    if (canon_request(p, method, target, hs, n, body_hash, &b, &sh, err) != 0)
        goto out;
    out->creq = (char *)nk_buf_take(&b, NULL);
    if (finish(p, out, (const char *)sh.data, err) != 0)
        goto out;
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        free(hs[i].name);
        nk_strfreezero(hs[i].value);
    }
    free(hs);
    nk_buf_release(&b);
    nk_buf_release(&sh);
    if (ret != 0)
        nk_sigv4_out_release(out);
    return ret;
}

void nk_sigv4_out_release(struct nk_sigv4_out *out)
{
    size_t i;

    for (i = 0; i < out->n_add; i++)
        nk_strfreezero(out->owned[i]);
    nk_strfreezero(out->creq);
    nk_strfreezero(out->sts);
    memset(out, 0, sizeof(*out));
}
