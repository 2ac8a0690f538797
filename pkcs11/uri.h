/* RFC 7512 "pkcs11:" URIs. libp11 0.4.12 takes none, so we parse them. */
#ifndef NK_P11_URI_H
#define NK_P11_URI_H

#include <stddef.h>

#include "err.h"

/* One parsed URI. Every string is percent-decoded and NUL-terminated; NULL
 * means the attribute was absent, "" that it was present and empty. */
struct nk_p11_uri {
    /* path: token and slot selection */
    char *token;        /* CK_TOKEN_INFO label */
    char *manufacturer; /* CK_TOKEN_INFO manufacturerID */
    char *model;
    char *serial;
    char *slot_description;
    char *slot_manufacturer;
    char *library_manufacturer;
    char *library_description;
    char *library_version; /* "M" or "M.m" */
    int has_slot_id;
    unsigned long slot_id;
    /* path: object selection */
    char *object; /* CKA_LABEL */
    int has_id;
    unsigned char *id; /* CKA_ID bytes (may hold any byte) */
    size_t id_len;
    char *type; /* public, private, cert, secret-key, data */
    /* query */
    char *module_path;
    char *module_name;
    char *pin_source;
    char *pin_value; /* secret: wiped by nk_p11_uri_free */
    /* Attributes this parser does not know (RFC 7512 vendor attributes),
     * as "name" for the path and "?name" for the query. */
    char **unknown;
    size_t n_unknown;
};

/* Parses s. VALIDATION_ERROR naming the problem (wrong scheme, bad
 * percent-escape, duplicate or malformed attribute, bad slot-id or type
 * value). The error never quotes a pin-value. *out is freed by the caller
 * with nk_p11_uri_free. */
int nk_p11_uri_parse(const char *s, struct nk_p11_uri **out,
                     struct nk_err *err) NK_MUST_CHECK;

/* The rules for a URI that must name one private signing key: type absent
 * or "private", and no unknown attribute unless it is a vendor attribute
 * with the "x-" prefix. VALIDATION_ERROR otherwise. */
int nk_p11_uri_check_key(const struct nk_p11_uri *u,
                         struct nk_err *err) NK_MUST_CHECK;

/* A description for messages, e.g. `token "nk-test", object "ec256",
 * id 04`, never with query attributes (no PIN can leak). Caller frees. */
char *nk_p11_uri_describe(const struct nk_p11_uri *u);

/* What a PIN prompt calls the key u names: its object (label), else its id
 * in hex, else "" (buf holds cap bytes; a long name is cut). */
void nk_p11_uri_key_name(const struct nk_p11_uri *u, char *buf, size_t cap);

/* The key id of one object, "pkcs11:token=T;object=L;id=I?module-path=M",
 * everything but RFC 3986 unreserved characters percent-encoded ('/' is
 * kept in the path); object and id are left out when empty. Caller frees. */
char *nk_p11_uri_format(const char *token, const char *label,
                        const unsigned char *id, size_t id_len,
                        const char *module);

/* s (a URI nk_p11_uri_parse accepts) without its pin-value and
 * pin-source query attributes, every other byte as it was; no '?' when
 * nothing is left of the query. Caller frees. */
char *nk_p11_uri_public(const char *s);

/* Wipes pin-value and frees; NULL is fine. */
void nk_p11_uri_free(struct nk_p11_uri *u);

#endif
