/* libFuzzer: the KMS key URIs (awskms://, hashivault://, openbao://,
 * azurekms:// and Key Vault / Managed HSM URLs, gcpkms://), ARN regions,
 * the key type tables, Vault's "vault:v<N>:" signatures, and the "kid" a
 * Key Vault answer names, checked against a fixed vault and key. */
#include <stdlib.h>

#include "common.h"
#include "kms/azure_uri.h"
#include "kms/gcp_uri.h"
#include "kms/kms_uri.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* What azure_kv.c does with a key id, and with the "kid" of an answer
 * for the vault and key of a fixed one (that parse cannot fail). */
static void azure(const char *s)
{
    struct nk_azure_id id = {0}, fixed = {0};
    struct nk_err err = {0};
    char *ver = NULL;

    (void)nk_azure_handles(s);
    if (nk_azure_id_parse(s, &id, &err) == 0)
        nk_azure_id_release(&id);
    if (nk_azure_id_parse("https://fuzz.vault.azure.net/keys/k", &fixed,
                          &err) != 0)
        abort();
    if (nk_azure_kid_check(&fixed, s, "fuzz", &ver, &err) == 0)
        free(ver);
    nk_azure_id_release(&fixed);
}

static void gcp(const char *s)
{
    struct nk_gcp_key k = {0};
    struct nk_err err = {0};
    const char *why;

    if (nk_gcp_uri_parse(s, &k, &err) == 0)
        nk_gcp_key_release(&k);
    (void)nk_gcp_alg_of(nk_gcp_alg_spec(s, &why));
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
    azure(s);
    gcp(s);
    free(s);
    return 0;
}
