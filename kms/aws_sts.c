/* STS calls for the credential chain: AssumeRoleWithWebIdentity and
 * AssumeRole, their XML answers, and SigV4 signing of STS form requests.
 * Secrets are wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_call.h"
#include "aws_config.h"
#include "aws_sts.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "kms_util.h"

/* The text of the first <tag>...</tag> in xml, un-escaped; or NULL. */
static char *xml_get(const char *xml, const char *tag)
{
    static const struct {
        const char *e;
        char c;
    } ents[] = {{"&amp;", '&'},
                {"&lt;", '<'},
                {"&gt;", '>'},
                {"&quot;", '"'},
                {"&apos;", '\''}};
    char open[64], close[64], *out;
    const char *a, *b;
    size_t i, j, k, n;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    a = strstr(xml, open);
    if (a == NULL)
        return NULL;
    a += strlen(open);
    b = strstr(a, close);
    if (b == NULL)
        return NULL;
    n = (size_t)(b - a);
    out = nk_xmalloc(n + 1);
    for (i = j = 0; i < n; i++) {
        for (k = 0; k < 5; k++)
            if (n - i >= strlen(ents[k].e) &&
                strncmp(a + i, ents[k].e, strlen(ents[k].e)) == 0)
                break;
        if (k < 5) {
            out[j++] = ents[k].c;
            i += strlen(ents[k].e) - 1;
        } else {
            out[j++] = a[i];
        }
    }
    out[j] = '\0';
    return out;
}

static int sts_error(const char *what, const struct nk_http_resp *r,
                     struct nk_err *err)
{
    const char *body = (const char *)r->body.data;
    char *code = xml_get(body, "Code"), *msg = xml_get(body, "Message");
    char *rid = xml_get(body, "RequestId");
    enum nk_errcode ec = nk_kms_status_code(r->status);

    if (code != NULL && (strstr(code, "InvalidIdentityToken") != NULL ||
                         strstr(code, "ExpiredToken") != NULL ||
                         strstr(code, "InvalidClientTokenId") != NULL ||
                         strstr(code, "SignatureDoesNotMatch") != NULL ||
                         strstr(code, "AccessDenied") != NULL))
        ec = NK_ERR_ACCESS;
    nk_err_set(err, ec, "%s: HTTP %ld %s: %.200s (request id %s)", what,
               r->status, code ? code : "error", msg ? msg : "",
               rid             ? rid
               : r->request_id ? r->request_id
                               : "-");
    free(code);
    free(msg);
    free(rid);
    return -1;
}

/* The Credentials of an STS answer into out. */
static int take_creds(const char *what, const struct nk_http_resp *r,
                      struct nk_aws_creds *out, struct nk_err *err)
{
    const char *body = (const char *)r->body.data;
    char *ak = xml_get(body, "AccessKeyId");
    char *sk = xml_get(body, "SecretAccessKey");
    char *st = xml_get(body, "SessionToken");
    char *exp = xml_get(body, "Expiration");
    long long t = 0;
    int ret = 0;

    if (exp != NULL && nk_aws_parse_time(exp, &t) != 0)
        t = 0;
    if (nk_aws_creds_set(out, ak, sk, st, t) != 0) {
        int xml = nk_http_type_is(r, "xml");

        ret = nk_err_set(err, NK_ERR_GENERIC,
                         "%s: no credentials in the "
                         "answer%s%.64s%s",
                         what, xml ? "" : " (content type \"",
                         xml ? "" : r->content_type, xml ? "" : "\", not XML)");
    }
    nk_memzero(r->body.data, r->body.len);
    free(ak);
    free(exp);
    nk_strfreezero(sk);
    nk_strfreezero(st);
    return ret;
}

/* An STS answer: the credentials of a 200, else the STS error. */
static int sts_answer(const char *what, const struct nk_http_resp *r,
                      struct nk_aws_creds *out, struct nk_err *err)
{
    if (r->status != 200)
        return sts_error(what, r, err);
    return take_creds(what, r, out, err);
}

int nk_aws_sts_answer(const struct nk_http_resp *r, struct nk_aws_creds *out,
                      struct nk_err *err)
{
    return sts_answer("AWS STS AssumeRoleWithWebIdentity", r, out, err);
}

/* POSTs form to STS and takes the credentials of a 200 answer. */
static int sts_post(const struct nk_config *cfg, const char *region,
                    const struct nk_kms_net *net, const struct nk_buf *form,
                    const struct nk_aws_creds *signer, const char *what,
                    struct nk_aws_creds *out, struct nk_err *err)
{
    static const struct nk_http_header plain[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/xml"}};
    struct nk_http_req req = {
        .method = "POST", .headers = plain, .n_headers = 2};
    struct nk_http_resp resp = {0};
    struct nk_aws_signed sg;
    char *base = nk_aws_endpoint(cfg, "STS", "sts", region);
    char *url = nk_xasprintf("%s/", base);
    int ret = -1;

    memset(&sg, 0, sizeof(sg));
    if (signer != NULL) {
        if (nk_aws_sts_sign(url, region, signer, (const char *)form->data, NULL,
                            0, &sg, err) != 0)
            goto out;
        req.headers = sg.h;
        req.n_headers = sg.n;
    }
    req.url = url;
    req.body = form->data;
    req.body_len = form->len;
    nk_kms_net_apply(net, &req);
    if (nk_http_do_retry(&req, nk_aws_retry_policy(), what, &resp, err) != 0)
        goto out;
    if (sts_answer(what, &resp, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_sigv4_out_release(&sg.so);
    nk_http_resp_release(&resp);
    free(base);
    free(url);
    return ret;
}

int nk_aws_sts_web_identity(const struct nk_config *cfg, const char *region,
                            const struct nk_kms_net *net,
                            const char *token_file, const char *role_arn,
                            const char *session, struct nk_aws_creds *out,
                            struct nk_err *err)
{
    struct nk_buf tok, form;
    int ret = -1;

    nk_buf_init(&tok, 64 * 1024);
    nk_buf_init(&form, 128 * 1024);
    if (nk_buf_read_file(&tok, token_file, err) != 0) {
        nk_err_prefix(err, "AWS_WEB_IDENTITY_TOKEN_FILE");
        goto out;
    }
    while (tok.len > 0 &&
           (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r'))
        tok.data[--tok.len] = '\0';
    nk_kms_form_add(&form, "Action", "AssumeRoleWithWebIdentity", err);
    nk_kms_form_add(&form, "Version", "2011-06-15", err);
    nk_kms_form_add(&form, "RoleArn", role_arn, err);
    nk_kms_form_add(
        &form, "RoleSessionName",
        session != NULL && session[0] ? session : "notation-keystore", err);
    nk_kms_form_add(&form, "WebIdentityToken", (const char *)tok.data, err);
    if (err->code != NK_ERR_NONE)
        goto out;
    ret = sts_post(cfg, region, net, &form, NULL,
                   "AWS STS AssumeRoleWithWebIdentity", out, err);
out:
    nk_buf_release(&tok);
    nk_buf_release(&form);
    return ret;
}

int nk_aws_sts_assume_role(const struct nk_config *cfg, const char *region,
                           const struct nk_kms_net *net,
                           const struct nk_aws_creds *src,
                           const struct nk_aws_role *role,
                           struct nk_aws_creds *out, struct nk_err *err)
{
    struct nk_buf form;
    char what[320], dur[24];
    int ret;

    nk_buf_init(&form, 64 * 1024);
    nk_kms_form_add(&form, "Action", "AssumeRole", err);
    nk_kms_form_add(&form, "Version", "2011-06-15", err);
    nk_kms_form_add(&form, "RoleArn", role->arn, err);
    nk_kms_form_add(&form, "RoleSessionName",
                    role->session != NULL && role->session[0]
                        ? role->session
                        : "notation-keystore",
                    err);
    if (role->external_id != NULL)
        nk_kms_form_add(&form, "ExternalId", role->external_id, err);
    if (role->duration > 0) {
        snprintf(dur, sizeof(dur), "%ld", role->duration);
        nk_kms_form_add(&form, "DurationSeconds", dur, err);
    }
    snprintf(what, sizeof(what), "AWS STS AssumeRole of \"%.250s\"", role->arn);
    ret = err->code != NK_ERR_NONE
              ? -1
              : sts_post(cfg, region, net, &form, src, what, out, err);
    nk_buf_release(&form);
    return ret;
}

/* "host[:port]" and the path (default "/") of url. */
static void split(const char *url, char *host, size_t hn, const char **path)
{
    const char *p = strstr(url, "://");
    size_t n;

    p = p != NULL ? p + 3 : url;
    n = strcspn(p, "/?#");
    snprintf(host, hn, "%.*s", (int)n, p);
    *path = p[n] == '/' ? p + n : "/";
}

int nk_aws_sts_sign(const char *url, const char *region,
                    const struct nk_aws_creds *c, const char *body,
                    const struct nk_http_header *extra, size_t n_extra,
                    struct nk_aws_signed *out, struct nk_err *err)
{
    struct nk_sigv4_params sp = {0};
    char date[17];
    const char *path;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (n_extra + 6 > sizeof(out->h) / sizeof(out->h[0]))
        return nk_err_set(err, NK_ERR_GENERIC, "too many STS headers");
    split(url, out->host, sizeof(out->host), &path);
    nk_sigv4_amz_date((long long)time(NULL), date);
    out->h[out->n++] = (struct nk_http_header){
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    out->h[out->n++] = (struct nk_http_header){"Host", out->host};
    for (i = 0; i < n_extra; i++)
        out->h[out->n++] = extra[i];
    sp.access_key = c->akid;
    sp.secret_key = c->secret;
    sp.token = c->token;
    sp.region = region;
    sp.service = "sts";
    sp.amz_date = date;
    sp.normalize = 1;
    if (nk_sigv4_sign(&sp, "POST", path, out->h, out->n,
                      (const unsigned char *)body, strlen(body), &out->so,
                      err) != 0)
        return -1;
    for (i = 0; i < out->so.n_add; i++)
        out->h[out->n++] = out->so.add[i];
    return 0;
}
