/* The registry of signer backends, chosen by key id syntax. Alone in its
 * file so that a unit test binary can link its own nk_signer_lookup (the
 * fake backend in tests/unit/fake_signer.c) in place of this one. */
#include <stddef.h>

#include "common/signer.h"
#include "kms/kms.h"
#include "pkcs11/pkcs11.h"

static const struct nk_signer_ops *const backends[] = {
    &nk_pkcs11_ops, &nk_awskms_ops, &nk_vault_ops,
    &nk_azure_ops,  &nk_gcpkms_ops,
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
               "(RFC 7512), awskms://..., hashivault://..., openbao://..., "
               "azurekms://..., https://<vault>.vault.azure.net/keys/... or "
               "gcpkms://projects/.../cryptoKeyVersions/<n>");
    return NULL;
}
