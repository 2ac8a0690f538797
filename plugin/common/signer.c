/* What the signer interface itself provides to backends and callers. */
#include <stdlib.h>

#include "signer.h"

#include "mem.h"

void nk_key_info_release(struct nk_key_info *info)
{
    EVP_PKEY_free(info->pub);
    X509_free(info->cert);
    sk_X509_pop_free(info->extra, X509_free);
    info->pub = NULL;
    info->cert = NULL;
    info->extra = NULL;
    info->spec = NK_KEYSPEC_NONE;
    info->pin_per_sign = 0;
}

char *nk_signer_public_id(const struct nk_signer_ops *ops, const char *key_id,
                          struct nk_err *err)
{
    if (ops->public_id == NULL)
        return nk_xstrdup(key_id);
    return ops->public_id(key_id, err);
}

void nk_signer_sig_clear(unsigned char **sig, size_t *siglen)
{
    free(*sig);
    *sig = NULL;
    *siglen = 0;
}
