/* A connection to HashiCorp Vault or OpenBao: address, namespace, CA and
 * token from the environment (VAULT_* or BAO_*), logins (AppRole, JWT,
 * Kubernetes, AWS), and JSON requests with errors mapped to notation
 * codes. */
#ifndef NK_VAULT_CONN_H
#define NK_VAULT_CONN_H

#include <cjson/cJSON.h>

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

struct nk_vault_conn {
    const char *product;         /* "Vault" or "OpenBao" */
    const char *const *prefixes; /* "VAULT_", "BAO_" in lookup order */
    char *addr;                  /* no trailing slash */
    char *ns;                    /* namespace or NULL */
    struct nk_kms_net net;
    char *token;                 /* secret; fetched on first request */
    const struct nk_config *cfg; /* for the AWS credential chain */
    int from_login;              /* token came from a login (may redo) */
    int relogged;                /* the one fresh login was done */
    double lease_ms;             /* a login token's lease, 0 unknown */
    double lease_end_ms;         /* nk_log_now_ms() when it runs out */
    int renewable;
    const char *client_cert; /* *_CLIENT_CERT + *_CLIENT_KEY: shown */
    const char *client_key;  /* on every TLS connection, or NULL */
    char source[400];        /* where the token came from, and the
                              * sources skipped before it (doctor) */
};

/* openbao selects BAO_* variables first (then VAULT_*). */
int nk_vault_conn_init(struct nk_vault_conn *c, int openbao,
                       const struct nk_config *cfg,
                       struct nk_err *err) NK_MUST_CHECK;
void nk_vault_conn_release(struct nk_vault_conn *c);

/* The variable PREFIX+name for the first prefix that has it set. */
const char *nk_vault_env(const struct nk_vault_conn *c, const char *name);

/* method on /v1/<path> with body (may be NULL); *out is the answer.
 * 403 ACCESS_DENIED, 404/400 VALIDATION_ERROR naming what, 429/5xx retried
 * then THROTTLED; messages carry Vault's "errors". A token from a login
 * that is refused (an expired lease) is replaced by one fresh login and
 * the request sent again, once per connection; a VAULT_TOKEN or
 * ~/.vault-token never is. A login token in the last third of its lease
 * is renewed first (renew-self) when renewable, else replaced by a fresh
 * login. */
int nk_vault_request(struct nk_vault_conn *c, const char *method,
                     const char *path, const cJSON *body, const char *what,
                     cJSON **out, struct nk_err *err) NK_MUST_CHECK;

/* The answer r: *out the JSON object of a 2xx, else an error with the
 * status mapped to a notation code and Vault's "errors" in the message. */
int nk_vault_answer(const char *product, const char *what,
                    const struct nk_http_resp *r, cJSON **out,
                    struct nk_err *err) NK_MUST_CHECK;

#endif
