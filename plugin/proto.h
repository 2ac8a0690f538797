/* The notation plugin protocol layer: request parsing and validation,
 * response helpers and the error JSON. cJSON stays inside plugin/ (and
 * kms/). */
#ifndef NK_PROTO_H
#define NK_PROTO_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/mem.h"

/* Requests larger than this are refused (notation's are a few KiB; a
 * verify-signature request carries a certificate chain). */
#define NK_MAX_REQUEST (4u * 1024 * 1024)

struct nk_request {
    cJSON *json;          /* the request object */
    struct nk_config cfg; /* pluginConfig (empty when missing) */
};

/* Parses the request bytes: must be one JSON object; pluginConfig, when
 * present and not null, must be an object of strings. Unknown fields are
 * ignored. */
int nk_proto_parse(const char *data, size_t len, struct nk_request *req,
                   struct nk_err *err) NK_MUST_CHECK;

/* contractVersion must be present and "1.0"; UNSUPPORTED_CONTRACT_VERSION
 * otherwise. */
int nk_proto_contract(const struct nk_request *req,
                      struct nk_err *err) NK_MUST_CHECK;

/* A required non-empty string field (borrowed). */
int nk_proto_string(const cJSON *obj, const char *field, const char **out,
                    struct nk_err *err) NK_MUST_CHECK;
/* An optional string field: NULL when absent or null; a non-string is a
 * VALIDATION_ERROR. */
int nk_proto_opt_string(const cJSON *obj, const char *field, const char **out,
                        struct nk_err *err) NK_MUST_CHECK;
/* A required non-empty standard-base64 field, decoded (malloc'd). */
int nk_proto_bytes(const cJSON *obj, const char *field, unsigned char **out,
                   size_t *len, struct nk_err *err) NK_MUST_CHECK;

/* The error object {"errorCode":...,"errorMessage":...} as text. */
char *nk_proto_error_json(const struct nk_err *err);

/* Takes the required non-empty keyId out of the request: *id holds a copy
 * (release it with nk_mask_release) and the request's own is wiped, so a
 * pin-value in it lives in one place the command can mask while it
 * signs. */
int nk_proto_take_key_id(const struct nk_request *req, struct nk_mask *id,
                         struct nk_err *err) NK_MUST_CHECK;

/* The unformatted text of tree, malloc'd (NULL when it grows past any
 * sane response); no stale copy of it is left in freed memory. */
char *nk_proto_print(cJSON *tree);

/* Wipes and frees the request; NULL members are fine. */
void nk_request_release(struct nk_request *req);

#endif
