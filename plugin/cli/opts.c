/* Small shared pieces of the companion commands: --plugin-config pairs,
 * --help detection, key fingerprints and certificate dates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "common/mem.h"
#include "verify/verify.h"

int nk_cli_plugin_config(struct nk_config *cfg, const char *kv,
                         struct nk_err *err)
{
    const char *eq = strchr(kv, '=');
    char *key;

    if (eq == NULL || eq == kv || eq[1] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "--plugin-config \"%.64s\" must be key=value with "
                          "a non-empty key and value",
                          kv);
    key = nk_xstrndup(kv, (size_t)(eq - kv));
    nk_config_set(cfg, key, eq + 1);
    free(key);
    return 0;
}

int nk_cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

void nk_cli_pubkey_sha256(EVP_PKEY *pub, char out[65])
{
    unsigned char *der = NULL, md[32];
    int n = i2d_PUBKEY(pub, &der), i;

    out[0] = '\0';
    if (n <= 0)
        return;
    nk_hash_digest(NK_SHA256, der, (size_t)n, md);
    OPENSSL_free(der);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void nk_cli_cert_not_after(X509 *cert, char out[32])
{
    time_t t;

    if (nk_time_from_asn1(X509_get0_notAfter(cert), &t) != 0) {
        snprintf(out, 32, "unknown");
        return;
    }
    nk_time_format(t, out, 32);
}

const char *nk_cli_revocation_detail(const struct nk_revocation_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (r->certs[i].status == NK_REV_GOOD)
            return "no certificate is revoked (OCSP/CRL checked)";
    return "nothing to check (no OCSP or CRL in the certificates)";
}
