/* Distinguished names as notation compares them: RFC 4514 strings from the
 * trust policy and X.509 subjects, both reduced to attribute -> value maps
 * under notation's rules (single-valued RDNs, no duplicate attributes, no
 * "=#" hex values, C, ST and O present). */
#ifndef NK_DN_H
#define NK_DN_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"

/* Attributes a DN may have. The duplicate check is quadratic: a leaf
 * subject of 20,000 attributes (263 KB) took a second, so a 4 MiB request
 * minutes; real names have a handful. */
#define NK_DN_MAX_ATTRS 64

struct nk_dn_attr {
    char *type;  /* upper case short name ("C", "ST", "CN") or dotted OID */
    char *value; /* unescaped UTF-8, NUL-terminated, never holding a NUL */
    size_t len;  /* bytes in value */
};

struct nk_dn {
    size_t n;
    struct nk_dn_attr *attrs;
};

/* Parses an RFC 4514 DN ("C=US, ST=WA, O=Acme\, Inc.") and applies
 * notation's rules. "S" is read as "ST". VALIDATION_ERROR saying what is
 * wrong, also for a value holding a NUL ("\00") and for more than
 * NK_DN_MAX_ATTRS attributes. */
int nk_dn_parse(const char *s, struct nk_dn *dn,
                struct nk_err *err) NK_MUST_CHECK;
/* The same map from a certificate name, with the same rules (and the same
 * cap); a value holding a NUL byte is refused (it could pass for a prefix
 * of itself). */
int nk_dn_from_name(const X509_NAME *name, struct nk_dn *dn,
                    struct nk_err *err) NK_MUST_CHECK;
/* Nonzero when every attribute of sub equals the same attribute of dn
 * (same length, same bytes). */
int nk_dn_is_subset(const struct nk_dn *sub, const struct nk_dn *dn);
void nk_dn_release(struct nk_dn *dn);

#endif
