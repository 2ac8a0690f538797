/* Whether a CRL may decide a certificate's status (RFC 5280 sections 5.2
 * and 6.3.3): issued and signed by the certificate's issuer, current, of a
 * kind we can read, and in scope for the certificate and for the
 * distribution point it was fetched from. CRLs travel over plain http, so
 * anyone on the path can replay any CRL the CA ever issued: a CRL of
 * another scope or of any age must not count. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "verify/revoke.h"

/* Delta CRLs and unknown critical extensions make a CRL unusable. The
 * issuing distribution point is read by out_of_scope(). */
static const char *bad_extension(const X509_CRL *crl)
{
    const X509_EXTENSION *ext;
    int i, nid;

    for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
        ext = X509_CRL_get_ext(crl, i);
        nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ext));
        if (nid == NID_freshest_crl || nid == NID_delta_crl)
            return "delta CRLs are not supported";
        if (X509_EXTENSION_get_critical(ext) &&
            nid != NID_issuing_distribution_point)
            return "the CRL has an unsupported critical extension";
    }
    return NULL;
}

/* The CRL's authority key identifier must name the issuer's key when both
 * are given (a CA that rolled its key keeps its name). */
static const char *wrong_key_id(X509_CRL *crl, X509 *issuer)
{
    int crit = -1;
    AUTHORITY_KEYID *akid =
        X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
    const char *why = NULL;

    if (akid == NULL && crit != -1)
        why = "the CRL's authority key identifier is unreadable";
    else if (akid != NULL && akid->keyid != NULL && ski != NULL &&
             ASN1_OCTET_STRING_cmp(akid->keyid, ski) != 0)
        why = "the CRL's authority key identifier is not the issuer's "
              "subject key identifier";
    AUTHORITY_KEYID_free(akid);
    return why;
}

/* Issuer, signature, key identifier, cRLSign, thisUpdate and nextUpdate. */
static const char *not_issuers(X509_CRL *crl, X509 *issuer, time_t now)
{
    time_t tu, nu;
    const char *why;

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
                      X509_get_subject_name(issuer)) != 0)
        return "the CRL issuer is not the certificate's issuer";
    if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
        ERR_clear_error();
        return "the CRL signature does not verify with the issuer's key";
    }
    why = wrong_key_id(crl, issuer);
    if (why != NULL)
        return why;
    if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(issuer) & KU_CRL_SIGN))
        return "the issuer's keyUsage does not allow cRLSign";
    if (nk_time_from_asn1(X509_CRL_get0_lastUpdate(crl), &tu) != 0 ||
        tu > now + NK_REVOCATION_SKEW)
        return "the CRL thisUpdate is unreadable or in the future";
    /* Without nextUpdate a CRL of any age would do (notation refuses it
     * too). */
    if (X509_CRL_get0_nextUpdate(crl) == NULL)
        return "the CRL has no nextUpdate";
    if (nk_time_from_asn1(X509_CRL_get0_nextUpdate(crl), &nu) != 0 || now >= nu)
        return "the CRL is stale (its nextUpdate has passed)";
    return NULL;
}

static int is_ca(X509 *cert)
{
    BASIC_CONSTRAINTS *bc =
        X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
    int ca = bc != NULL && bc->ca;

    BASIC_CONSTRAINTS_free(bc);
    return ca;
}

/* RFC 5280 6.3.3 (b)(2)(i): one name of the IDP's distribution point
 * equals one name of dp (a fullName; a name relative to the CRL issuer is
 * a directory name). */
static int same_point(DIST_POINT_NAME *idpn, const DIST_POINT *dp,
                      X509_CRL *crl)
{
    GENERAL_NAMES *mine = dp->distpoint->name.fullname;
    GENERAL_NAME *a, *b;
    int i, j;

    if (idpn->type != 0 &&
        !DIST_POINT_set_dpname(idpn, X509_CRL_get_issuer(crl)))
        return 0;
    for (j = 0; j < sk_GENERAL_NAME_num(mine); j++) {
        b = sk_GENERAL_NAME_value(mine, j);
        if (idpn->type != 0) {
            if (b->type == GEN_DIRNAME &&
                X509_NAME_cmp(b->d.directoryName, idpn->dpname) == 0)
                return 1;
            continue;
        }
        for (i = 0; i < sk_GENERAL_NAME_num(idpn->name.fullname); i++) {
            a = sk_GENERAL_NAME_value(idpn->name.fullname, i);
            if (GENERAL_NAME_cmp(a, b) == 0)
                return 1;
        }
    }
    return 0;
}

/* The issuing distribution point must cover cert as fetched from dp. */
static const char *out_of_scope(X509_CRL *crl, X509 *cert, const DIST_POINT *dp)
{
    int crit = -1;
    ISSUING_DIST_POINT *idp =
        X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
    const char *why = NULL;

    if (idp == NULL)
        return crit == -1 ? NULL
                          : "the CRL's issuing distribution point is "
                            "unreadable";
    if (idp->indirectCRL)
        why = "indirect CRLs are not supported";
    else if (idp->onlysomereasons != NULL)
        why = "the CRL covers only some revocation reasons";
    else if (idp->onlyattr)
        why = "the CRL covers attribute certificates only";
    else if (idp->onlyuser && is_ca(cert))
        why = "the CRL covers end-entity certificates only";
    else if (idp->onlyCA && !is_ca(cert))
        why = "the CRL covers CA certificates only";
    else if (idp->distpoint != NULL && !same_point(idp->distpoint, dp, crl))
        why = "the CRL is for another distribution point (another "
              "partition)";
    ISSUING_DIST_POINT_free(idp);
    return why;
}

const char *nk_crl_unusable(X509_CRL *crl, X509 *cert, X509 *issuer,
                            const DIST_POINT *dp, time_t now)
{
    const char *why = not_issuers(crl, issuer, now);

    if (why == NULL)
        why = bad_extension(crl);
    if (why == NULL)
        why = out_of_scope(crl, cert, dp);
    return why;
}
