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
cJSON *nk_json_cert_array(STACK_OF(X509) *chain);

/* Compact text of item (free with cJSON_free). */
char *nk_json_print(const cJSON *item);

#endif
