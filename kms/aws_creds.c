/* The AWS credential chain: environment, web identity through STS, shared
 * files, container endpoint, IMDSv2. Secrets are wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws_config.h"
#include "aws_creds.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TIMEOUT 2.0

void nk_aws_creds_release(struct nk_aws_creds *c)
{
    free(c->akid);
    nk_strfreezero(c->secret);
    nk_strfreezero(c->token);
    memset(c, 0, sizeof(*c));
}

static int set(struct nk_aws_creds *c, const char *akid, const char *secret,
               const char *token, const char *source)
{
    if (akid == NULL || secret == NULL || akid[0] == '\0' ||
        secret[0] == '\0')
        return -1;
    c->akid = nk_xstrdup(akid);
    c->secret = nk_xstrdup(secret);
    c->token = token != NULL && token[0] != '\0' ? nk_xstrdup(token) : NULL;
    c->source = source;
    return 0;
}

/* The text of the first <tag>...</tag> in xml, un-escaped; or NULL. */
static char *xml_get(const char *xml, const char *tag)
{
    char open[64], close[64], *out;
    const char *a, *b;
    size_t i, j, n;

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
        static const struct { const char *e; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
            {"&apos;", '\''}};
        size_t k;

        for (k = 0; k < 5; k++) {
            size_t el = strlen(ents[k].e);

            if (n - i >= el && strncmp(a + i, ents[k].e, el) == 0)
                break;
        }
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

static int sts_error(const struct nk_http_resp *r, struct nk_err *err)
{
    const char *body = (const char *)r->body.data;
    char *code = xml_get(body, "Code"), *msg = xml_get(body, "Message");
    char *rid = xml_get(body, "RequestId");
    enum nk_errcode ec = nk_kms_status_code(r->status);

    if (code != NULL && (strstr(code, "InvalidIdentityToken") != NULL ||
                         strstr(code, "ExpiredToken") != NULL))
        ec = NK_ERR_ACCESS;
    nk_err_set(err, ec,
               "AWS STS AssumeRoleWithWebIdentity: HTTP %ld %s: %.200s "
               "(request id %s)", r->status, code ? code : "error",
               msg ? msg : "", rid ? rid : r->request_id ? r->request_id : "-");
    free(code);
    free(msg);
    free(rid);
    return -1;
}

int nk_aws_sts_answer(const struct nk_http_resp *r, struct nk_aws_creds *out,
                      struct nk_err *err)
{
    const char *body = (const char *)r->body.data;
    char *ak, *sk, *st;
    int ret = 0;

    if (r->status != 200)
        return sts_error(r, err);
    ak = xml_get(body, "AccessKeyId");
    sk = xml_get(body, "SecretAccessKey");
    st = xml_get(body, "SessionToken");
    if (set(out, ak, sk, st, "web identity") != 0)
        ret = nk_err_set(err, NK_ERR_GENERIC, "AWS STS "
                         "AssumeRoleWithWebIdentity: no credentials in the "
                         "answer%s%.64s%s",
                         nk_http_type_is(r, "xml") ? "" : " (content type \"",
                         nk_http_type_is(r, "xml") ? "" : r->content_type,
                         nk_http_type_is(r, "xml") ? "" : "\", not XML)");
    free(ak);
    nk_strfreezero(sk);
    nk_strfreezero(st);
    return ret;
}

/* AssumeRoleWithWebIdentity with the token file's contents (re-read every
 * time: it rotates). The call is unsigned. */
static int web_identity(const struct nk_config *cfg, const char *region,
                        const struct nk_kms_net *net, const char *tok_file,
                        const char *role, struct nk_aws_creds *out,
                        struct nk_err *err)
{
    const char *sess = getenv("AWS_ROLE_SESSION_NAME");
    static const struct nk_http_header h[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/xml"}};
    struct nk_http_req req = {.method = "POST", .headers = h, .n_headers = 2};
    struct nk_http_resp resp = {0};
    struct nk_buf tok, form;
    char *base = NULL, *url = NULL;
    int ret = -1;

    nk_buf_init(&tok, 64 * 1024);
    nk_buf_init(&form, 128 * 1024);
    if (nk_buf_read_file(&tok, tok_file, err) != 0) {
        nk_err_prefix(err, "AWS_WEB_IDENTITY_TOKEN_FILE");
        goto out;
    }
    while (tok.len > 0 && (tok.data[tok.len - 1] == '\n' ||
                           tok.data[tok.len - 1] == '\r'))
        tok.data[--tok.len] = '\0';
    nk_kms_form_add(&form, "Action", "AssumeRoleWithWebIdentity", err);
    nk_kms_form_add(&form, "Version", "2011-06-15", err);
    nk_kms_form_add(&form, "RoleArn", role, err);
    nk_kms_form_add(&form, "RoleSessionName",
                    sess != NULL && sess[0] ? sess : "notation-keystore", err);
    nk_kms_form_add(&form, "WebIdentityToken", (const char *)tok.data,
                    err);
    if (err->code != NK_ERR_NONE)
        goto out;
    base = nk_aws_endpoint(cfg, "STS", "sts", region);
    url = nk_xasprintf("%s/", base);
    req.url = url;
    req.body = form.data;
    req.body_len = form.len;
    nk_kms_net_apply(net, &req);
    if (nk_http_do_retry(&req, NULL, "AWS STS AssumeRoleWithWebIdentity",
                         &resp, err) != 0)
        goto out;
    if (nk_aws_sts_answer(&resp, out, err) != 0)
        goto out;
    ret = 0;
out:
    free(base);
    free(url);
    nk_buf_release(&tok);
    nk_buf_release(&form);
    nk_http_resp_release(&resp);
    return ret;
}

/* GET/PUT against a metadata endpoint: never proxied, short timeouts. */
static int meta(const struct nk_kms_net *net, const char *method,
                const char *url, const struct nk_http_header *h, size_t nh,
                struct nk_http_resp *resp, struct nk_err *err)
{
    struct nk_http_req req = {.method = method, .url = url, .headers = h,
                              .n_headers = nh, .allow_http = 1,
                              .no_proxy = 1, .max_body = 64 * 1024,
                              .connect_timeout = 1.0};

    nk_kms_net_apply(net, &req);
    if (req.timeout > IMDS_TIMEOUT)
        req.timeout = IMDS_TIMEOUT;
    return nk_http_do(&req, "AWS instance metadata", resp, err);
}

/* Takes the credentials in o, then wipes and frees o and the body it came
 * from (cJSON does not wipe). */
static int from_obj(cJSON *o, const struct nk_http_resp *r,
                    const char *source, struct nk_aws_creds *out)
{
    cJSON *it;
    int ret = set(out, nk_kms_jstr(o, "AccessKeyId"),
                  nk_kms_jstr(o, "SecretAccessKey"), nk_kms_jstr(o, "Token"),
                  source);

    nk_memzero(r->body.data, r->body.len);
    cJSON_ArrayForEach(it, o)
        if (cJSON_IsString(it))
            nk_memzero(it->valuestring, strlen(it->valuestring));
    cJSON_Delete(o);
    return ret;
}

int nk_aws_json_creds(const struct nk_http_resp *r, const char *source,
                      struct nk_aws_creds *out)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);

    if (o == NULL)
        return -1;
    return from_obj(o, r, source, out);
}

static const char *imds_base(void)
{
    const char *v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");

    return v != NULL && v[0] != '\0' ? v : IMDS_DEFAULT;
}

static char *imds_url(const char *path)
{
    const char *b = imds_base();
    size_t n = strlen(b);

    while (n > 0 && b[n - 1] == '/')
        n--;
    return nk_xasprintf("%.*s%s", (int)n, b, path);
}

/* An IMDSv2 session token (PUT), malloc'd; NULL on any failure. */
static char *imds_token(const struct nk_kms_net *net, struct nk_err *err)
{
    static const struct nk_http_header h[] = {
        {"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    struct nk_http_resp r = {0};
    char *url = imds_url("/latest/api/token"), *tok = NULL;

    if (meta(net, "PUT", url, h, 1, &r, err) == 0 && r.status == 200 &&
        r.body.len > 0)
        tok = nk_xstrdup((const char *)r.body.data);
    else if (err->code == NK_ERR_NONE)
        nk_err_set(err, NK_ERR_ACCESS, "AWS instance metadata: token request "
                   "answered HTTP %ld", r.status);
    nk_http_resp_release(&r);
    free(url);
    return tok;
}

static int imds(const struct nk_kms_net *net, struct nk_aws_creds *out,
                struct nk_err *err)
{
    struct nk_http_resp r = {0};
    struct nk_http_header h[1] = {{"X-aws-ec2-metadata-token", NULL}};
    char *tok = imds_token(net, err), *url = NULL, *role = NULL;
    int ret = -1;

    if (tok == NULL)
        goto out;
    h[0].value = tok;
    url = imds_url("/latest/meta-data/iam/security-credentials/");
    if (meta(net, "GET", url, h, 1, &r, err) != 0)
        goto out;
    if (r.status != 200 || r.body.len == 0) {
        nk_err_set(err, NK_ERR_ACCESS, "AWS instance metadata: no IAM role "
                   "(HTTP %ld)", r.status);
        goto out;
    }
    role = nk_xstrndup((const char *)r.body.data,
                       strcspn((const char *)r.body.data, "\r\n"));
    nk_http_resp_release(&r);
    free(url);
    url = nk_xasprintf("%s%s", "/latest/meta-data/iam/security-credentials/",
                       role);
    {
        char *full = imds_url(url);

        free(url);
        url = full;
    }
    if (meta(net, "GET", url, h, 1, &r, err) != 0)
        goto out;
    if (r.status != 200 ||
        nk_aws_json_creds(&r, "instance metadata", out) != 0) {
        nk_err_set(err, NK_ERR_ACCESS, "AWS instance metadata: no "
                   "credentials for role \"%s\" (HTTP %ld)", role, r.status);
        goto out;
    }
    ret = 0;
out:
    nk_http_resp_release(&r);
    nk_strfreezero(tok);
    free(url);
    free(role);
    return ret;
}

char *nk_aws_imds_region(const struct nk_kms_net *net)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    struct nk_http_resp r = {0};
    struct nk_http_header h[1] = {{"X-aws-ec2-metadata-token", NULL}};
    char *tok, *url, *region = NULL;

    if (nk_aws_env_true("AWS_EC2_METADATA_DISABLED"))
        return NULL;
    tok = imds_token(net, &e);
    if (tok == NULL)
        return NULL;
    h[0].value = tok;
    url = imds_url("/latest/meta-data/placement/region");
    if (meta(net, "GET", url, h, 1, &r, &e) == 0 && r.status == 200 &&
        r.body.len > 0 && r.body.len < 64)
        region = nk_xstrdup((const char *)r.body.data);
    nk_http_resp_release(&r);
    nk_strfreezero(tok);
    free(url);
    return region;
}

int nk_aws_container_answer(const struct nk_http_resp *r,
                            struct nk_aws_creds *out, struct nk_err *err)
{
    enum nk_errcode ec;
    cJSON *o = NULL;

    if (r->status != 200) {
        ec = nk_kms_status_code(r->status);
        return nk_err_set(err, ec == NK_ERR_VALIDATION ? NK_ERR_ACCESS : ec,
                          "AWS container credentials: the endpoint answered "
                          "HTTP %ld", r->status);
    }
    /* A broken answer is the endpoint's fault (ERROR); a well-formed one
     * without keys means no access. */
    if (nk_kms_json(r, "AWS container credentials", &o, err) != 0)
        return -1;
    if (from_obj(o, r, "container", out) != 0)
        return nk_err_set(err, NK_ERR_ACCESS, "AWS container credentials: "
                          "HTTP %ld without credentials", r->status);
    return 0;
}

/* ECS/EKS container credentials endpoint. */
static int container(const struct nk_kms_net *net, struct nk_aws_creds *out,
                     struct nk_err *err)
{
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *auth = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *auth_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    struct nk_http_header h[1] = {{"Authorization", NULL}};
    struct nk_http_req req = {.method = "GET", .headers = h, .no_proxy = 1,
                              .max_body = 64 * 1024};
    struct nk_http_resp r = {0};
    struct nk_buf tok;
    char *url;
    int ret = -1;

    nk_buf_init(&tok, 16 * 1024);
    if (rel != NULL && rel[0] != '\0')
        url = nk_xasprintf("http://169.254.170.2%s", rel);
    else
        url = nk_xstrdup(full);
    /* The link-local container endpoints speak plain http by design. */
    req.allow_http = strncmp(url, "http://169.254.170.2/", 21) == 0 ||
                     strncmp(url, "http://169.254.170.23/", 22) == 0;
    req.url = url;
    if (auth_file != NULL && auth_file[0] != '\0') {
        if (nk_buf_read_file(&tok, auth_file, err) != 0)
            goto out;
        tok.len = strcspn((char *)tok.data, "\r\n");
        tok.data[tok.len] = '\0';
        auth = (const char *)tok.data;
    }
    if (auth != NULL && auth[0] != '\0') {
        h[0].value = auth;
        req.n_headers = 1;
    }
    nk_kms_net_apply(net, &req);
    /* Retried like the SDKs do: 5xx, throttling and broken connections,
     * within the deadline. */
    if (nk_http_do_retry(&req, NULL, "AWS container credentials", &r,
                         err) != 0)
        goto out;
    if (nk_aws_container_answer(&r, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&r);
    nk_buf_release(&tok);
    free(url);
    return ret;
}

/* Static keys or web identity settings of the profile. */
static int profile(const struct nk_config *cfg, const char *region,
                   const struct nk_kms_net *net, struct nk_aws_creds *out,
                   struct nk_err *err)
{
    const char *name = nk_aws_profile(cfg);
    char *ak = nk_aws_credentials_get(name, "aws_access_key_id");
    char *sk = nk_aws_credentials_get(name, "aws_secret_access_key");
    char *st = nk_aws_credentials_get(name, "aws_session_token");
    char *wf = NULL, *role = NULL;
    int ret = 1;

    if (ak == NULL || sk == NULL) {
        free(ak);
        nk_strfreezero(sk);
        nk_strfreezero(st);
        ak = nk_aws_config_get(name, "aws_access_key_id");
        sk = nk_aws_config_get(name, "aws_secret_access_key");
        st = nk_aws_config_get(name, "aws_session_token");
    }
    if (set(out, ak, sk, st, "shared credentials file") == 0) {
        ret = 0;
        goto out;
    }
    wf = nk_aws_config_get(name, "web_identity_token_file");
    role = nk_aws_config_get(name, "role_arn");
    if (wf != NULL && role != NULL)
        ret = web_identity(cfg, region, net, wf, role, out, err);
out:
    free(ak);
    nk_strfreezero(sk);
    nk_strfreezero(st);
    free(wf);
    free(role);
    return ret;
}

int nk_aws_creds_get(const struct nk_config *cfg, const char *region,
                     const struct nk_kms_net *net, struct nk_aws_creds *out,
                     struct nk_err *err)
{
    const char *wf = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role = getenv("AWS_ROLE_ARN");
    char why[200] = "";
    int r;

    memset(out, 0, sizeof(*out));
    if (set(out, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
            getenv("AWS_SESSION_TOKEN"), "environment") == 0)
        return 0;
    if (wf != NULL && wf[0] != '\0' && role != NULL && role[0] != '\0')
        return web_identity(cfg, region, net, wf, role, out, err);
    r = profile(cfg, region, net, out, err);
    if (r <= 0)
        return r;
    if (getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL ||
        getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL)
        return container(net, out, err);
    if (!nk_aws_env_true("AWS_EC2_METADATA_DISABLED")) {
        if (imds(net, out, err) == 0)
            return 0;
        /* Say why instance metadata gave nothing: it is the last hope. */
        snprintf(why, sizeof(why), " (%.150s)",
                 err->msg);
    }
    nk_err_clear(err);
    return nk_err_set(err, NK_ERR_ACCESS,
                      "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE and "
                      "AWS_ROLE_ARN, a profile (AWS_PROFILE \"%s\") in "
                      "~/.aws/credentials, or run where instance metadata "
                      "(IMDSv2) serves a role%s", nk_aws_profile(cfg), why);
}
