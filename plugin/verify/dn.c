/* RFC 4514 distinguished-name parsing and notation's DN rules (go-ldap
 * ParseDN plus notation-go's internal/pkix checks), and subset matching. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "common/buf.h"
#include "common/mem.h"
#include "verify/dn.h"

/* The attribute names Go prints for a certificate subject. */
static const struct {
    int nid;
    const char *name;
} short_names[] = {
    {NID_countryName, "C"},
    {NID_stateOrProvinceName, "ST"},
    {NID_localityName, "L"},
    {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"},
    {NID_commonName, "CN"},
    {NID_serialNumber, "SERIALNUMBER"},
    {NID_streetAddress, "STREET"},
    {NID_postalCode, "POSTALCODE"},
};

static const char *const mandatory[] = {"C", "ST", "O"};

static void add_attr(struct nk_dn *dn, char *type, char *value, size_t len)
{
    dn->attrs = nk_xrealloc(dn->attrs, (dn->n + 1) * sizeof(*dn->attrs));
    dn->attrs[dn->n].type = type;
    dn->attrs[dn->n].value = value;
    dn->attrs[dn->n].len = len;
    dn->n++;
}

static const struct nk_dn_attr *find(const struct nk_dn *dn, const char *type)
{
    size_t i;

    for (i = 0; i < dn->n; i++)
        if (strcmp(dn->attrs[i].type, type) == 0)
            return &dn->attrs[i];
    return NULL;
}

/* Duplicate attributes and missing mandatory ones break notation's map. */
static int check_rules(const struct nk_dn *dn, struct nk_err *err)
{
    size_t i, j;
    const struct nk_dn_attr *a;

    for (i = 0; i < dn->n; i++)
        for (j = i + 1; j < dn->n; j++)
            if (strcmp(dn->attrs[i].type, dn->attrs[j].type) == 0)
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  "duplicate attribute \"%s\" (a DN may "
                                  "name each attribute once)",
                                  dn->attrs[i].type);
    for (i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
        a = find(dn, mandatory[i]);
        if (a == NULL || a->len == 0)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "no \"%s\" attribute (C, ST and O are "
                              "required)",
                              mandatory[i]);
    }
    return 0;
}

static int is_keyword(const char *t)
{
    const char *p;
    int oid = isdigit((unsigned char)t[0]);

    if (!oid && !isalpha((unsigned char)t[0]))
        return 0;
    for (p = t; *p != '\0'; p++) {
        if (oid ? !(isdigit((unsigned char)*p) ||
                    (*p == '.' && p[1] != '.' && p[1] != '\0'))
                : !(isalnum((unsigned char)*p) || *p == '-'))
            return 0;
    }
    return 1;
}

/* Reads "type =" at *pp; returns the upper-cased type. */
static int parse_type(const char **pp, char **out, struct nk_err *err)
{
    const char *p = *pp, *start, *eq;
    size_t n, i;
    char *t;

    while (*p == ' ')
        p++;
    start = p;
    eq = strchr(p, '=');
    if (eq == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" has no \"=\" after the attribute type", p);
    n = (size_t)(eq - start);
    while (n > 0 && start[n - 1] == ' ')
        n--;
    t = nk_xstrndup(start, n);
    for (i = 0; i < n; i++)
        t[i] = (char)toupper((unsigned char)t[i]);
    if (n == 0 || !is_keyword(t)) {
        free(t);
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "invalid attribute type \"%.*s\"", (int)n, start);
    }
    if (strcmp(t, "S") == 0) {
        free(t);
        t = nk_xstrdup("ST");
    }
    *out = t;
    *pp = eq + 1;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* One escape after '\': a special character or two hex digits. */
static int unescape(const char **pp, unsigned char *out)
{
    const char *p = *pp;
    int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

    if (hi >= 0 && lo >= 0) {
        *out = (unsigned char)(hi * 16 + lo);
        *pp = p + 2;
        return 0;
    }
    if (p[0] != '\0' && strchr(" ,+\"\\<>;=#", p[0]) != NULL) {
        *out = (unsigned char)p[0];
        *pp = p + 1;
        return 0;
    }
    return -1;
}

/* Reads a value up to an unescaped ',', ';', '+' or the end; unescaped
 * leading and trailing spaces are dropped. */
static int parse_value(const char **pp, char **out, size_t *len,
                       struct nk_err *err)
{
    const char *p = *pp;
    struct nk_buf b;
    size_t keep = 0;
    unsigned char c;
    int escaped;

    nk_buf_init(&b, 64 * 1024);
    while (*p == ' ')
        p++;
    if (*p == '#')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "hex-encoded values (\"=#\") are not supported");
    while (*p != '\0' && strchr(",;+", *p) == NULL) {
        escaped = *p == '\\';
        if (escaped) {
            p++;
            if (unescape(&p, &c) != 0) {
                nk_buf_release(&b);
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  "invalid escape \"\\%.2s\"", p);
            }
        } else if (strchr("\"<>", *p) != NULL) {
            nk_buf_release(&b);
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "character '%c' must be escaped", *p);
        } else {
            c = (unsigned char)*p++;
        }
        /* "\00" would cut the value short where it is used as a string. */
        if (c == '\0') {
            nk_buf_release(&b);
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "a value must not hold a NUL character");
        }
        if (nk_buf_append(&b, &c, 1, err) != 0) {
            nk_buf_release(&b);
            return -1;
        }
        if (c != ' ' || escaped)
            keep = b.len;
    }
    *out = nk_xstrndup((const char *)b.data, keep);
    *len = keep;
    nk_buf_release(&b);
    *pp = p;
    return 0;
}

static int parse_rdns(const char *s, struct nk_dn *dn, struct nk_err *err)
{
    const char *p = s;
    char *type = NULL, *value = NULL;
    size_t len = 0;

    for (;;) {
        if (dn->n == NK_DN_MAX_ATTRS)
            return nk_err_set(err, NK_ERR_VALIDATION, "more than %d attributes",
                              NK_DN_MAX_ATTRS);
        if (parse_type(&p, &type, err) != 0)
            return -1;
        if (parse_value(&p, &value, &len, err) != 0) {
            free(type);
            return -1;
        }
        add_attr(dn, type, value, len);
        if (*p == '+')
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "multi-valued RDN (\"+\") is not supported");
        if (*p == '\0')
            return 0;
        p++; /* ',' or ';' */
    }
}

int nk_dn_parse(const char *s, struct nk_dn *dn, struct nk_err *err)
{
    dn->n = 0;
    dn->attrs = NULL;
    if (parse_rdns(s, dn, err) != 0 || check_rules(dn, err) != 0) {
        nk_dn_release(dn);
        return nk_err_prefix(err, "distinguished name \"%s\"", s);
    }
    return 0;
}

static char *attr_type(const ASN1_OBJECT *obj)
{
    char buf[128];
    size_t i;
    int nid = OBJ_obj2nid(obj);

    for (i = 0; i < sizeof(short_names) / sizeof(short_names[0]); i++)
        if (short_names[i].nid == nid)
            return nk_xstrdup(short_names[i].name);
    if (OBJ_obj2txt(buf, sizeof(buf), obj, 1) <= 0)
        return nk_xstrdup("?");
    return nk_xstrdup(buf);
}

int nk_dn_from_name(const X509_NAME *name, struct nk_dn *dn, struct nk_err *err)
{
    const X509_NAME_ENTRY *e;
    unsigned char *utf8 = NULL;
    int i, len, prev_set = -1;

    dn->n = 0;
    dn->attrs = NULL;
    if (X509_NAME_entry_count(name) > NK_DN_MAX_ATTRS)
        return nk_err_set(err, NK_ERR_VALIDATION, "more than %d attributes",
                          NK_DN_MAX_ATTRS);
    for (i = 0; i < X509_NAME_entry_count(name); i++) {
        e = X509_NAME_get_entry(name, i);
        if (X509_NAME_ENTRY_set(e) == prev_set) {
            nk_err_set(err, NK_ERR_VALIDATION, "multi-valued RDN");
            goto fail;
        }
        prev_set = X509_NAME_ENTRY_set(e);
        len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (len < 0) {
            nk_err_ssl(err, NK_ERR_VALIDATION, "unreadable attribute value");
            goto fail;
        }
        /* "O=Acme\0.evil" must not pass for "O=Acme". */
        if (memchr(utf8, 0, (size_t)len) != NULL) {
            OPENSSL_free(utf8);
            nk_err_set(err, NK_ERR_VALIDATION,
                       "an attribute value holds a NUL byte");
            goto fail;
        }
        add_attr(dn, attr_type(X509_NAME_ENTRY_get_object(e)),
                 nk_xstrndup((const char *)utf8, (size_t)len), (size_t)len);
        OPENSSL_free(utf8);
        utf8 = NULL;
    }
    if (check_rules(dn, err) == 0)
        return 0;
fail:
    nk_dn_release(dn);
    return -1;
}

int nk_dn_is_subset(const struct nk_dn *sub, const struct nk_dn *dn)
{
    size_t i;
    const struct nk_dn_attr *a;

    for (i = 0; i < sub->n; i++) {
        a = find(dn, sub->attrs[i].type);
        if (a == NULL || a->len != sub->attrs[i].len ||
            memcmp(a->value, sub->attrs[i].value, a->len) != 0)
            return 0;
    }
    return 1;
}

void nk_dn_release(struct nk_dn *dn)
{
    size_t i;

    for (i = 0; i < dn->n; i++) {
        free(dn->attrs[i].type);
        free(dn->attrs[i].value);
    }
    free(dn->attrs);
    dn->attrs = NULL;
    dn->n = 0;
}
