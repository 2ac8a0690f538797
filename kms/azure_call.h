/* One Key Vault or Managed HSM REST call: bearer token (renewed once when
 * the service refuses a cached one), api-version, retries for throttling
 * and 5xx, and the service's errors mapped to notation codes with the
 * request id and the permission that is missing. */
#ifndef NK_AZURE_CALL_H
#define NK_AZURE_CALL_H

#include <cjson/cJSON.h>

#include "azure_creds.h"
#include "azure_uri.h"
#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

/* The data-plane API version (7.4: what azure-kv era clients speak; the
 * calls used here are the same in 7.0 to 7.6). */
#define NK_AZURE_API "7.4"

struct nk_azure_conn {
    struct nk_azure_id id;
    struct nk_kms_net net;
    struct nk_azure_auth auth;
    struct nk_azure_token tok; /* value NULL until the first call */
};

/* Parses key_id and reads pluginConfig timeout and ca-bundle. */
int nk_azure_conn_init(struct nk_azure_conn *c, const char *key_id,
                       const struct nk_config *cfg,
                       struct nk_err *err) NK_MUST_CHECK;
void nk_azure_conn_release(struct nk_azure_conn *c);

/* method on <base><path>?api-version=... with body (may be NULL); *out is
 * the answer. what names the call in messages; perm is the permission it
 * needs, named in ACCESS_DENIED messages. */
int nk_azure_call(struct nk_azure_conn *c, const char *method, const char *path,
                  const cJSON *body, const char *what, const char *perm,
                  cJSON **out, struct nk_err *err) NK_MUST_CHECK;

#endif
