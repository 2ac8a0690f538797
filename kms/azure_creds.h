/* Microsoft Entra access tokens for Key Vault and Managed HSM, from the
 * credentials DefaultAzureCredential reads, in its order: environment
 * (client secret, or a client certificate we sign an assertion with),
 * workload identity (a federated token file), managed identity (App
 * Service, or the instance metadata service), then the Azure CLI.
 * pluginConfig "credential_type" (azure-kv's key) picks one: default,
 * environment, workloadid, managedid, azurecli. Tokens are cached across
 * processes (kms/token_cache.h) until shortly before they expire; they
 * are never logged. */
#ifndef NK_AZURE_CREDS_H
#define NK_AZURE_CREDS_H

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

struct nk_azure_auth {
    const struct nk_config *cfg;
    const struct nk_kms_net *net;
    const char *resource;  /* "https://vault.azure.net" (scope + /.default) */
    const char *authority; /* the cloud's login host; AZURE_AUTHORITY_HOST
                            * wins */
};

struct nk_azure_token {
    char *value;        /* the bearer token: a secret */
    double expires;     /* Unix time */
    char *ident;        /* its identity in the token cache */
    const char *source; /* "environment (client secret)" ... for people */
    int from_cache;
    int cred; /* which credential gave it (for a renewal) */
};

/* A token for a->resource from the credential pluginConfig chooses (or
 * the chain): the cached one while it is valid, else a new one (then
 * cached). ACCESS_DENIED naming what was tried and what to set when no
 * credential is available or the identity provider refuses. */
int nk_azure_token_get(const struct nk_azure_auth *a, struct nk_azure_token *t,
                       struct nk_err *err) NK_MUST_CHECK;

/* The service refused t (401): forgets it, also in the cache, and gets a
 * new one from the same credential, bypassing the cache. */
int nk_azure_token_renew(const struct nk_azure_auth *a,
                         struct nk_azure_token *t,
                         struct nk_err *err) NK_MUST_CHECK;

/* Wipes and frees t's strings. */
void nk_azure_token_release(struct nk_azure_token *t);

#endif
