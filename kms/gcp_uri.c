/* gcpkms:// key ids and Cloud KMS algorithm names. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "gcp_uri.h"

#define SCHEME "gcpkms://"
#define SEG_MAX 100 /* Cloud KMS ids are at most 63 characters */

static const struct {
    const char *alg;
    enum nk_keyspec spec;
} usable[] = {
    {"RSA_SIGN_PSS_2048_SHA256", NK_RSA_2048},
    {"RSA_SIGN_PSS_4096_SHA512", NK_RSA_4096},
    {"EC_SIGN_P256_SHA256", NK_EC_256},
    {"EC_SIGN_P384_SHA384", NK_EC_384},
};

/* Why the other algorithms do not do, by name prefix (first match). */
static const struct {
    const char *prefix;
    const char *why;
} unusable[] = {
    {"RSA_SIGN_PSS_", "notation pairs RSA-3072 with SHA-384 and RSA-4096 "
                      "with SHA-512, and a key version signs with its "
                      "algorithm's hash only"},
    {"RSA_SIGN_PKCS1_", "notation signs RSA keys with RSASSA-PSS, not "
                        "PKCS#1 v1.5"},
    {"RSA_SIGN_RAW_PKCS1_", "notation signs RSA keys with RSASSA-PSS, not "
                            "PKCS#1 v1.5"},
    {"EC_SIGN_SECP256K1", "notation uses the NIST curves P-256, P-384 and "
                          "P-521 only"},
    {"EC_SIGN_", "notation uses RSASSA-PSS and ECDSA on NIST curves only"},
    {"RSA_DECRYPT_", "it is a decryption key, not a signing key"},
    {"GOOGLE_SYMMETRIC", "it is a symmetric key, not a signing key"},
    {"EXTERNAL_SYMMETRIC", "it is a symmetric key, not a signing key"},
    {"AES_", "it is a symmetric key, not a signing key"},
    {"HMAC_", "it is a MAC key, not a signing key"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void nk_gcp_key_release(struct nk_gcp_key *k)
{
    if (k == NULL)
        return;
    free(k->name);
    free(k->project);
    free(k->location);
    free(k->key_ring);
    free(k->key);
    free(k->version);
    memset(k, 0, sizeof(*k));
}

/* Takes "<label>/<value>" at *p into *out when value is 1..SEG_MAX of the
 * characters allowed (project ids may hold '.' and ':' for domain-scoped
 * projects); *p moves past it and one '/' after it. */
static int segment(const char **p, const char *label, int project, char **out)
{
    size_t ll = strlen(label), n = 0;
    const char *v;

    if (strncmp(*p, label, ll) != 0 || (*p)[ll] != '/')
        return -1;
    v = *p + ll + 1;
    while (v[n] != '\0' && v[n] != '/') {
        unsigned char c = (unsigned char)v[n];

        if (!isalnum(c) && c != '-' && c != '_' &&
            !(project && (c == '.' || c == ':')))
            return -1;
        n++;
    }
    if (n == 0 || n > SEG_MAX)
        return -1;
    *out = nk_xstrndup(v, n);
    *p = v + n + (v[n] == '/');
    return 0;
}

static int valid_version(const char *v)
{
    size_t i;

    if (v[0] < '1' || v[0] > '9' || strlen(v) > 18)
        return 0;
    for (i = 1; v[i] != '\0'; i++)
        if (!isdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

static int no_version(const char *key_id, const struct nk_gcp_key *k,
                      struct nk_err *err)
{
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "Google Cloud KMS key id \"%s\" names no key version: "
                      "add /cryptoKeyVersions/<n>, the version the "
                      "certificate is for (list them with: gcloud kms keys "
                      "versions list --location %s --keyring %s --key %s "
                      "--filter state=ENABLED); the plugin does not guess, "
                      "since versions sort as strings and the newest need "
                      "not be the certified one",
                      key_id, k->location, k->key_ring, k->key);
}

int nk_gcp_uri_parse(const char *key_id, struct nk_gcp_key *out,
                     struct nk_err *err)
{
    const char *p = key_id + strlen(SCHEME);
    const char *v;

    memset(out, 0, sizeof(*out));
    if (strncmp(key_id, SCHEME, strlen(SCHEME)) != 0 ||
        segment(&p, "projects", 1, &out->project) != 0 ||
        segment(&p, "locations", 0, &out->location) != 0 ||
        segment(&p, "keyRings", 0, &out->key_ring) != 0 ||
        segment(&p, "cryptoKeys", 0, &out->key) != 0)
        goto bad;
    if (*p == '\0' && p[-1] != '/') {
        no_version(key_id, out, err);
        nk_gcp_key_release(out);
        return -1;
    }
    if (strncmp(p, "cryptoKeyVersions/", 18) == 0)
        v = p + 18;
    else if (strncmp(p, "versions/", 9) == 0)
        v = p + 9;
    else
        goto bad;
    if (!valid_version(v))
        goto bad;
    out->version = nk_xstrdup(v);
    out->name = nk_xasprintf("projects/%s/locations/%s/keyRings/%s/"
                             "cryptoKeys/%s/cryptoKeyVersions/%s",
                             out->project, out->location, out->key_ring,
                             out->key, out->version);
    return 0;
bad:
    nk_gcp_key_release(out);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "bad Google Cloud KMS key id \"%.200s\": expected "
                      "gcpkms://projects/<project>/locations/<location>/"
                      "keyRings/<key ring>/cryptoKeys/<key>/"
                      "cryptoKeyVersions/<n>",
                      key_id);
}

enum nk_keyspec nk_gcp_alg_spec(const char *alg, const char **why)
{
    size_t i;

    *why = NULL;
    for (i = 0; alg != NULL && i < N_OF(usable); i++)
        if (strcmp(alg, usable[i].alg) == 0)
            return usable[i].spec;
    for (i = 0; alg != NULL && i < N_OF(unusable); i++)
        if (strncmp(alg, unusable[i].prefix, strlen(unusable[i].prefix)) == 0) {
            *why = unusable[i].why;
            return NK_KEYSPEC_NONE;
        }
    *why = "notation uses RSASSA-PSS and ECDSA on NIST curves only";
    return NK_KEYSPEC_NONE;
}

const char *nk_gcp_alg_of(enum nk_keyspec spec)
{
    size_t i;

    for (i = 0; i < N_OF(usable); i++)
        if (usable[i].spec == spec)
            return usable[i].alg;
    return NULL;
}

const char *nk_gcp_digest_field(enum nk_keyspec spec)
{
    switch (nk_keyspec_hash(spec)) {
    case NK_SHA256:
        return "sha256";
    case NK_SHA384:
        return "sha384";
    case NK_SHA512:
        return "sha512";
    default:
        return NULL;
    }
}
