/* The registry of signer backends, chosen by key id syntax. */
#include <stddef.h>

#include "common/signer.h"
#include "kms/kms.h"
#include "pkcs11/pkcs11.h"

static const struct nk_signer_ops *const backends[] = {
    &nk_pkcs11_ops,
    &nk_awskms_ops,
    &nk_vault_ops,
};

const struct nk_signer_ops *nk_signer_lookup(const char *key_id,
                                             struct nk_err *err)
{
    size_t i;

    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (backends[i]->handles(key_id))
            return backends[i];
    nk_err_set(err, NK_ERR_VALIDATION,
               "unsupported key id: expected a pkcs11: URI "
               "(RFC 7512), awskms://..., hashivault://... or openbao://...");
    return NULL;
}

void nk_key_info_release(struct nk_key_info *info)
{
    EVP_PKEY_free(info->pub);
    X509_free(info->cert);
    sk_X509_pop_free(info->extra, X509_free);
    info->pub = NULL;
    info->cert = NULL;
    info->extra = NULL;
    info->spec = NK_KEYSPEC_NONE;
}
