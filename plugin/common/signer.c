/* What the signer interface itself provides to backends and callers. */
#include "signer.h"

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
