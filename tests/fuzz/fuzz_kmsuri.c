/* libFuzzer: the KMS key URIs (awskms://, hashivault://, openbao://), ARN
 * regions, the key type tables and Vault's "vault:v<N>:" signatures. */
#include <stdlib.h>

#include "common.h"
#include "kms/kms_uri.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_awskms_uri u;
    struct nk_err err = {0};
    char *s = fx_str(data, size), *name = NULL;
    const char *alg, *hash, *b64;
    long ver;
    int openbao;

    if (nk_awskms_uri_parse(s, &u, &err) == 0) {
        /* what aws_open does with the reference */
        free(nk_aws_arn_region(u.key_ref));
        nk_awskms_uri_release(&u);
    }
    free(nk_aws_arn_region(s));
    if (nk_vault_uri_parse(s, &name, &openbao, &err) == 0)
        free(name);
    (void)nk_vault_sig_split(s, &ver, &b64, &err);
    (void)nk_aws_alg_of(nk_aws_keyspec(s, &alg));
    (void)nk_vault_keyspec(s, &hash);
    free(s);
    return 0;
}
