/* The fake signer backend for unit tests (see fake_signer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "certgen.h"
#include "common/sigcheck.h"
#include "fake_signer.h"

struct fake_conf fake;

struct fake_signer {
    struct nk_signer base;
    EVP_PKEY *key;
};

void fake_reset(void)
{
    X509_free(fake.cert);
    sk_X509_pop_free(fake.extra, X509_free);
    EVP_PKEY_free(fake.pub);
    memset(&fake, 0, sizeof(fake));
    fake.key = NK_EC_256;
}

EVP_PKEY *fake_key(enum nk_keyspec spec)
{
    static EVP_PKEY *keys[NK_EC_521 + 1];
    static const char *const names[NK_EC_521 + 1] = {
        NULL,       "RSA:2048", "RSA:3072", "RSA:4096",
        "EC:P-256", "EC:P-384", "EC:P-521",
    };

    if (spec <= NK_KEYSPEC_NONE || spec > NK_EC_521)
        abort();
    if (keys[spec] == NULL)
        keys[spec] = tg_key(names[spec]);
    if (keys[spec] == NULL)
        abort();
    return keys[spec];
}

EVP_PKEY *fake_ca_key(void)
{
    static EVP_PKEY *key;

    if (key == NULL)
        key = tg_key("EC:P-384");
    if (key == NULL)
        abort();
    return key;
}

void fake_leaf(X509 **root)
{
    EVP_PKEY *ca_key = fake_ca_key();
    X509 *ca = tg_cert("Fake Root", ca_key, NULL, NULL, -TG_DAY, 10 * TG_DAY,
                       TG_CA_BC, TG_CA_KU, NULL, NULL);

    X509_free(fake.cert);
    fake.cert = tg_cert("Fake Leaf", fake_key(fake.key), ca, ca_key, -TG_DAY,
                        TG_DAY, NULL, TG_LEAF_KU, "codeSigning", NULL);
    if (root != NULL)
        *root = ca;
    else
        X509_free(ca);
}

char *fake_pem_file(X509 *const *certs, int n)
{
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(4096);
    FILE *f;
    int fd, i;

    snprintf(path, 4096, "%s/nk-fake-XXXXXX.pem", tmp ? tmp : "/tmp");
    fd = mkstemps(path, 4);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
        abort();
    for (i = 0; i < n; i++)
        if (PEM_write_X509(f, certs[i]) != 1)
            abort();
    fclose(f);
    return path;
}

/* r||s -> DER ECDSA-Sig-Value, written here rather than borrowed from the
 * code under test. */
static unsigned char *rs_to_der(const unsigned char *sig, size_t siglen,
                                int *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    size_t w = siglen / 2;

    ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)w, NULL),
                   BN_bin2bn(sig + w, (int)w, NULL));
    *derlen = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    return der;
}

int fake_openssl_verify(X509 *cert, enum nk_keyspec spec,
                        const unsigned char *msg, size_t n,
                        const unsigned char *sig, size_t siglen)
{
    static const char *const mds[] = {NULL,     "SHA256", "SHA384", "SHA512",
                                      "SHA256", "SHA384", "SHA512"};
    const EVP_MD *md = EVP_get_digestbyname(mds[spec]);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *der = NULL;
    int derlen = 0, ok = 0;

    if (EVP_DigestVerifyInit(c, &pc, md, NULL, X509_get0_pubkey(cert)) != 1)
        goto out;
    if (spec <= NK_RSA_4096) {
        if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, EVP_MD_get_size(md)) != 1)
            goto out;
        ok = EVP_DigestVerify(c, sig, siglen, msg, n) == 1;
    } else {
        /* r||s of exactly twice the field width */
        if (siglen !=
            2 * (size_t)((EVP_PKEY_get_bits(X509_get0_pubkey(cert)) + 7) / 8))
            goto out;
        der = rs_to_der(sig, siglen, &derlen);
        ok =
            derlen > 0 && EVP_DigestVerify(c, der, (size_t)derlen, msg, n) == 1;
    }
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(c);
    return ok;
}

/* ---- the backend ---- */

static int fake_handles(const char *key_id)
{
    return strncmp(key_id, "fake:", 5) == 0;
}

static int fake_open(const char *key_id, const struct nk_config *cfg,
                     struct nk_signer **out, struct nk_err *err);

static int fake_describe(struct nk_signer *s, struct nk_key_info *info,
                         struct nk_err *err)
{
    EVP_PKEY *key = NK_SIGNER_OF(s, struct fake_signer)->key;
    int i;

    fake.describes++;
    if (fake.describe_err != NK_ERR_NONE)
        return nk_err_set(err, fake.describe_err, "fake: describe failed");
    info->spec = fake.say_spec;
    if (!fake.no_pub) {
        info->pub = fake.pub != NULL ? fake.pub : key;
        EVP_PKEY_up_ref(info->pub);
    }
    if (fake.cert != NULL) {
        X509_up_ref(fake.cert);
        info->cert = fake.cert;
    }
    for (i = 0; fake.extra != NULL && i < sk_X509_num(fake.extra); i++) {
        if (info->extra == NULL)
            info->extra = sk_X509_new_null();
        X509_up_ref(sk_X509_value(fake.extra, i));
        sk_X509_push(info->extra, sk_X509_value(fake.extra, i));
    }
    return 0;
}

/* PSS with salt = hash length, or ECDSA turned into r||s: what every real
 * backend returns. */
static int fake_sign(struct nk_signer *s, enum nk_keyspec spec,
                     const unsigned char *dg, size_t dlen, unsigned char **sig,
                     size_t *siglen, struct nk_err *err)
{
    EVP_PKEY_CTX *c =
        EVP_PKEY_CTX_new(NK_SIGNER_OF(s, struct fake_signer)->key, NULL);
    const EVP_MD *md = nk_hash_md(nk_keyspec_hash(spec));
    unsigned char buf[1024];
    size_t len = sizeof(buf);
    int ret = -1;

    fake.signs++;
    if (fake.sign_err != NK_ERR_NONE) {
        EVP_PKEY_CTX_free(c);
        return nk_err_set(err, fake.sign_err, "fake: sign failed");
    }
    if (EVP_PKEY_sign_init(c) != 1 || EVP_PKEY_CTX_set_signature_md(c, md) != 1)
        goto out;
    if (nk_keyspec_is_rsa(spec) &&
        (EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) != 1))
        goto out;
    if (EVP_PKEY_sign(c, buf, &len, dg, dlen) != 1)
        goto out;
    if (nk_keyspec_is_rsa(spec)) {
        *sig = malloc(len);
        memcpy(*sig, buf, len);
        *siglen = len;
        ret = 0;
    } else {
        ret = nk_ecdsa_der_to_raw(buf, len, nk_keyspec_ec_width(spec), sig,
                                  siglen, err);
    }
    if (ret == 0 && fake.corrupt)
        (*sig)[*siglen / 2] ^= 0x01;
out:
    EVP_PKEY_CTX_free(c);
    return ret == 0 ? 0 : nk_err_set(err, NK_ERR_GENERIC, "fake: sign failed");
}

static void fake_free(struct nk_signer *s)
{
    struct fake_signer *f;

    if (s == NULL)
        return;
    f = NK_SIGNER_OF(s, struct fake_signer);
    fake.frees++;
    EVP_PKEY_free(f->key);
    free(f);
}

static void fake_stale(struct nk_signer *s)
{
    (void)s;
    fake.stales++;
}

/* Keeps the certificate where describe finds it next time. */
static int fake_store_cert(struct nk_signer *s, X509 *cert, struct nk_err *err)
{
    (void)s;
    fake.stores++;
    if (fake.store_err != NK_ERR_NONE)
        return nk_err_set(err, fake.store_err, "fake: cannot store");
    X509_up_ref(cert);
    X509_free(fake.cert);
    fake.cert = cert;
    return 0;
}

static const struct nk_signer_ops fake_ops = {
    .name = "fake",
    .handles = fake_handles,
    .open = fake_open,
    .describe = fake_describe,
    .sign = fake_sign,
    .free = fake_free,
    .stale = fake_stale,
    .store_cert = fake_store_cert,
};

static const struct nk_signer_ops fake_bare_ops = {
    .name = "fake",
    .handles = fake_handles,
    .open = fake_open,
    .describe = fake_describe,
    .sign = fake_sign,
    .free = fake_free,
};

static int fake_open(const char *key_id, const struct nk_config *cfg,
                     struct nk_signer **out, struct nk_err *err)
{
    struct fake_signer *f;

    (void)cfg;
    fake.opens++;
    snprintf(fake.last_id, sizeof(fake.last_id), "%s", key_id);
    if (fake.open_err != NK_ERR_NONE)
        return nk_err_set(err, fake.open_err, "fake: cannot open %s", key_id);
    f = calloc(1, sizeof(*f));
    f->base.ops = fake.bare ? &fake_bare_ops : &fake_ops;
    f->key = fake_key(fake.key);
    EVP_PKEY_up_ref(f->key);
    *out = &f->base;
    return 0;
}

/* The registry of a test binary: the fake only. */
const struct nk_signer_ops *nk_signer_lookup(const char *key_id,
                                             struct nk_err *err)
{
    if (fake_handles(key_id))
        return fake.bare ? &fake_bare_ops : &fake_ops;
    nk_err_set(err, NK_ERR_VALIDATION, "unsupported key id (fake registry)");
    return NULL;
}
