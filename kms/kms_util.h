/* Helpers shared by the KMS backends: the per-command deadline, CA bundle
 * and environment lookups, JSON bodies, and the leaf certificate's key. */
#ifndef NK_KMS_UTIL_H
#define NK_KMS_UTIL_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "common/http.h"

/* Default overall time for a command's network work, in seconds. */
#define NK_KMS_TIMEOUT 10.0

struct nk_kms_net {
    double deadline_ms; /* nk_log_now_ms() value when time runs out */
    double timeout;     /* the configured total, for messages */
    char *ca_bundle;    /* or NULL for the system store */
};

/* Reads pluginConfig "timeout" and "ca-bundle" (else the first set variable
 * of ca_envs, a NULL-terminated list) and starts the clock. */
int nk_kms_net_init(struct nk_kms_net *net, const struct nk_config *cfg,
                    const char *const *ca_envs,
                    struct nk_err *err) NK_MUST_CHECK;
void nk_kms_net_release(struct nk_kms_net *net);
/* Starts the clock again: a key held open across commands (the agent)
 * gives each operation the whole budget. */
void nk_kms_net_restart(struct nk_kms_net *net);

/* Seconds left before the deadline (at least a small positive floor). */
double nk_kms_net_left(const struct nk_kms_net *net);

/* Fills req's timeout and ca_bundle from net. */
void nk_kms_net_apply(const struct nk_kms_net *net, struct nk_http_req *req);

/* The first non-empty variable of a NULL-terminated list, or NULL. */
const char *nk_kms_getenv(const char *const *names);

/* Appends "k=v" to a form body (application/x-www-form-urlencoded, "&"
 * between pairs), percent-encoding all but RFC 3986's unreserved
 * characters. On failure (the buffer's cap) err is set: check err->code
 * after the last pair. */
void nk_kms_form_add(struct nk_buf *b, const char *k, const char *v,
                     struct nk_err *err);

/* The first line of a small file holding a secret (a token, a secret id),
 * malloc'd (wipe with nk_strfreezero); NULL with err set, prefixed with
 * what, when it cannot be read. */
char *nk_kms_read_secret(const char *path, const char *what,
                         struct nk_err *err);

/* Parses resp's body as a JSON object; ERROR naming what otherwise. */
int nk_kms_json(const struct nk_http_resp *resp, const char *what, cJSON **out,
                struct nk_err *err) NK_MUST_CHECK;
/* A string member (borrowed) or NULL. */
const char *nk_kms_jstr(const cJSON *obj, const char *name);

/* The public key of the leaf certificate pluginConfig names
 * (certificate-chain's first, or certificate), or NULL when none is
 * configured or it cannot be read (the signing core reports that). */
EVP_PKEY *nk_kms_leaf_pub(const struct nk_config *cfg);

/* Maps an HTTP status with no more specific meaning to an error code:
 * 401/403 ACCESS_DENIED, 404/400 VALIDATION_ERROR, 429 THROTTLED, 408/504
 * TIMEOUT, else ERROR. */
enum nk_errcode nk_kms_status_code(long status);

/* A credential_report (see signer.h) for a backend that knows where its
 * credentials came from: -1 when source is NULL or empty (nothing known),
 * else source into buf and used (1 a source was used, 0 none was). */
int nk_kms_credential_report(const char *source, int used, char *buf, size_t n);

#endif
