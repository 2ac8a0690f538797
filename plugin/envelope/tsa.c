/* RFC 3161 client: configuration, request and HTTP exchange. The checks
 * on the answer are in tsa_check.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/certs.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "tsa.h"

#define NONCE_BYTES 20

/* The root must be one certificate that issued and signed itself. */
static int load_root(const char *path, X509 **out, struct nk_err *err)
{
    STACK_OF(X509) *sk = NULL;
    X509 *c;
    int ret = -1;

    *out = NULL;
    if (nk_certs_load_file(path, "timestamp-root-cert", &sk, err) != 0)
        return -1;
    if (sk_X509_num(sk) != 1) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pluginConfig \"timestamp-root-cert\" must hold exactly "
                   "one certificate, \"%s\" holds %d",
                   path, sk_X509_num(sk));
        goto out;
    }
    c = sk_X509_value(sk, 0);
    if (X509_check_issued(c, c) != X509_V_OK ||
        X509_verify(c, X509_get0_pubkey(c)) != 1) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pluginConfig \"timestamp-root-cert\": the certificate "
                   "in \"%s\" is not a self-signed root",
                   path);
        goto out;
    }
    X509_up_ref(c);
    *out = c;
    ret = 0;
out:
    ERR_clear_error();
    sk_X509_pop_free(sk, X509_free);
    return ret;
}

int nk_tsa_config(const struct nk_config *cfg, struct nk_tsa *t,
                  struct nk_err *err)
{
    const char *url = nk_config_str(cfg, "timestamp-url");
    const char *root = nk_config_str(cfg, "timestamp-root-cert");

    memset(t, 0, sizeof(*t));
    if (nk_config_seconds(cfg, "timestamp-timeout", NK_TSA_DEFAULT_TIMEOUT,
                          NK_TSA_MAX_TIMEOUT, &t->timeout, err) != 0)
        return -1;
    if (url == NULL && root == NULL)
        return 0;
    if (url == NULL || root == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig \"timestamp-url\" and "
                          "\"timestamp-root-cert\" go together: \"%s\" is "
                          "missing",
                          url == NULL ? "timestamp-url"
                                      : "timestamp-root-cert");
    /* The URL may carry user:password@ or an API key in its query. */
    nk_http_url_loggable(url, t->shown, sizeof(t->shown));
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig \"timestamp-url\" must be an http:// "
                          "or https:// URL, not \"%.128s\"",
                          t->shown);
    if (load_root(root, &t->root, err) != 0)
        return -1;
    t->url = nk_xstrdup(url);
    return 0;
}

/* A random positive nonce below 2^159 (as notation's tspclient-go). */
static ASN1_INTEGER *make_nonce(void)
{
    unsigned char b[NONCE_BYTES];
    BIGNUM *bn;
    ASN1_INTEGER *ai = NULL;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return NULL;
    b[0] &= 0x7f;
    b[sizeof(b) - 1] |= 1; /* never zero */
    bn = BN_bin2bn(b, sizeof(b), NULL);
    if (bn != NULL)
        ai = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return ai;
}

static int fill_query(TS_REQ *req, enum nk_hash hash, const unsigned char *data,
                      size_t n)
{
    unsigned char md[64];
    size_t mdlen = nk_hash_digest(hash, data, n, md);
    TS_MSG_IMPRINT *imp = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = make_nonce();
    int ok = 0;

    if (mdlen == 0 || imp == NULL || alg == NULL || nonce == NULL)
        goto out;
    /* Parameters NULL, as `openssl ts -query` and tspclient-go write. */
    if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(nk_hash_md(hash))),
                        V_ASN1_NULL, NULL) != 1 ||
        TS_MSG_IMPRINT_set_algo(imp, alg) != 1 ||
        TS_MSG_IMPRINT_set_msg(imp, md, (int)mdlen) != 1 ||
        TS_REQ_set_version(req, 1) != 1 ||
        TS_REQ_set_msg_imprint(req, imp) != 1 ||
        TS_REQ_set_nonce(req, nonce) != 1 || TS_REQ_set_cert_req(req, 1) != 1)
        goto out;
    ok = 1;
out:
    TS_MSG_IMPRINT_free(imp);
    X509_ALGOR_free(alg);
    ASN1_INTEGER_free(nonce);
    return ok;
}

int nk_tsa_query(enum nk_hash hash, const unsigned char *data, size_t n,
                 TS_REQ **out, struct nk_err *err)
{
    TS_REQ *req = TS_REQ_new();

    *out = NULL;
    if (req == NULL || !fill_query(req, hash, data, n)) {
        TS_REQ_free(req);
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "cannot build the timestamp request");
    }
    *out = req;
    return 0;
}

/* The reply must be HTTP 200 with the RFC 3161 media type. */
static int check_http(const struct nk_tsa *t, const struct nk_http_resp *r,
                      struct nk_err *err)
{
    const char *ct = r->content_type != NULL ? r->content_type : "";
    size_t k = strlen("application/timestamp-reply");

    /* Rate limited: notation's THROTTLED tells the user to come back
     * later, which a plain ERROR does not. */
    if (r->status == 429)
        return nk_err_set(err, NK_ERR_THROTTLED,
                          "timestamp authority \"%s\" answered HTTP 429 (too "
                          "many requests; Retry-After %.0f s)",
                          t->shown, r->retry_after > 0 ? r->retry_after : 0.0);
    if (r->status != 200)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "timestamp authority \"%s\" answered HTTP %ld",
                          t->shown, r->status);
    if (strncasecmp(ct, "application/timestamp-reply", k) != 0 ||
        (ct[k] != '\0' && ct[k] != ';' && ct[k] != ' '))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "timestamp authority \"%s\" answered with content "
                          "type \"%.64s\", not \"application/timestamp-reply\"",
                          t->shown, ct);
    return 0;
}

/* An unreachable TSA is a TIMEOUT, like a slow one: the signature cannot
 * be timestamped in time, whatever the cause. TLS and URL errors keep
 * their code. */
static int unreachable(const struct nk_tsa *t, struct nk_err *err)
{
    char msg[sizeof(err->msg)];

    memcpy(msg, err->msg, sizeof(msg));
    nk_err_clear(err);
    return nk_err_set(err, NK_ERR_TIMEOUT,
                      "timestamp authority \"%.200s\" is unreachable (%s)",
                      t->shown, msg);
}

static int post(const struct nk_tsa *t, const unsigned char *q, size_t n,
                struct nk_http_resp *resp, struct nk_err *err)
{
    static const struct nk_http_header hdrs[] = {
        {"Content-Type", "application/timestamp-query"},
        {"Accept", "application/timestamp-reply"},
    };
    struct nk_http_req req = {0};

    req.method = "POST";
    req.url = t->url;
    req.headers = hdrs;
    req.n_headers = sizeof(hdrs) / sizeof(hdrs[0]);
    req.body = q;
    req.body_len = n;
    req.timeout = t->timeout;
    req.max_body = 1024 * 1024;
    req.allow_http = 1; /* TSA URLs are plain http more often than not */
    if (nk_http_do(&req, "timestamp authority", resp, err) != 0)
        return resp->unreachable ? unreachable(t, err) : -1;
    return check_http(t, resp, err);
}

int nk_tsa_stamp(const struct nk_tsa *t, enum nk_hash hash,
                 const unsigned char *sig, size_t n, unsigned char **tst,
                 size_t *tstlen, struct nk_err *err)
{
    TS_REQ *req = NULL;
    unsigned char *q = NULL;
    struct nk_http_resp resp = {0};
    double t0 = nk_log_now_ms();
    int qlen, ret = -1;

    *tst = NULL;
    *tstlen = 0;
    if (nk_tsa_query(hash, sig, n, &req, err) != 0)
        goto out;
    qlen = i2d_TS_REQ(req, &q);
    if (qlen <= 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the timestamp request");
        goto out;
    }
    if (post(t, q, (size_t)qlen, &resp, err) != 0 ||
        nk_tsa_check(req, t->root, resp.body.data, resp.body.len, tst, tstlen,
                     err) != 0)
        goto out;
    nk_info("timestamp from %s (%.1f ms)", t->shown, nk_log_now_ms() - t0);
    ret = 0;
out:
    OPENSSL_free(q);
    TS_REQ_free(req);
    nk_http_resp_release(&resp);
    return ret;
}

void nk_tsa_release(struct nk_tsa *t)
{
    free(t->url);
    X509_free(t->root);
    t->url = NULL;
    t->shown[0] = '\0';
    t->root = NULL;
}
