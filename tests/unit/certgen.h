/* Test helper: keys and certificates made in memory with OpenSSL. */
#ifndef NK_TEST_CERTGEN_H
#define NK_TEST_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* "RSA:2048", "EC:P-256" ... */
static inline EVP_PKEY *tg_key(const char *spec)
{
    if (spec[0] == 'R')
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(spec + 4));
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec + 3);
}

static inline void tg_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    X509V3_set_ctx(&ctx, issuer ? issuer : c, c, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (e == NULL)
        abort();
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
}

/* A certificate for key, named CN=cn, signed by issuer (or self-signed when
 * issuer is NULL), valid from now+from to now+to seconds. ku/eku/bc are
 * openssl extension strings, or NULL to leave the extension out. */
static inline X509 *tg_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                            EVP_PKEY *issuer_key, long from, long to,
                            const char *bc, const char *ku, const char *eku,
                            const EVP_MD *md)
{
    X509 *c = X509_new();
    X509_NAME *n = X509_NAME_new();
    static long serial = 1;

    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
                               (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC,
                               (const unsigned char *)"WA", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                               (const unsigned char *)"Test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                               -1, -1, 0);
    X509_set_subject_name(c, n);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_gmtime_adj(X509_getm_notBefore(c), from);
    X509_gmtime_adj(X509_getm_notAfter(c), to);
    X509_set_pubkey(c, key);
    if (bc)
        tg_ext(c, issuer, NID_basic_constraints, bc);
    if (ku)
        tg_ext(c, issuer, NID_key_usage, ku);
    if (eku)
        tg_ext(c, issuer, NID_ext_key_usage, eku);
    if (!X509_sign(c, issuer_key ? issuer_key : key, md ? md : EVP_sha256()))
        abort();
    return c;
}

#define TG_CA_BC "critical,CA:TRUE"
#define TG_CA_KU "critical,keyCertSign,cRLSign"
#define TG_LEAF_KU "critical,digitalSignature"
#define TG_DAY 86400L

#endif
