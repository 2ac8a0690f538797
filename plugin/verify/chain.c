/* Chain assembly and notation's code-signing certificate rules, checked
 * before signing so the user gets a precise error instead of notation's
 * opaque one after the signature is made. */
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "common/keyspec.h"
#include "common/mem.h"
#include "verify/chain.h"

#define NK_MAX_CHAIN 10

char *nk_cert_name(X509 *cert)
{
    char *s = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
    char *r = nk_xstrdup(s ? s : "(no subject)");

    OPENSSL_free(s);
    return r;
}

/* Self-issued and verifying with its own key. */
static int is_self_signed(X509 *c)
{
    EVP_PKEY *k = X509_get0_pubkey(c);

    return X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) ==
               0 &&
           k != NULL && X509_verify(c, k) == 1;
}

static int issued_by(X509 *child, X509 *parent)
{
    EVP_PKEY *k = X509_get0_pubkey(parent);

    return X509_NAME_cmp(X509_get_issuer_name(child),
                         X509_get_subject_name(parent)) == 0 &&
           k != NULL && X509_verify(child, k) == 1;
}

static X509 *find_issuer(X509 *cur, STACK_OF(X509) * pool,
                         STACK_OF(X509) * chain)
{
    int i, j, seen;
    X509 *c;

    for (i = 0; i < sk_X509_num(pool); i++) {
        c = sk_X509_value(pool, i);
        for (seen = 0, j = 0; j < sk_X509_num(chain); j++)
            if (X509_cmp(c, sk_X509_value(chain, j)) == 0)
                seen = 1;
        if (!seen && issued_by(cur, c))
            return c;
    }
    return NULL;
}

int nk_chain_build(X509 *leaf, STACK_OF(X509) * certs, STACK_OF(X509) * *out,
                   struct nk_err *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *cur = leaf, *next;
    char *name = NULL, *iss = NULL;

    *out = NULL;
    X509_up_ref(leaf);
    sk_X509_push(chain, leaf);
    while (!is_self_signed(cur)) {
        next = find_issuer(cur, certs, chain);
        if (next == NULL || sk_X509_num(chain) >= NK_MAX_CHAIN) {
            name = nk_cert_name(cur);
            iss = X509_NAME_oneline(X509_get_issuer_name(cur), NULL, 0);
            nk_err_set(err, NK_ERR_VALIDATION,
                       "incomplete certificate chain: no issuer certificate "
                       "\"%s\" for \"%s\"; notation needs the chain up to a "
                       "self-signed root: add the intermediate and root "
                       "certificates to pluginConfig \"ca-certs\"",
                       iss ? iss : "?", name);
            OPENSSL_free(iss);
            free(name);
            sk_X509_pop_free(chain, X509_free);
            return -1;
        }
        X509_up_ref(next);
        sk_X509_push(chain, next);
        cur = next;
    }
    *out = chain;
    return 0;
}

/* Fails with a message naming the rule and the certificate. */
static int rule(struct nk_err *err, X509 *cert, const char *role,
                const char *what)
{
    char *name = nk_cert_name(cert);

    nk_err_set(err, NK_ERR_VALIDATION,
               "certificate check failed: %s certificate \"%s\" %s", role, name,
               what);
    free(name);
    return -1;
}

static int check_sig_alg(X509 *c, const char *role, struct nk_err *err)
{
    int md = NID_undef, pk = NID_undef;

    if (!OBJ_find_sigid_algs(X509_get_signature_nid(c), &md, &pk))
        return 0; /* e.g. RSA-PSS: digest is in the parameters */
    if (md == NID_sha1 || md == NID_md5 || md == NID_md5_sha1)
        return rule(err, c, role,
                    "is signed with SHA-1 or MD5, which notation rejects");
    return 0;
}

/* "Jan  2 03:04:05 2030 GMT" into buf. */
static void time_str(const ASN1_TIME *t, char *buf, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    if (b != NULL && ASN1_TIME_print(b, t))
        n = BIO_read(b, buf, (int)size - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

static int check_validity(X509 *c, const char *role, time_t at,
                          struct nk_err *err)
{
    char when[64], msg[128];

    if (X509_cmp_time(X509_get0_notBefore(c), &at) >= 0) {
        time_str(X509_get0_notBefore(c), when, sizeof(when));
        snprintf(msg, sizeof(msg), "is not valid before %s", when);
        return rule(err, c, role, msg);
    }
    if (X509_cmp_time(X509_get0_notAfter(c), &at) <= 0) {
        time_str(X509_get0_notAfter(c), when, sizeof(when));
        snprintf(msg, sizeof(msg), "expired on %s", when);
        return rule(err, c, role, msg);
    }
    return 0;
}

static int ext_critical(X509 *c, int nid)
{
    int i = X509_get_ext_by_NID(c, nid, -1);

    return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(c, i));
}

static int check_leaf(X509 *c, struct nk_err *err)
{
    uint32_t flags = X509_get_extension_flags(c), ku, xku;
    enum nk_keyspec spec;
    struct nk_err kerr = {0};

    if ((flags & EXFLAG_BCONS) && (flags & EXFLAG_CA))
        return rule(err, c, "signing",
                    "is a CA certificate (basicConstraints CA:TRUE); the "
                    "signing certificate must not be a CA");
    if (!(flags & EXFLAG_KUSAGE))
        return rule(err, c, "signing",
                    "has no keyUsage extension; notation requires a critical "
                    "keyUsage with digitalSignature");
    if (!ext_critical(c, NID_key_usage))
        return rule(err, c, "signing",
                    "has a keyUsage extension that is not critical");
    ku = X509_get_key_usage(c);
    if (!(ku & KU_DIGITAL_SIGNATURE))
        return rule(err, c, "signing", "has no digitalSignature in keyUsage");
    if (ku &
        (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT |
         KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY))
        return rule(err, c, "signing",
                    "has keyUsage bits notation forbids for signing "
                    "certificates (only digitalSignature and nonRepudiation "
                    "are allowed)");
    if (flags & EXFLAG_XKUSAGE) {
        xku = X509_get_extended_key_usage(c);
        if (xku & XKU_SSL_SERVER)
            return rule(err, c, "signing",
                        "has extended key usage serverAuth, which notation "
                        "forbids: issue it with codeSigning only");
        if (xku & XKU_SSL_CLIENT)
            return rule(err, c, "signing",
                        "has extended key usage clientAuth, which notation "
                        "forbids: issue it with codeSigning only");
        if (xku & XKU_SMIME)
            return rule(err, c, "signing",
                        "has extended key usage emailProtection, which "
                        "notation forbids");
        if (xku & XKU_TIMESTAMP)
            return rule(err, c, "signing",
                        "has extended key usage timeStamping, which notation "
                        "forbids for signing certificates");
        if (xku & XKU_OCSP_SIGN)
            return rule(err, c, "signing",
                        "has extended key usage OCSPSigning, which notation "
                        "forbids");
    }
    if (nk_keyspec_of_pkey(X509_get0_pubkey(c), &spec, &kerr) != 0)
        return rule(err, c, "signing", kerr.msg);
    return 0;
}

static int check_ca(X509 *c, int below, struct nk_err *err)
{
    uint32_t flags = X509_get_extension_flags(c);
    long pathlen;
    char msg[160];

    if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
        return rule(err, c, "issuing",
                    "is not a CA (basicConstraints CA:TRUE is required)");
    if (!(flags & EXFLAG_KUSAGE) || !ext_critical(c, NID_key_usage) ||
        !(X509_get_key_usage(c) & KU_KEY_CERT_SIGN))
        return rule(err, c, "issuing",
                    "needs a critical keyUsage with keyCertSign");
    pathlen = X509_get_pathlen(c);
    if (pathlen >= 0 && below > pathlen) {
        snprintf(msg, sizeof(msg),
                 "allows %ld intermediate CAs below it (pathLenConstraint) "
                 "but the chain has %d",
                 pathlen, below);
        return rule(err, c, "issuing", msg);
    }
    return 0;
}

static int check_shape(STACK_OF(X509) * chain, struct nk_err *err)
{
    int n = sk_X509_num(chain), i;
    X509 *c;

    if (n == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "certificate check failed: the chain is empty");
    for (i = 0; i < n; i++) {
        c = sk_X509_value(chain, i);
        if (i == n - 1 && !is_self_signed(c))
            return rule(err, c, i == 0 ? "signing" : "last",
                        "is not self-signed: the chain must end in a "
                        "self-signed root (add it to pluginConfig "
                        "\"ca-certs\")");
        if (i < n - 1 && is_self_signed(c))
            return rule(err, c, i == 0 ? "signing" : "intermediate",
                        "is self-signed but is not the last certificate of "
                        "the chain");
        if (i < n - 1 && !issued_by(c, sk_X509_value(chain, i + 1)))
            return rule(err, c, i == 0 ? "signing" : "intermediate",
                        "is not issued by the next certificate in the chain "
                        "(chain order is leaf, intermediates, root)");
    }
    return 0;
}

/* Everything but the shape: leaf and issuer rules, algorithms, validity. */
static int check_rules(STACK_OF(X509) * chain, time_t at, struct nk_err *err)
{
    int n = sk_X509_num(chain), i;
    X509 *c;
    const char *role;

    if (n == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "certificate check failed: the chain is empty");
    if (check_leaf(sk_X509_value(chain, 0), err) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        c = sk_X509_value(chain, i);
        role = i == 0 ? "signing" : (i == n - 1 ? "root" : "intermediate");
        if (i > 0 && check_ca(c, i - 1, err) != 0)
            return -1;
        if (check_sig_alg(c, role, err) != 0 ||
            check_validity(c, role, at, err) != 0)
            return -1;
    }
    return 0;
}

int nk_chain_check_codesigning(STACK_OF(X509) * chain, time_t at,
                               struct nk_err *err)
{
    if (check_shape(chain, err) != 0)
        return -1;
    return check_rules(chain, at, err);
}

int nk_chain_check_built(STACK_OF(X509) * chain, time_t at, struct nk_err *err)
{
    return check_rules(chain, at, err);
}
