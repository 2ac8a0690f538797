/* CRL (RFC 5280) status of one certificate: the CRL of every http
 * distribution point, from the cache or downloaded, checked by
 * nk_crl_unusable() (crlcheck.c), then searched for the serial. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/http.h"
#include "common/log.h"
#include "verify/revoke.h"

/* Distribution point URLs come from certificates: shown without userinfo
 * or query all the same (nk_http_url_loggable). */
static void unknown(struct nk_rev_cert *rc, const char *url, const char *why)
{
    char shown[256];

    rc->status = NK_REV_UNKNOWN;
    snprintf(rc->detail, sizeof(rc->detail), "CRL \"%.200s\": %.280s",
             nk_http_url_loggable(url, shown, sizeof(shown)), why);
}

/* The first http URI of a distribution point, or NULL. */
static const char *dp_url(const DIST_POINT *dp)
{
    const GENERAL_NAME *gn;
    const char *s;
    int i;

    if (dp->distpoint == NULL || dp->distpoint->type != 0)
        return NULL;
    for (i = 0; i < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); i++) {
        gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, i);
        if (gn->type != GEN_URI)
            continue;
        s = (const char *)ASN1_STRING_get0_data(
            gn->d.uniformResourceIdentifier);
        if (strncasecmp(s, "http://", 7) == 0 &&
            strlen(s) ==
                (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier))
            return s;
    }
    return NULL;
}

int nk_crl_supported(X509 *cert)
{
    STACK_OF(DIST_POINT) *dps =
        X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    int i, found = 0;

    for (i = 0; i < sk_DIST_POINT_num(dps); i++)
        found |= dp_url(sk_DIST_POINT_value(dps, i)) != NULL;
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return found;
}

X509_CRL *nk_crl_parse(const unsigned char *der, size_t n, X509 *cert,
                       X509 *issuer, const DIST_POINT *dp, time_t now,
                       const char **why)
{
    const unsigned char *p = der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)n);

    *why = crl == NULL || p != der + n
               ? "the response is not a DER CRL"
               : nk_crl_unusable(crl, cert, issuer, dp, now);
    ERR_clear_error();
    if (*why == NULL)
        return crl;
    X509_CRL_free(crl);
    return NULL;
}

/* Downloads, parses and checks the CRL at url (distribution point dp). */
static X509_CRL *fetch(const char *url, const DIST_POINT *dp, X509 *cert,
                       X509 *issuer, const struct nk_verify_opts *o,
                       struct nk_rev_cert *rc)
{
    struct nk_http_req hr = {0};
    struct nk_http_resp resp = {0};
    struct nk_err err = {0};
    X509_CRL *crl = NULL;
    const char *why;
    char msg[64];

    hr.method = "GET";
    hr.url = url;
    hr.timeout = o->crl_timeout;
    hr.max_body = NK_CRL_MAX_SIZE;
    hr.allow_http = 1;
    /* As notation does: CRLs move to CDNs behind redirects. The CRL is
     * signed and the request carries nothing secret, so following is
     * safe (http/https only). */
    hr.max_redirects = 3;
    if (nk_http_do(&hr, "CRL download", &resp, &err) != 0) {
        unknown(rc, url, err.msg);
        goto out;
    }
    if (resp.status != 200) {
        snprintf(msg, sizeof(msg), "HTTP status %ld", resp.status);
        unknown(rc, url, msg);
        goto out;
    }
    crl = nk_crl_parse(resp.body.data, resp.body.len, cert, issuer, dp, o->now,
                       &why);
    if (crl == NULL) {
        unknown(rc, url, why);
        goto out;
    }
    if (o->crl_cache && nk_crlcache_put(o->cache_dir, url, resp.body.data,
                                        resp.body.len, &err) != 0)
        nk_info("crl cache: not stored: %s", err.msg);
out:
    ERR_clear_error();
    nk_http_resp_release(&resp);
    return crl;
}

/* A verified CRL for url: the cached one while it is valid, else a new
 * download. A damaged or unverifiable cache entry is simply replaced. */
static X509_CRL *get_crl(const char *url, const DIST_POINT *dp, X509 *cert,
                         X509 *issuer, const struct nk_verify_opts *o,
                         struct nk_rev_cert *rc)
{
    X509_CRL *crl = NULL;
    const char *why;
    char shown[256];

    if (o->crl_cache)
        crl = nk_crlcache_get(o->cache_dir, url);
    if (crl != NULL) {
        why = nk_crl_unusable(crl, cert, issuer, dp, o->now);
        nk_debug("crl cache %s: %s",
                 nk_http_url_loggable(url, shown, sizeof(shown)),
                 why != NULL ? why : "hit");
        if (why == NULL)
            return crl;
        X509_CRL_free(crl);
    }
    return fetch(url, dp, cert, issuer, o, rc);
}

/* Unknown critical entry extensions make the entry unusable (RFC 5280). */
static int bad_entry(const X509_REVOKED *rev)
{
    const X509_EXTENSION *ext;
    int i, nid;

    for (i = 0; i < X509_REVOKED_get_ext_count(rev); i++) {
        ext = X509_REVOKED_get_ext(rev, i);
        nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ext));
        if (X509_EXTENSION_get_critical(ext) && nid != NID_crl_reason &&
            nid != NID_invalidity_date)
            return 1;
    }
    return 0;
}

void nk_crl_lookup(X509 *cert, X509_CRL *crl, const char *url,
                   const struct nk_verify_opts *o, struct nk_rev_cert *rc)
{
    X509_REVOKED *rev = NULL;
    ASN1_ENUMERATED *reason;
    ASN1_GENERALIZEDTIME *inv;
    char shown[400];
    time_t invt = 0;
    int found =
        X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1;

    rc->status = NK_REV_GOOD;
    nk_http_url_loggable(url, shown, sizeof(shown));
    snprintf(rc->detail, sizeof(rc->detail), "CRL \"%s\"", shown);
    if (!found)
        return;
    if (bad_entry(rev)) {
        unknown(rc, url, "the entry has an unsupported critical extension");
        return;
    }
    /* notation-core-go: with an authentic signing time (signingAuthority),
     * an entry whose invalidity date is after it does not count. */
    inv = X509_REVOKED_get_ext_d2i(rev, NID_invalidity_date, NULL, NULL);
    if (inv != NULL && o->signing_time != 0 &&
        nk_time_from_asn1(inv, &invt) == 0 && o->signing_time < invt) {
        ASN1_GENERALIZEDTIME_free(inv);
        snprintf(rc->detail, sizeof(rc->detail),
                 "CRL \"%.300s\" (revoked, but invalid only after the "
                 "authentic signing time)",
                 shown);
        return;
    }
    ASN1_GENERALIZEDTIME_free(inv);
    rc->status = NK_REV_REVOKED;
    if (nk_time_from_asn1(X509_REVOKED_get0_revocationDate(rev),
                          &rc->revoked_at) != 0)
        rc->revoked_at = 0;
    reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    rc->reason_code = reason != NULL ? (int)ASN1_ENUMERATED_get(reason) : -1;
    ASN1_ENUMERATED_free(reason);
}

void nk_crl_check(X509 *cert, X509 *issuer, const struct nk_verify_opts *o,
                  struct nk_rev_cert *rc)
{
    STACK_OF(DIST_POINT) *dps =
        X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    X509_CRL *crl;
    const DIST_POINT *dp;
    const char *url;
    char shown[256];
    double t0;
    int i;

    rc->method = NK_REV_CRL;
    rc->status = NK_REV_UNKNOWN;
    snprintf(rc->detail, sizeof(rc->detail), "no http CRL distribution point");
    /* Every distribution point counts (partitioned CRLs), as in notation. */
    for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
        dp = sk_DIST_POINT_value(dps, i);
        url = dp_url(dp);
        if (url == NULL)
            continue;
        t0 = nk_log_now_ms();
        crl = get_crl(url, dp, cert, issuer, o, rc);
        if (crl != NULL)
            nk_crl_lookup(cert, crl, url, o, rc);
        X509_CRL_free(crl);
        nk_debug("crl %s: status %d (%.1f ms)",
                 nk_http_url_loggable(url, shown, sizeof(shown)),
                 (int)rc->status, nk_log_now_ms() - t0);
        if (rc->status != NK_REV_GOOD)
            break;
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
}
