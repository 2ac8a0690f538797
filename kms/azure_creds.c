/* The Azure credential chain: which credential, its token cache identity,
 * the cache, and the messages that say what was tried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>

#include "azure_auth.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "token_cache.h"

/* Seconds before expiry that a cached token is no longer used, as the
 * Azure SDKs refresh: a signing run never starts with a token about to
 * die. */
#define TOKEN_MARGIN 300

enum cred { ENV_SECRET = 1, ENV_CERT, WORKLOAD, MANAGED, CLI };

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The environment credential that is configured, or 0. */
static enum cred env_cred(void)
{
    if (env("AZURE_TENANT_ID") == NULL || env("AZURE_CLIENT_ID") == NULL)
        return 0;
    if (env("AZURE_CLIENT_SECRET") != NULL)
        return ENV_SECRET;
    if (env("AZURE_CLIENT_CERTIFICATE_PATH") != NULL)
        return ENV_CERT;
    return 0;
}

static int workload_set(void)
{
    return env("AZURE_FEDERATED_TOKEN_FILE") != NULL &&
           env("AZURE_TENANT_ID") != NULL && env("AZURE_CLIENT_ID") != NULL;
}

static const char *authority(const struct nk_azure_auth *a)
{
    const char *h = env("AZURE_AUTHORITY_HOST");

    return h != NULL ? h : a->authority;
}

/* The SHA-256 (hex) of a credential file's bytes: a replaced
 * certificate is another identity. "" when unreadable (the fetch then
 * reports it). */
static void file_sha256(const char *path, char *hex)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    unsigned char md[SHA256_DIGEST_LENGTH];
    struct nk_buf b;
    int i;

    hex[0] = '\0';
    nk_buf_init(&b, 1024 * 1024);
    if (path != NULL && nk_buf_read_file(&b, path, &e) == 0) {
        SHA256(b.data, b.len, md);
        for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    nk_buf_release(&b);
}

/* What names a token completely in the cache: credential, where it comes
 * from, who, and for which resource. Never a secret. */
static char *ident_of(const struct nk_azure_auth *a, enum cred c)
{
    const char *cfgdir = env("AZURE_CONFIG_DIR"), *home = env("HOME");
    char where[600], extra[2 * SHA256_DIGEST_LENGTH + 1] = "";

    switch (c) {
    case ENV_SECRET:
    case ENV_CERT:
    case WORKLOAD:
        if (c == ENV_CERT)
            file_sha256(env("AZURE_CLIENT_CERTIFICATE_PATH"), extra);
        return nk_xasprintf(
            "azure\n%d\n%s\n%s\n%s\n%s\n%s", (int)c, authority(a),
            env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"),
            c == WORKLOAD ? env("AZURE_FEDERATED_TOKEN_FILE") : extra,
            a->resource);
    case MANAGED:
        nk_azure_mi_where(where, sizeof(where));
        return nk_xasprintf("azure\n%d\n%s\n%s", (int)c, where, a->resource);
    case CLI:
    default:
        return nk_xasprintf(
            "azure\n%d\n%s\n%s\n%s", (int)CLI,
            cfgdir ? cfgdir
            : home ? home
                   : "",
            env("AZURE_TENANT_ID") ? env("AZURE_TENANT_ID") : "", a->resource);
    }
}

static int env_token(const struct nk_azure_auth *a, enum cred c,
                     struct nk_azure_token *t, struct nk_err *err)
{
    const char *client = env("AZURE_CLIENT_ID"), *send;
    char *url = nk_azure_token_url(a, env("AZURE_TENANT_ID"), err);
    char *jwt = NULL;
    int r;

    if (url == NULL)
        return -1;
    if (c == ENV_SECRET) {
        t->source = "environment (client secret)";
        r = nk_azure_entra_post(a, url, client, env("AZURE_CLIENT_SECRET"),
                                NULL,
                                "Azure environment credential "
                                "(AZURE_CLIENT_SECRET)",
                                t, err);
        free(url);
        return r;
    }
    t->source = "environment (client certificate)";
    send = env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
    r = nk_azure_cert_assertion(url, client,
                                env("AZURE_CLIENT_CERTIFICATE_PATH"),
                                env("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
                                send != NULL && (strcmp(send, "1") == 0 ||
                                                 strcasecmp(send, "true") == 0),
                                &jwt, err);
    if (r == 0)
        r = nk_azure_entra_post(a, url, client, NULL, jwt,
                                "Azure environment credential "
                                "(AZURE_CLIENT_CERTIFICATE_PATH)",
                                t, err);
    nk_strfreezero(jwt);
    free(url);
    return r;
}

/* The federated token file is re-read every time: the platform rotates
 * it. */
static int workload_token(const struct nk_azure_auth *a,
                          struct nk_azure_token *t, struct nk_err *err)
{
    char *url = nk_azure_token_url(a, env("AZURE_TENANT_ID"), err);
    char *jwt = NULL;
    int r = -1;

    t->source = "workload identity";
    if (url == NULL)
        return -1;
    jwt = nk_kms_read_secret(env("AZURE_FEDERATED_TOKEN_FILE"),
                             "AZURE_FEDERATED_TOKEN_FILE", err);
    if (jwt != NULL && jwt[0] == '\0')
        nk_err_set(err, NK_ERR_ACCESS, "AZURE_FEDERATED_TOKEN_FILE is empty");
    else if (jwt != NULL)
        r = nk_azure_entra_post(a, url, env("AZURE_CLIENT_ID"), NULL, jwt,
                                "Azure workload identity", t, err);
    if (r != 0 && err->code == NK_ERR_VALIDATION)
        err->code = NK_ERR_ACCESS; /* an unreadable token file */
    nk_strfreezero(jwt);
    free(url);
    return r;
}

/* Fetches from credential c, skipping the cache: 0, 1 unavailable (why),
 * or -1. */
static int fetch(const struct nk_azure_auth *a, enum cred c,
                 struct nk_azure_token *t, char *why, size_t n,
                 struct nk_err *err)
{
    int r;

    switch (c) {
    case ENV_SECRET:
    case ENV_CERT:
        r = env_token(a, c, t, err);
        break;
    case WORKLOAD:
        r = workload_token(a, t, err);
        break;
    case MANAGED:
        r = nk_azure_mi_token(a, t, why, n, err);
        break;
    default:
        r = nk_azure_cli_token(a, t, why, n, err);
        break;
    }
    if (r != 0)
        return r;
    t->cred = (int)c;
    t->from_cache = 0;
    t->ident = ident_of(a, c);
    if (nk_token_cache_enabled(a->cfg))
        nk_token_cache_put(t->ident, t->value, t->expires);
    nk_info("Azure token from %s, valid for %.0f s", t->source,
            t->expires - (double)time(NULL));
    return 0;
}

static const char *source_name(enum cred c)
{
    switch (c) {
    case ENV_SECRET:
        return "environment (client secret)";
    case ENV_CERT:
        return "environment (client certificate)";
    case WORKLOAD:
        return "workload identity";
    case MANAGED:
        return "managed identity";
    default:
        return "Azure CLI";
    }
}

/* A cached token of credential c. */
static int cached(const struct nk_azure_auth *a, enum cred c,
                  struct nk_azure_token *t)
{
    char *ident;

    if (!nk_token_cache_enabled(a->cfg))
        return -1;
    ident = ident_of(a, c);
    if (nk_token_cache_get(ident, TOKEN_MARGIN, &t->value, &t->expires) != 0) {
        free(ident);
        return -1;
    }
    t->ident = ident;
    t->cred = (int)c;
    t->from_cache = 1;
    t->source = source_name(c);
    nk_info("Azure token from the cache (%s), valid for %.0f s", t->source,
            t->expires - (double)time(NULL));
    return 0;
}

static int one(const struct nk_azure_auth *a, enum cred c,
               struct nk_azure_token *t, char *why, size_t n,
               struct nk_err *err)
{
    if (cached(a, c, t) == 0)
        return 0;
    return fetch(a, c, t, why, n, err);
}

/* DefaultAzureCredential's order. Tokens cached for managed identity or
 * the CLI are taken before either is asked, so a warm run does not wait
 * for an instance metadata service that is not there. */
static int chain(const struct nk_azure_auth *a, struct nk_azure_token *t,
                 struct nk_err *err)
{
    char mi_why[300] = "", cli_why[200] = "";
    enum cred e = env_cred();
    int r;

    if (e != 0)
        return one(a, e, t, mi_why, sizeof(mi_why), err);
    if (workload_set())
        return one(a, WORKLOAD, t, mi_why, sizeof(mi_why), err);
    if (cached(a, MANAGED, t) == 0 || cached(a, CLI, t) == 0)
        return 0;
    r = fetch(a, MANAGED, t, mi_why, sizeof(mi_why), err);
    if (r <= 0)
        return r;
    r = fetch(a, CLI, t, cli_why, sizeof(cli_why), err);
    if (r <= 0)
        return r;
    return nk_err_set(err, NK_ERR_ACCESS,
                      "no Azure credential: set AZURE_TENANT_ID, "
                      "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or "
                      "AZURE_CLIENT_CERTIFICATE_PATH, or "
                      "AZURE_FEDERATED_TOKEN_FILE (workload identity); "
                      "managed identity: %s; Azure CLI: %s",
                      mi_why, cli_why);
}

static int explicit_one(const struct nk_azure_auth *a, const char *type,
                        struct nk_azure_token *t, struct nk_err *err)
{
    char why[300] = "";
    int r;

    if (strcmp(type, "environment") == 0) {
        if (env_cred() == 0)
            return nk_err_set(err, NK_ERR_ACCESS,
                              "credential_type "
                              "environment: set AZURE_TENANT_ID, "
                              "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or "
                              "AZURE_CLIENT_CERTIFICATE_PATH");
        return one(a, env_cred(), t, why, sizeof(why), err);
    }
    if (strcmp(type, "workloadid") == 0) {
        if (!workload_set())
            return nk_err_set(err, NK_ERR_ACCESS,
                              "credential_type "
                              "workloadid: set AZURE_FEDERATED_TOKEN_FILE, "
                              "AZURE_TENANT_ID and AZURE_CLIENT_ID (the AKS "
                              "workload identity webhook does)");
        return one(a, WORKLOAD, t, why, sizeof(why), err);
    }
    r = one(a, strcmp(type, "managedid") == 0 ? MANAGED : CLI, t, why,
            sizeof(why), err);
    if (r > 0)
        return nk_err_set(err, NK_ERR_ACCESS, "credential_type %s: %s", type,
                          why);
    return r;
}

int nk_azure_token_get(const struct nk_azure_auth *a, struct nk_azure_token *t,
                       struct nk_err *err)
{
    static const char *const types[] = {"default", "environment", "workloadid",
                                        "managedid", "azurecli"};
    const char *type = nk_config_str(a->cfg, "credential_type");
    size_t i;

    memset(t, 0, sizeof(*t));
    if (type == NULL || strcasecmp(type, "default") == 0)
        return chain(a, t, err);
    for (i = 1; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(type, types[i]) == 0)
            return explicit_one(a, types[i], t, err);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "pluginConfig "
                      "\"credential_type\" is \"%.40s\"; use default, "
                      "environment, workloadid, managedid or azurecli",
                      type);
}

int nk_azure_token_renew(const struct nk_azure_auth *a,
                         struct nk_azure_token *t, struct nk_err *err)
{
    enum cred c = (enum cred)t->cred;
    char why[300] = "";
    int r;

    if (t->ident != NULL)
        nk_token_cache_drop(t->ident);
    nk_azure_token_release(t);
    r = fetch(a, c, t, why, sizeof(why), err);
    if (r > 0)
        return nk_err_set(err, NK_ERR_ACCESS, "Azure %s: %s", source_name(c),
                          why);
    return r;
}

void nk_azure_token_release(struct nk_azure_token *t)
{
    nk_strfreezero(t->value);
    free(t->ident);
    memset(t, 0, sizeof(*t));
}
