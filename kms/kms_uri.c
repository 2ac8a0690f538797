/* KMS key URIs, ARN regions and the key type tables of AWS KMS and Vault
 * Transit. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "kms_uri.h"

#define AWS_SCHEME "awskms://"

static const struct {
    const char *aws;
    enum nk_keyspec spec;
    const char *alg;
} aws_specs[] = {
    {"RSA_2048", NK_RSA_2048, "RSASSA_PSS_SHA_256"},
    {"RSA_3072", NK_RSA_3072, "RSASSA_PSS_SHA_384"},
    {"RSA_4096", NK_RSA_4096, "RSASSA_PSS_SHA_512"},
    {"ECC_NIST_P256", NK_EC_256, "ECDSA_SHA_256"},
    {"ECC_NIST_P384", NK_EC_384, "ECDSA_SHA_384"},
    {"ECC_NIST_P521", NK_EC_521, "ECDSA_SHA_512"},
};

static const struct {
    const char *type;
    enum nk_keyspec spec;
    const char *hash;
} vault_types[] = {
    {"rsa-2048", NK_RSA_2048, "sha2-256"},
    {"rsa-3072", NK_RSA_3072, "sha2-384"},
    {"rsa-4096", NK_RSA_4096, "sha2-512"},
    {"ecdsa-p256", NK_EC_256, "sha2-256"},
    {"ecdsa-p384", NK_EC_384, "sha2-384"},
    {"ecdsa-p521", NK_EC_521, "sha2-512"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int nk_awskms_uri_parse(const char *key_id, struct nk_awskms_uri *out,
                        struct nk_err *err)
{
    const char *p, *slash;
    size_t i, hlen;

    memset(out, 0, sizeof(*out));
    if (strncmp(key_id, AWS_SCHEME, strlen(AWS_SCHEME)) != 0)
        goto bad;
    p = key_id + strlen(AWS_SCHEME);
    slash = strchr(p, '/');
    if (slash == NULL || slash[1] == '\0')
        goto bad;
    hlen = (size_t)(slash - p);
    /* host[:port] only: no userinfo, query or odd characters. */
    for (i = 0; i < hlen; i++)
        if (!isalnum((unsigned char)p[i]) && strchr("-.:[]", p[i]) == NULL)
            goto bad;
    for (i = 1; slash[i] != '\0'; i++)
        if (isspace((unsigned char)slash[i]) || slash[i] == '?' ||
            slash[i] == '#')
            goto bad;
    out->key_ref = nk_xstrdup(slash + 1);
    if (hlen > 0)
        out->endpoint = nk_xasprintf("https://%.*s", (int)hlen, p);
    return 0;
bad:
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "bad AWS KMS key id \"%s\": expected awskms:///"
                      "<key id|key ARN|alias/name|alias ARN> or "
                      "awskms://<host[:port]>/<...>",
                      key_id);
}

void nk_awskms_uri_release(struct nk_awskms_uri *u)
{
    if (u == NULL)
        return;
    free(u->endpoint);
    free(u->key_ref);
    memset(u, 0, sizeof(*u));
}

char *nk_aws_arn_region(const char *ref)
{
    const char *p = ref, *end;
    int i;

    if (strncmp(ref, "arn:", 4) != 0)
        return NULL;
    /* arn:partition:service:region:account:resource */
    for (i = 0; i < 3; i++) {
        p = strchr(p, ':');
        if (p == NULL)
            return NULL;
        p++;
    }
    end = strchr(p, ':');
    if (end == NULL || end == p)
        return NULL;
    return nk_xstrndup(p, (size_t)(end - p));
}

enum nk_keyspec nk_aws_keyspec(const char *aws_spec, const char **alg)
{
    size_t i;

    *alg = NULL;
    for (i = 0; aws_spec != NULL && i < N_OF(aws_specs); i++)
        if (strcmp(aws_spec, aws_specs[i].aws) == 0) {
            *alg = aws_specs[i].alg;
            return aws_specs[i].spec;
        }
    return NK_KEYSPEC_NONE;
}

const char *nk_aws_alg_of(enum nk_keyspec spec)
{
    size_t i;

    for (i = 0; i < N_OF(aws_specs); i++)
        if (aws_specs[i].spec == spec)
            return aws_specs[i].alg;
    return NULL;
}

/* Key names as sigstore accepts them: word characters, '-' and '.'. */
static int valid_name(const char *n)
{
    if (n[0] == '\0' || n[0] == '-' || n[0] == '.')
        return 0;
    for (; *n != '\0'; n++)
        if (!isalnum((unsigned char)*n) && *n != '_' && *n != '-' && *n != '.')
            return 0;
    return 1;
}

int nk_vault_uri_parse(const char *key_id, char **name, int *openbao,
                       struct nk_err *err)
{
    const char *scheme = NULL;

    *name = NULL;
    *openbao = 0;
    if (strncmp(key_id, "hashivault://", 13) == 0) {
        scheme = "hashivault://";
    } else if (strncmp(key_id, "openbao://", 10) == 0) {
        scheme = "openbao://";
        *openbao = 1;
    }
    if (scheme == NULL || !valid_name(key_id + strlen(scheme)))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "bad key id \"%s\": expected %s<transit key name> "
                          "(letters, digits, '_', '-', '.')",
                          key_id, scheme != NULL ? scheme : "hashivault://");
    *name = nk_xstrdup(key_id + strlen(scheme));
    return 0;
}

enum nk_keyspec nk_vault_keyspec(const char *type, const char **hash)
{
    size_t i;

    *hash = NULL;
    for (i = 0; type != NULL && i < N_OF(vault_types); i++)
        if (strcmp(type, vault_types[i].type) == 0) {
            *hash = vault_types[i].hash;
            return vault_types[i].spec;
        }
    return NK_KEYSPEC_NONE;
}

int nk_vault_sig_split(const char *v, long *version, const char **b64,
                       struct nk_err *err)
{
    char *end = NULL;

    *version = 0;
    *b64 = NULL;
    if (v == NULL || strncmp(v, "vault:v", 7) != 0 ||
        !isdigit((unsigned char)v[7]))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "no \"vault:v<N>:\" signature "
                          "in the answer");
    *version = strtol(v + 7, &end, 10);
    if (*end != ':' || end[1] == '\0' || *version < 1)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "malformed signature "
                          "\"%.20s...\" in the answer",
                          v);
    *b64 = end + 1;
    return 0;
}
