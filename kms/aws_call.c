/* AWS KMS calls: JSON body, SigV4 headers, retries for throttling and 5xx,
 * and error mapping (code after '#', message, request id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_call.h"
#include "common/mem.h"
#include "sigv4.h"

static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL};
static const char *const access_codes[] = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "InvalidGrantTokenException",
    NULL};
static const char *const invalid_codes[] = {
    "NotFoundException",        "InvalidArnException",
    "DisabledException",        "KMSInvalidStateException",
    "InvalidKeyUsageException", "ValidationException",
    "KeyUnavailableException",  "UnsupportedOperationException",
    "DryRunOperationException", NULL};

static int in(const char *code, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

/* Copies the text of <tag> in xml into out (moto answers auth errors in
 * XML, as the AWS query protocol does). */
static void xml_tag(const char *xml, const char *tag, char *out, size_t n)
{
    char open[32], close[32];
    const char *a, *b;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    a = strstr(xml, open);
    b = a != NULL ? strstr(a, close) : NULL;
    if (a == NULL || b == NULL)
        return;
    a += strlen(open);
    snprintf(out, n, "%.*s", (int)(b - a), a);
}

struct aws_fault {
    char code[128];
    char msg[256];
    char rid[96];
};

static void parse_fault(const struct nk_http_resp *r, struct aws_fault *f)
{
    const char *body = r->body.data ? (const char *)r->body.data : "";
    cJSON *o = cJSON_ParseWithLength(body, r->body.len);
    const char *t, *m;

    memset(f, 0, sizeof(*f));
    if (o != NULL) {
        t = nk_kms_jstr(o, "__type");
        m = nk_kms_jstr(o, "message");
        if (m == NULL)
            m = nk_kms_jstr(o, "Message");
        if (t != NULL) {
            const char *hash = strrchr(t, '#');

            t = hash != NULL ? hash + 1 : t;
            snprintf(f->code, sizeof(f->code), "%.*s", (int)strcspn(t, ":"), t);
        }
        if (m != NULL)
            snprintf(f->msg, sizeof(f->msg), "%s", m);
        cJSON_Delete(o);
    } else {
        xml_tag(body, "Code", f->code, sizeof(f->code));
        xml_tag(body, "Message", f->msg, sizeof(f->msg));
        xml_tag(body, "RequestId", f->rid, sizeof(f->rid));
    }
    if (r->request_id != NULL)
        snprintf(f->rid, sizeof(f->rid), "%s", r->request_id);
}

static int is_throttle(const struct nk_http_resp *r, void *arg)
{
    struct aws_fault f;

    (void)arg;
    if (r->status == 429)
        return 1;
    if (r->status != 400)
        return 0;
    parse_fault(r, &f);
    return in(f.code, throttle_codes);
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    struct aws_fault f;

    (void)arg;
    parse_fault(r, &f);
    snprintf(buf, n, "%s: %s (request id %s)", f.code[0] ? f.code : "error",
             f.msg, f.rid[0] ? f.rid : "-");
}

const struct nk_http_retry *nk_aws_retry_policy(void)
{
    static const struct nk_http_retry pol = {.is_throttle = is_throttle,
                                             .detail = detail};

    return &pol;
}

static int fault(const struct nk_aws_target *t, const char *op,
                 const struct nk_http_resp *r, struct nk_err *err)
{
    struct aws_fault f;
    enum nk_errcode ec;

    parse_fault(r, &f);
    if (in(f.code, access_codes))
        ec = NK_ERR_ACCESS;
    else if (in(f.code, invalid_codes))
        ec = NK_ERR_VALIDATION;
    else if (in(f.code, throttle_codes))
        ec = NK_ERR_THROTTLED;
    else if (r->status == 400 && f.code[0] != '\0')
        ec = NK_ERR_GENERIC;
    else
        ec = nk_kms_status_code(r->status);
    return nk_err_set(err, ec,
                      "AWS KMS %s for \"%s\": %s: %s (HTTP %ld, "
                      "request id %s)",
                      op, t->key_ref, f.code[0] ? f.code : "error",
                      f.msg[0] ? f.msg : "-", r->status,
                      f.rid[0] ? f.rid : "-");
}

int nk_aws_kms_answer(const struct nk_aws_target *t, const char *op,
                      const struct nk_http_resp *r, cJSON **out,
                      struct nk_err *err)
{
    char what[96];

    *out = NULL;
    if (r->status != 200)
        return fault(t, op, r, err);
    snprintf(what, sizeof(what), "AWS KMS %s", op);
    return nk_kms_json(r, what, out, err);
}

/* Splits an endpoint into "host[:port]" and a path (default "/"). */
static void split(const char *ep, char *host, size_t hn, const char **path)
{
    const char *p = strstr(ep, "://");
    size_t n;

    p = p != NULL ? p + 3 : ep;
    n = strcspn(p, "/");
    snprintf(host, hn, "%.*s", (int)n, p);
    *path = p[n] == '/' ? p + n : "/";
}

int nk_aws_kms_call(const struct nk_aws_target *t, const char *op,
                    const cJSON *body, cJSON **out, struct nk_err *err)
{
    struct nk_http_header h[8];
    struct nk_sigv4_params sp = {0};
    struct nk_sigv4_out so;
    struct nk_http_req req = {.method = "POST", .headers = h};
    struct nk_http_resp resp = {0};
    char host[256], target[96], date[17], what[96], *text, *url;
    const char *path;
    size_t i, n = 0;
    int ret = -1;

    *out = NULL;
    split(t->endpoint, host, sizeof(host), &path);
    snprintf(target, sizeof(target), "TrentService.%s", op);
    snprintf(what, sizeof(what), "AWS KMS %s", op);
    nk_sigv4_amz_date((long long)time(NULL), date);
    text = cJSON_PrintUnformatted(body);
    h[n++] =
        (struct nk_http_header){"Content-Type", "application/x-amz-json-1.1"};
    h[n++] = (struct nk_http_header){"X-Amz-Target", target};
    h[n++] = (struct nk_http_header){"Host", host};
    sp.access_key = t->creds->akid;
    sp.secret_key = t->creds->secret;
    sp.token = t->creds->token;
    sp.region = t->region;
    sp.service = "kms";
    sp.amz_date = date;
    sp.normalize = 1;
    if (nk_sigv4_sign(&sp, "POST", path, h, n, (const unsigned char *)text,
                      strlen(text), &so, err) != 0) {
        free(text);
        return -1;
    }
    for (i = 0; i < so.n_add; i++)
        h[n++] = so.add[i];
    url = nk_xstrdup(t->endpoint);
    req.url = url;
    req.n_headers = n;
    req.body = (const unsigned char *)text;
    req.body_len = strlen(text);
    nk_kms_net_apply(t->net, &req);
    if (nk_http_do_retry(&req, nk_aws_retry_policy(), what, &resp, err) != 0)
        goto out;
    if (nk_aws_kms_answer(t, op, &resp, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_sigv4_out_release(&so);
    nk_http_resp_release(&resp);
    nk_strfreezero(text);
    free(url);
    return ret;
}
