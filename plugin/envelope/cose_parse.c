/* Strict parsing of notation's COSE envelope: COSE_Sign1_Tagged
 * 18([protected bstr, unprotected map, payload bstr, signature bstr]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "envelope/sigenv.h"
#include "common/buf.h"
#include "common/mem.h"

#define CBOR_MAX_DEPTH 16

/* Walks one CBOR item's heads before libcbor sees it: libcbor 0.8
 * allocates arrays and maps by their declared size, so a few bytes could
 * ask for gigabytes. Refuses counts larger than the bytes left, indefinite
 * lengths, reserved values and deep nesting. Returns the item's size, or
 * 0 when it is refused. */
static size_t cbor_precheck(const unsigned char *p, size_t n, int depth)
{
    unsigned major, ai;
    uint64_t val = 0, i, items;
    size_t hl = 1, used, k;

    if (n == 0 || depth > CBOR_MAX_DEPTH)
        return 0;
    major = p[0] >> 5;
    ai = p[0] & 31;
    if (ai >= 28)
        return 0; /* reserved, or indefinite length / break */
    if (ai >= 24)
        hl = 1 + ((size_t)1 << (ai - 24));
    if (hl > n)
        return 0;
    for (k = 1; k < hl; k++)
        val = val << 8 | p[k];
    if (ai < 24)
        val = ai;
    if (major <= 1 || major == 7)
        return hl;
    if (major == 2 || major == 3)
        return val <= n - hl ? hl + (size_t)val : 0;
    if (major == 6)
        return (used = cbor_precheck(p + hl, n - hl, depth + 1)) ? hl + used
                                                                 : 0;
    items = major == 5 ? val * 2 : val;
    if (val > n - hl || items > n - hl)
        return 0;
    for (i = 0, used = hl; i < items; i++) {
        k = cbor_precheck(p + used, n - used, depth + 1);
        if (k == 0)
            return 0;
        used += k;
    }
    return used;
}

/* A definite text string without NUL bytes, malloc'd; NULL otherwise. */
static char *text(cbor_item_t *it)
{
    const char *s;
    size_t n;

    if (!cbor_isa_string(it) || !cbor_string_is_definite(it))
        return NULL;
    s = (const char *)cbor_string_handle(it);
    n = cbor_string_length(it);
    if (n == 0 || memchr(s, '\0', n) != NULL)
        return NULL;
    return nk_xstrndup(s, n);
}

static int is_bytes(cbor_item_t *it)
{
    return cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

/* An integer label/value into *v; 0 when it is one. */
static int int_of(cbor_item_t *it, long long *v)
{
    uint64_t u;

    if (!cbor_isa_uint(it) && !cbor_isa_negint(it))
        return -1;
    u = cbor_get_int(it);
    if (u > (uint64_t)1 << 53)
        return -1;
    *v = cbor_isa_uint(it) ? (long long)u : -1 - (long long)u;
    return 0;
}

/* tag 1 (epoch seconds) with a non-negative integer. */
static int epoch(cbor_item_t *it, time_t *out, const char *name,
                 struct nk_err *err)
{
    cbor_item_t *in;
    long long v = -1;

    if (!cbor_isa_tag(it) || cbor_tag_value(it) != 1)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "header \"%s\" must be a "
                          "tag 1 time",
                          name);
    in = cbor_tag_item(it);
    if (int_of(in, &v) != 0 || v <= 0)
        v = -1;
    cbor_decref(&in);
    if (v < 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "header \"%s\" must be a "
                          "positive epoch time",
                          name);
    *out = (time_t)v;
    return 0;
}

static int alg_of(long long v, char alg[8])
{
    static const struct {
        long long id;
        const char *name;
    } map[] = {
        {-37, "PS256"}, {-38, "PS384"}, {-39, "PS512"},
        {-7, "ES256"},  {-35, "ES384"}, {-36, "ES512"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].id == v) {
            snprintf(alg, 8, "%s", map[i].name);
            return 0;
        }
    return -1;
}

/* Same label (integer or text)? Used to refuse duplicate map keys. */
static int same_key(cbor_item_t *a, cbor_item_t *b)
{
    long long x, y;

    if (int_of(a, &x) == 0 && int_of(b, &y) == 0)
        return x == y;
    if (cbor_isa_string(a) && cbor_isa_string(b) &&
        cbor_string_is_definite(a) && cbor_string_is_definite(b))
        return cbor_string_length(a) == cbor_string_length(b) &&
               memcmp(cbor_string_handle(a), cbor_string_handle(b),
                      cbor_string_length(a)) == 0;
    return 0;
}

static int map_ok(cbor_item_t *m, const char *what, struct nk_err *err)
{
    struct cbor_pair *p;
    size_t i, j, n;

    if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s must be a definite "
                          "CBOR map",
                          what);
    p = cbor_map_handle(m);
    n = cbor_map_size(m);
    if (n > NK_SIGENV_MAX_HEADERS)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s has %zu labels, more than %d", what, n,
                          NK_SIGENV_MAX_HEADERS);
    for (i = 0; i < n; i++) {
        long long v;
        char *t = text(p[i].key);

        if (t == NULL && int_of(p[i].key, &v) != 0)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "%s has a label that "
                              "is neither an integer nor text",
                              what);
        free(t);
        for (j = i + 1; j < n; j++)
            if (same_key(p[i].key, p[j].key))
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  "%s has a label "
                                  "twice",
                                  what);
    }
    return 0;
}

static int read_crit(cbor_item_t *c, struct nk_sigenv *e, struct nk_err *err)
{
    cbor_item_t **it;
    size_t i, n;
    long long v;

    if (!cbor_isa_array(c) || !cbor_array_is_definite(c) ||
        cbor_array_size(c) == 0 || cbor_array_size(c) > NK_SIGENV_MAX_CRIT)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"crit\" (label 2) must "
                          "be an array of 1 to %d labels",
                          NK_SIGENV_MAX_CRIT);
    it = cbor_array_handle(c);
    n = cbor_array_size(c);
    for (i = 0; i < n; i++) {
        e->crit[i] = text(it[i]);
        if (e->crit[i] == NULL && int_of(it[i], &v) == 0)
            e->crit[i] = nk_xasprintf("%lld", v);
        if (e->crit[i] == NULL)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "\"crit\" holds a "
                              "value that is not a label");
        e->n_crit = i + 1;
    }
    return 0;
}

/* One protected header entry with a text label. */
static int prot_text(const char *k, cbor_item_t *v, struct nk_sigenv *e,
                     struct nk_err *err)
{
    char **dst = NULL;

    if (strcmp(k, "io.cncf.notary.signingScheme") == 0)
        dst = &e->scheme;
    else if (strcmp(k, "io.cncf.notary.verificationPlugin") == 0)
        dst = &e->vplugin;
    else if (strcmp(k, "io.cncf.notary.verificationPluginMinVersion") == 0)
        dst = &e->vplugin_min;
    else if (strcmp(k, "io.cncf.notary.signingTime") == 0 ||
             strcmp(k, "io.cncf.notary.authenticSigningTime") == 0)
        return epoch(v, &e->signing_time, k, err);
    else if (strcmp(k, "io.cncf.notary.expiry") == 0)
        return epoch(v, &e->expiry, k, err);
    else
        return 0; /* extended attribute */
    *dst = text(v);
    if (*dst == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "header \"%s\" must be "
                          "text",
                          k);
    return 0;
}

/* Every critical label must be in the protected header. */
static int crit_present(cbor_item_t *m, const struct nk_sigenv *e,
                        struct nk_err *err)
{
    struct cbor_pair *p = cbor_map_handle(m);
    size_t i, j;
    char *t;
    int found;

    for (i = 0; i < e->n_crit; i++) {
        found = 0;
        for (j = 0; j < cbor_map_size(m) && !found; j++) {
            t = text(p[j].key);
            found = t != NULL && strcmp(t, e->crit[i]) == 0;
            free(t);
        }
        if (!found)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "critical header "
                              "\"%.64s\" is missing",
                              e->crit[i]);
    }
    return 0;
}

static int read_protected(cbor_item_t *bstr, struct nk_sigenv *e,
                          struct nk_err *err)
{
    struct cbor_load_result res;
    size_t len = cbor_bytestring_length(bstr);
    cbor_item_t *m = cbor_precheck(cbor_bytestring_handle(bstr), len, 0) == len
                         ? cbor_load(cbor_bytestring_handle(bstr), len, &res)
                         : NULL;
    struct cbor_pair *p;
    size_t i;
    long long k = 0, v;
    char *t;
    int ret = -1;

    if (m == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "protected header is not one "
                   "CBOR item");
        goto out;
    }
    if (map_ok(m, "protected header", err) != 0)
        goto out;
    p = cbor_map_handle(m);
    for (i = 0; i < cbor_map_size(m); i++) {
        t = text(p[i].key);
        if (t != NULL) {
            int r = prot_text(t, p[i].value, e, err);

            free(t);
            if (r != 0)
                goto out;
        } else if (int_of(p[i].key, &k) == 0 && k == 1) {
            if (int_of(p[i].value, &v) != 0 || alg_of(v, e->alg) != 0) {
                nk_err_set(err, NK_ERR_VALIDATION, "unsupported COSE alg");
                goto out;
            }
        } else if (k == 2 && read_crit(p[i].value, e, err) != 0) {
            goto out;
        } else if (k == 3 && (e->cty = text(p[i].value)) == NULL) {
            nk_err_set(err, NK_ERR_VALIDATION, "content type must be text");
            goto out;
        }
    }
    if (crit_present(m, e, err) != 0)
        goto out;
    ret = 0;
out:
    if (m != NULL)
        cbor_decref(&m);
    return ret;
}

static int read_chain(cbor_item_t *v, struct nk_sigenv *e, struct nk_err *err)
{
    cbor_item_t **it;
    size_t i;

    if (is_bytes(v))
        return nk_sigenv_add_cert(e, cbor_bytestring_handle(v),
                                  cbor_bytestring_length(v), err);
    if (!cbor_isa_array(v) || !cbor_array_is_definite(v) ||
        cbor_array_size(v) == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "x5chain (label 33) must "
                          "be a certificate or a non-empty array of them");
    it = cbor_array_handle(v);
    for (i = 0; i < cbor_array_size(v); i++) {
        if (!is_bytes(it[i]))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "x5chain entries must "
                              "be byte strings");
        if (nk_sigenv_add_cert(e, cbor_bytestring_handle(it[i]),
                               cbor_bytestring_length(it[i]), err) != 0)
            return -1;
    }
    return 0;
}

static int read_unprotected(cbor_item_t *m, struct nk_sigenv *e,
                            struct nk_err *err)
{
    struct cbor_pair *p;
    size_t i;
    long long k;
    char *t;
    int r = 0;

    if (map_ok(m, "unprotected header", err) != 0)
        return -1;
    p = cbor_map_handle(m);
    for (i = 0; i < cbor_map_size(m) && r == 0; i++) {
        t = text(p[i].key);
        if (t == NULL && int_of(p[i].key, &k) == 0 && k == 33) {
            r = read_chain(p[i].value, e, err);
        } else if (t != NULL && strcmp(t, "io.cncf.notary.signingAgent") == 0) {
            e->agent = text(p[i].value);
            if (e->agent == NULL)
                r = nk_err_set(err, NK_ERR_VALIDATION,
                               "signingAgent must be "
                               "text");
        } else if (t != NULL &&
                   strcmp(t, "io.cncf.notary.timestampSignature") == 0 &&
                   is_bytes(p[i].value) && e->tst == NULL) {
            e->tst_len = cbor_bytestring_length(p[i].value);
            e->tst = nk_xmalloc(e->tst_len + 1);
            memcpy(e->tst, cbor_bytestring_handle(p[i].value), e->tst_len);
        } else {
            r = nk_err_set(err, NK_ERR_VALIDATION,
                           "unprotected header has "
                           "an unknown or malformed label");
        }
        free(t);
    }
    return r;
}

/* A CBOR head (major type, length) in its shortest form. */
static int head(struct nk_buf *b, unsigned major, uint64_t len,
                struct nk_err *err)
{
    unsigned char h[9];
    size_t n = 1, i;

    if (len < 24) {
        h[0] = (unsigned char)(major << 5 | len);
    } else {
        n = len <= 0xff ? 2 : len <= 0xffff ? 3 : len <= 0xffffffffu ? 5 : 9;
        h[0] = (unsigned char)(major << 5 | (n == 2   ? 24
                                             : n == 3 ? 25
                                             : n == 5 ? 26
                                                      : 27));
        for (i = 1; i < n; i++)
            h[i] = (unsigned char)(len >> (8 * (n - 1 - i)));
    }
    return nk_buf_append(b, h, n, err);
}

/* Sig_structure ["Signature1", protected, h'', payload]. */
static int sig_structure(cbor_item_t *prot, const struct nk_sigenv *e,
                         struct nk_err *err, struct nk_sigenv *out)
{
    struct nk_buf b;
    size_t plen = cbor_bytestring_length(prot);

    nk_buf_init(&b, NK_SIGENV_MAX * 2);
    if (head(&b, 4, 4, err) != 0 || head(&b, 3, 10, err) != 0 ||
        nk_buf_appendstr(&b, "Signature1", err) != 0 ||
        head(&b, 2, plen, err) != 0 ||
        nk_buf_append(&b, cbor_bytestring_handle(prot), plen, err) != 0 ||
        head(&b, 2, 0, err) != 0 || head(&b, 2, e->payload_len, err) != 0 ||
        nk_buf_append(&b, e->payload, e->payload_len, err) != 0) {
        nk_buf_release(&b);
        return -1;
    }
    out->tbs = nk_buf_take(&b, &out->tbs_len);
    return 0;
}

static unsigned char *copy_bytes(cbor_item_t *it, size_t *n)
{
    unsigned char *p;

    *n = cbor_bytestring_length(it);
    p = nk_xmalloc(*n + 1);
    memcpy(p, cbor_bytestring_handle(it), *n);
    return p;
}

int nk_sigenv_parse_cose(const unsigned char *p, size_t n, struct nk_sigenv *e,
                         struct nk_err *err)
{
    struct cbor_load_result res;
    cbor_item_t *arr = NULL, **it;
    int ret = -1;

    /* Tag 18 is one byte, 0xd2. libcbor 0.8 (Debian bookworm) refuses
     * tags 6 to 20 as "unassigned", so the tag is read here and the
     * array after it by libcbor. */
    e->cose = 1;
    if (n < 2 || p[0] != 0xd2) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "not a COSE_Sign1_Tagged item "
                   "(tag 18)");
        goto out;
    }
    if (cbor_precheck(p + 1, n - 1, 0) != n - 1) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "COSE_Sign1 is not one well-formed "
                   "definite-length CBOR item");
        goto out;
    }
    arr = cbor_load(p + 1, n - 1, &res);
    if (arr == NULL || res.error.code != CBOR_ERR_NONE || res.read != n - 1) {
        nk_err_set(err, NK_ERR_VALIDATION, "COSE_Sign1 is not one CBOR item");
        goto out;
    }
    if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) ||
        cbor_array_size(arr) != 4) {
        nk_err_set(err, NK_ERR_VALIDATION, "COSE_Sign1 must be an array of 4");
        goto out;
    }
    it = cbor_array_handle(arr);
    if (!is_bytes(it[0]) || cbor_bytestring_length(it[0]) == 0 ||
        !is_bytes(it[2]) || !is_bytes(it[3]) ||
        cbor_bytestring_length(it[3]) == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "COSE_Sign1 needs protected, "
                   "payload and signature byte strings (attached payload)");
        goto out;
    }
    if (read_protected(it[0], e, err) != 0 ||
        read_unprotected(it[1], e, err) != 0)
        goto out;
    e->payload = copy_bytes(it[2], &e->payload_len);
    e->sig = copy_bytes(it[3], &e->sig_len);
    if (sig_structure(it[0], e, err, e) != 0)
        goto out;
    ret = nk_sigenv_check_headers(e, err);
out:
    if (arr != NULL)
        cbor_decref(&arr);
    return ret;
}
