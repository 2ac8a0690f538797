/* cJSON helpers shared by the protocol layer, the envelope builders and the
 * commands for people. cJSON allocates through nk_xmalloc (nk_mem_init),
 * so building a tree never fails. */
#ifndef NK_JSON_H
#define NK_JSON_H

#include <cjson/cJSON.h>
#include <openssl/x509.h>

/* Adds a string member. */
void nk_json_add_string(cJSON *obj, const char *name, const char *value);

/* A new array of standard-base64 DER certificates, in chain order. */
cJSON *nk_json_cert_array(STACK_OF(X509) * chain);

/* Compact text of item (free with cJSON_free). */
char *nk_json_print(const cJSON *item);

/* Replaces, in place, every byte of s that is not part of a valid UTF-8
 * sequence (RFC 3629) with '?': cJSON copies string bytes as they are, and
 * a token label or a file name need not be UTF-8, which JSON text must be
 * (RFC 8259). JSON's own syntax is ASCII, so the structure stays. */
void nk_json_scrub_utf8(char *s);

/* Wipes every string value in tree (cJSON frees without wiping): the
 * request and response trees, which hold the key id and with it any
 * pin-value, and any tree that held a token. NULL is fine. */
void nk_json_wipe(cJSON *tree);

#endif
