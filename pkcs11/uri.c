/* RFC 7512 pkcs11: URI parser: path attributes split by ';', query
 * attributes by '&', percent-decoding everywhere, duplicates refused; and
 * the key ids the listing prints. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "uri.h"

#define URI_MAX 8192

enum kind { K_STR, K_ID, K_SLOTID };

struct attr {
    const char *name;
    int query;
    enum kind kind;
    size_t off; /* of the char * field, for K_STR */
};

#define F(field) offsetof(struct nk_p11_uri, field)

static const struct attr attrs[] = {
    {"token", 0, K_STR, F(token)},
    {"manufacturer", 0, K_STR, F(manufacturer)},
    {"model", 0, K_STR, F(model)},
    {"serial", 0, K_STR, F(serial)},
    {"slot-description", 0, K_STR, F(slot_description)},
    {"slot-manufacturer", 0, K_STR, F(slot_manufacturer)},
    {"slot-id", 0, K_SLOTID, 0},
    {"library-manufacturer", 0, K_STR, F(library_manufacturer)},
    {"library-description", 0, K_STR, F(library_description)},
    {"library-version", 0, K_STR, F(library_version)},
    {"object", 0, K_STR, F(object)},
    {"id", 0, K_ID, 0},
    {"type", 0, K_STR, F(type)},
    {"module-path", 1, K_STR, F(module_path)},
    {"module-name", 1, K_STR, F(module_name)},
    {"pin-source", 1, K_STR, F(pin_source)},
    {"pin-value", 1, K_STR, F(pin_value)},
};

#undef F

static char **str_field(struct nk_p11_uri *u, const struct attr *a)
{
    return (char **)(void *)((char *)u + a->off);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Checks the raw characters of a value and percent-decodes it into a new
 * NUL-terminated buffer. name is only used in messages; the value itself
 * is never quoted (it may be a PIN). */
static int decode(const char *s, size_t n, const char *name, int query,
                  unsigned char **out, size_t *outlen, struct nk_err *err)
{
    unsigned char *p = nk_xmalloc(n + 1);
    size_t i, k = 0;
    int ret = -1, hi, lo;
    unsigned char c;

    *out = NULL;
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        if (c == '%') {
            hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                nk_err_set(err, NK_ERR_VALIDATION,
                           "bad percent-escape in pkcs11: URI attribute "
                           "\"%s\" (want %%XX with two hex digits)",
                           name);
                goto out;
            }
            p[k++] = (unsigned char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        if (c <= 0x20 || c >= 0x7f || c == '#' || (query && c == ';')) {
            nk_err_set(err, NK_ERR_VALIDATION,
                       "byte 0x%02X in pkcs11: URI attribute \"%s\" must "
                       "be percent-encoded as %%%02X%s",
                       c, name, c,
                       query && c == ';'
                           ? " (query attributes are separated by '&')"
                           : "");
            goto out;
        }
        p[k++] = c;
    }
    p[k] = '\0';
    *out = p;
    *outlen = k;
    p = NULL;
    ret = 0;
out:
    nk_freezero(p, n + 1);
    return ret;
}

static int set_slot_id(struct nk_p11_uri *u, const char *v, struct nk_err *err)
{
    char *end = NULL;
    unsigned long long x;

    if (v[0] < '0' || v[0] > '9')
        goto bad;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (*end != '\0' || errno == ERANGE ||
        x > (unsigned long long)(unsigned long)-1)
        goto bad;
    u->slot_id = (unsigned long)x;
    u->has_slot_id = 1;
    return 0;
bad:
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "pkcs11: URI attribute \"slot-id\" must be a decimal "
                      "number, not \"%s\"",
                      v);
}

static int check_type(const char *v, struct nk_err *err)
{
    static const char *const types[] = {"public", "private", "cert",
                                        "secret-key", "data"};
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(v, types[i]) == 0)
            return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "pkcs11: URI attribute \"type\" must be public, "
                      "private, cert, secret-key or data, not \"%s\"",
                      v);
}

static int add_unknown(struct nk_p11_uri *u, const char *name, int query,
                       struct nk_err *err)
{
    char *full = nk_xasprintf("%s%s", query ? "?" : "", name);
    size_t i;

    for (i = 0; i < u->n_unknown; i++) {
        if (strcmp(u->unknown[i], full) == 0) {
            free(full);
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "pkcs11: URI attribute \"%s\" appears twice",
                              name);
        }
    }
    u->unknown =
        nk_xrealloc(u->unknown, (u->n_unknown + 1) * sizeof(*u->unknown));
    u->unknown[u->n_unknown++] = full;
    return 0;
}

static const struct attr *find_attr(const char *name, int query)
{
    size_t i;

    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (attrs[i].query == query && strcmp(attrs[i].name, name) == 0)
            return &attrs[i];
    return NULL;
}

static int is_set(struct nk_p11_uri *u, const struct attr *a)
{
    if (a->kind == K_ID)
        return u->has_id;
    if (a->kind == K_SLOTID)
        return u->has_slot_id;
    return *str_field(u, a) != NULL;
}

/* One "name=value" of the path (query == 0) or the query. */
static int parse_attr(struct nk_p11_uri *u, const char *s, size_t n, int query,
                      struct nk_err *err)
{
    const char *eq = memchr(s, '=', n);
    char name[64];
    size_t nlen = eq ? (size_t)(eq - s) : n, i, vlen = 0;
    const struct attr *a;
    unsigned char *v = NULL;
    int ret = -1;

    if (n == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "empty attribute in pkcs11: URI %s (stray '%c')",
                          query ? "query" : "path", query ? '&' : ';');
    if (nlen == 0 || nlen >= sizeof(name))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pkcs11: URI %s has an attribute with %s name",
                          query ? "query" : "path",
                          nlen == 0 ? "an empty" : "a too long");
    for (i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "bad attribute name \"%.*s\" in pkcs11: URI",
                              (int)nlen, s);
    }
    memcpy(name, s, nlen);
    name[nlen] = '\0';
    if (eq == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pkcs11: URI attribute \"%s\" has no value "
                          "(want %s=value)",
                          name, name);
    if (decode(eq + 1, n - nlen - 1, name, query, &v, &vlen, err) != 0)
        goto out;
    a = find_attr(name, query);
    if (a == NULL) {
        if (find_attr(name, !query) != NULL) {
            nk_err_set(err, NK_ERR_VALIDATION,
                       "pkcs11: URI attribute \"%s\" belongs in the %s", name,
                       query ? "path (before '?')" : "query (after '?')");
            goto out;
        }
        ret = add_unknown(u, name, query, err);
        goto out;
    }
    if (is_set(u, a)) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pkcs11: URI attribute \"%s\" appears twice", name);
        goto out;
    }
    if (a->kind == K_ID) {
        u->id = v;
        u->id_len = vlen;
        u->has_id = 1;
        v = NULL;
        ret = 0;
        goto out;
    }
    if (memchr(v, '\0', vlen) != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pkcs11: URI attribute \"%s\" contains a NUL byte", name);
        goto out;
    }
    if (a->kind == K_SLOTID) {
        ret = set_slot_id(u, (const char *)v, err);
        goto out;
    }
    if (strcmp(name, "type") == 0 && check_type((char *)v, err) != 0)
        goto out;
    *str_field(u, a) = (char *)v;
    v = NULL;
    ret = 0;
out:
    nk_freezero(v, vlen + 1);
    return ret;
}

/* Splits [s, s+n) at sep and parses each attribute. */
static int parse_part(struct nk_p11_uri *u, const char *s, size_t n, int query,
                      struct nk_err *err)
{
    char sep = query ? '&' : ';';
    const char *end = s + n, *next;

    if (n == 0)
        return 0;
    for (;;) {
        next = memchr(s, sep, (size_t)(end - s));
        if (next == NULL)
            next = end;
        if (parse_attr(u, s, (size_t)(next - s), query, err) != 0)
            return -1;
        if (next == end)
            return 0;
        s = next + 1;
    }
}

int nk_p11_uri_parse(const char *s, struct nk_p11_uri **out, struct nk_err *err)
{
    struct nk_p11_uri *u = NULL;
    const char *p, *q;
    size_t n;
    int ret = -1;

    *out = NULL;
    if (s == NULL || s[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION, "key id is empty");
    n = strlen(s);
    if (n > URI_MAX)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pkcs11: URI is longer than %d bytes", URI_MAX);
    if (strncasecmp(s, "pkcs11:", 7) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "key id does not start with \"pkcs11:\"");
    u = nk_xcalloc(1, sizeof(*u));
    p = s + 7;
    q = strchr(p, '?');
    if (parse_part(u, p, q ? (size_t)(q - p) : strlen(p), 0, err) != 0)
        goto out;
    if (q != NULL && parse_part(u, q + 1, strlen(q + 1), 1, err) != 0)
        goto out;
    *out = u;
    u = NULL;
    ret = 0;
out:
    nk_p11_uri_free(u);
    return ret;
}

/* Nonzero for a query attribute "name=..." that carries a PIN or names
 * where one is. */
static int is_pin_attr(const char *a, size_t n)
{
    static const char *const names[] = {"pin-value=", "pin-source="};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (n >= strlen(names[i]) &&
            strncmp(a, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

char *nk_p11_uri_public(const char *s)
{
    const char *q = strchr(s, '?'), *a, *end;
    size_t keep, n;
    char *out;

    if (q == NULL)
        return nk_xstrdup(s);
    keep = (size_t)(q - s);
    out = nk_xmalloc(strlen(s) + 1);
    memcpy(out, s, keep);
    n = keep;
    for (a = q + 1; *a != '\0'; a = *end != '\0' ? end + 1 : end) {
        end = a + strcspn(a, "&");
        if (is_pin_attr(a, (size_t)(end - a)))
            continue;
        out[n] = n == keep ? '?' : '&';
        n++;
        memcpy(out + n, a, (size_t)(end - a));
        n += (size_t)(end - a);
    }
    out[n] = '\0';
    return out;
}

int nk_p11_uri_check_key(const struct nk_p11_uri *u, struct nk_err *err)
{
    size_t i;
    const char *name;

    if (u->type != NULL && strcmp(u->type, "private") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "key id has type=%s but must name a private key "
                          "(type=private, or no type)",
                          u->type);
    for (i = 0; i < u->n_unknown; i++) {
        name = u->unknown[i][0] == '?' ? u->unknown[i] + 1 : u->unknown[i];
        /* A typo such as "objet=" must not widen the match silently, so
         * only vendor attributes marked with "x-" are ignored. */
        if (strncmp(name, "x-", 2) != 0)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "unknown pkcs11: URI %s attribute \"%s\" "
                              "(vendor attributes need an \"x-\" prefix)",
                              u->unknown[i][0] == '?' ? "query" : "path", name);
    }
    return 0;
}

static void add_desc(char *buf, size_t size, const char *what, const char *v)
{
    size_t n = strlen(buf);

    if (v == NULL || n >= size)
        return;
    snprintf(buf + n, size - n, "%s%s \"%s\"", n ? ", " : "", what, v);
}

char *nk_p11_uri_describe(const struct nk_p11_uri *u)
{
    char buf[512] = "";
    size_t n, i;

    add_desc(buf, sizeof(buf), "token", u->token);
    add_desc(buf, sizeof(buf), "manufacturer", u->manufacturer);
    add_desc(buf, sizeof(buf), "model", u->model);
    add_desc(buf, sizeof(buf), "serial", u->serial);
    add_desc(buf, sizeof(buf), "slot-description", u->slot_description);
    add_desc(buf, sizeof(buf), "slot-manufacturer", u->slot_manufacturer);
    n = strlen(buf);
    if (u->has_slot_id)
        snprintf(buf + n, sizeof(buf) - n, "%sslot-id %lu", n ? ", " : "",
                 u->slot_id);
    add_desc(buf, sizeof(buf), "object", u->object);
    n = strlen(buf);
    if (u->has_id) {
        snprintf(buf + n, sizeof(buf) - n, "%sid ", n ? ", " : "");
        for (i = 0; i < u->id_len && strlen(buf) + 3 < sizeof(buf); i++) {
            n = strlen(buf);
            snprintf(buf + n, sizeof(buf) - n, "%02x", u->id[i]);
        }
    }
    return nk_xstrdup(buf[0] ? buf : "any token, any key");
}

void nk_p11_uri_key_name(const struct nk_p11_uri *u, char *buf, size_t cap)
{
    size_t i, n = 0;

    buf[0] = '\0';
    if (u->object != NULL) {
        snprintf(buf, cap, "%s", u->object);
        return;
    }
    for (i = 0; u->has_id && i < u->id_len && n + 3 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%02x", u->id[i]);
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("-._~", c));
}

/* Writes what, then n bytes of p percent-encoded, at o; returns the new
 * end. */
static char *pct(char *o, const char *what, const unsigned char *p, size_t n,
                 int path_ok)
{
    size_t i;

    o += sprintf(o, "%s", what);
    for (i = 0; i < n; i++) {
        if (unreserved(p[i]) || (path_ok && p[i] == '/'))
            *o++ = (char)p[i];
        else
            o += sprintf(o, "%%%02X", p[i]);
    }
    *o = '\0';
    return o;
}

char *nk_p11_uri_format(const char *token, const char *label,
                        const unsigned char *id, size_t id_len,
                        const char *module)
{
    size_t tl = strlen(token), ll = label != NULL ? strlen(label) : 0;
    size_t ml = strlen(module);
    char *uri = nk_xmalloc(64 + 3 * (tl + ll + id_len + ml)), *o;

    o = pct(uri, "pkcs11:token=", (const unsigned char *)token, tl, 0);
    if (ll > 0)
        o = pct(o, ";object=", (const unsigned char *)label, ll, 0);
    if (id_len > 0)
        o = pct(o, ";id=", id, id_len, 0);
    pct(o, "?module-path=", (const unsigned char *)module, ml, 1);
    return uri;
}

void nk_p11_uri_free(struct nk_p11_uri *u)
{
    size_t i;

    if (u == NULL)
        return;
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (attrs[i].kind == K_STR)
            nk_strfreezero(*str_field(u, &attrs[i]));
    free(u->id);
    for (i = 0; i < u->n_unknown; i++)
        free(u->unknown[i]);
    free(u->unknown);
    free(u);
}
