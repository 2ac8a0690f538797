/* Azure Key Vault and Managed HSM key ids: cosign's azurekms:// form and
 * the object URLs azure-kv users already have in their notation config,
 * and what the host says about the service (vault or Managed HSM, cloud,
 * token scope, login authority). Pure functions: no I/O, no environment. */
#ifndef NK_AZURE_URI_H
#define NK_AZURE_URI_H

#include "common/err.h"
#include "common/keyspec.h"

enum nk_azure_form {
    NK_AZ_FORM_COSIGN = 1, /* azurekms://<host>/<name>[/<version>] */
    NK_AZ_FORM_KEYS,       /* https://<host>/keys/<name>[/<version>] */
    NK_AZ_FORM_CERTS       /* https://<host>/certificates/<name>[/...] */
};

struct nk_azure_id {
    enum nk_azure_form form;
    char *base;    /* "https://<host>[:port]", lower case, no slash after */
    char *name;    /* key or certificate name */
    char *version; /* or NULL for the latest */
    int mhsm;      /* a Managed HSM (keys only, its own token scope) */
    int loopback;  /* 127.0.0.0/8, ::1 or localhost: a test's mock */
    /* The service's resource ("https://vault.azure.net"; the token scope
     * adds "/.default") and the login authority of its cloud. */
    const char *resource;
    const char *authority;
};

/* Nonzero for ids this backend reads: azurekms:// and http(s):// URLs
 * (no other backend takes a URL; a URL that is no Key Vault object gets
 * an error naming the forms). */
int nk_azure_handles(const char *key_id);

/* Parses a key id into out (released by nk_azure_id_release). Hosts:
 * *.vault.azure.net, *.vault.azure.cn, *.vault.usgovcloudapi.net,
 * *.managedhsm.azure.net (keys only), and a loopback host; a port is
 * kept; plain http:// only for loopback. VALIDATION_ERROR otherwise. */
int nk_azure_id_parse(const char *key_id, struct nk_azure_id *out,
                      struct nk_err *err) NK_MUST_CHECK;
void nk_azure_id_release(struct nk_azure_id *id);

/* Checks a key id the service returned ("kid",
 * https://<host>/keys/<name>/<version>) against the vault and key asked
 * for: same base, same name (Key Vault names ignore case), a version.
 * *version is a malloc'd copy of the version. ERROR naming what
 * otherwise: a token must never go to another host. */
int nk_azure_kid_check(const struct nk_azure_id *id, const char *kid,
                       const char *what, char **version,
                       struct nk_err *err) NK_MUST_CHECK;

/* The notation spec of a JSON Web Key's type and curve or modulus size
 * (kty "RSA"/"RSA-HSM" with bits, "EC"/"EC-HSM" with crv), or
 * NK_KEYSPEC_NONE; and the JWS algorithm Key Vault signs with for a
 * spec ("PS256" ... "ES512"). */
enum nk_keyspec nk_azure_keyspec(const char *kty, const char *crv, int bits);
const char *nk_azure_alg(enum nk_keyspec spec);

#endif
