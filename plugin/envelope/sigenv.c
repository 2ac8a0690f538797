/* Envelope parsing shared by JWS and COSE: format detection, the header
 * rules both formats follow, the chain, and release. */
#include <stdlib.h>
#include <string.h>

#include "envelope/sigenv.h"
#include "common/mem.h"

#define PAYLOAD_TYPE "application/vnd.cncf.notary.payload.v1+json"

static const char *const known[] = {
    "io.cncf.notary.signingScheme",
    "io.cncf.notary.signingTime",
    "io.cncf.notary.authenticSigningTime",
    "io.cncf.notary.expiry",
    "io.cncf.notary.verificationPlugin",
    "io.cncf.notary.verificationPluginMinVersion",
};

int nk_sigenv_known_header(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(name, known[i]) == 0)
            return 1;
    return 0;
}

int nk_sigenv_parse(const unsigned char *p, size_t n, struct nk_sigenv *e,
                    struct nk_err *err)
{
    size_t i = 0;

    memset(e, 0, sizeof(*e));
    if (n > NK_SIGENV_MAX)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "signature envelope is "
                          "larger than %u bytes",
                          NK_SIGENV_MAX);
    while (i < n &&
           (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    if (i < n && p[i] == '{')
        return nk_sigenv_parse_jws(p, n, e, err);
    if (n > 0 && p[0] == 0xd2)
        return nk_sigenv_parse_cose(p, n, e, err);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "not a signature envelope: "
                      "expected JWS JSON or a COSE_Sign1 (CBOR tag 18)");
}

static int crit_listed(const struct nk_sigenv *e, const char *name)
{
    size_t i;

    for (i = 0; i < e->n_crit; i++)
        if (strcmp(e->crit[i], name) == 0)
            return 1;
    return 0;
}

int nk_sigenv_check_headers(const struct nk_sigenv *e, struct nk_err *err)
{
    size_t i;
    int sa;

    if (e->alg[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "protected header has no "
                          "supported \"alg\"");
    if (e->cty == NULL || strcmp(e->cty, PAYLOAD_TYPE) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "content type must be "
                          "\"%s\"",
                          PAYLOAD_TYPE);
    if (e->scheme == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "protected header has no "
                          "\"io.cncf.notary.signingScheme\"");
    sa = strcmp(e->scheme, "notary.x509.signingAuthority") == 0;
    if (!sa && strcmp(e->scheme, "notary.x509") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unknown signing scheme "
                          "\"%.64s\"",
                          e->scheme);
    if (e->signing_time == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "protected header has no "
                          "signing time");
    if (!crit_listed(e, "io.cncf.notary.signingScheme") ||
        (sa && !crit_listed(e, "io.cncf.notary.authenticSigningTime")) ||
        (e->expiry != 0 && !crit_listed(e, "io.cncf.notary.expiry")))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "a header notation "
                          "requires to be critical is missing from \"crit\"");
    for (i = 0; i < e->n_crit; i++)
        if (!nk_sigenv_known_header(e->crit[i]))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "critical header "
                              "\"%.64s\" is not understood",
                              e->crit[i]);
    if (e->chain == NULL || sk_X509_num(e->chain) == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "envelope carries no "
                          "certificate chain");
    return 0;
}

int nk_sigenv_add_cert(struct nk_sigenv *e, const unsigned char *der, size_t n,
                       struct nk_err *err)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);

    if (x == NULL || p != der + n) {
        X509_free(x);
        return nk_err_ssl(err, NK_ERR_VALIDATION,
                          "certificate %d of the "
                          "chain is not one DER certificate",
                          e->chain ? sk_X509_num(e->chain) + 1 : 1);
    }
    if (e->chain == NULL)
        e->chain = sk_X509_new_null();
    sk_X509_push(e->chain, x);
    return 0;
}

void nk_sigenv_release(struct nk_sigenv *e)
{
    size_t i;

    free(e->cty);
    free(e->scheme);
    free(e->vplugin);
    free(e->vplugin_min);
    free(e->agent);
    for (i = 0; i < e->n_crit; i++)
        free(e->crit[i]);
    free(e->payload);
    free(e->tbs);
    free(e->sig);
    free(e->tst);
    sk_X509_pop_free(e->chain, X509_free);
    memset(e, 0, sizeof(*e));
}
