/* Container and instance metadata credentials (IMDSv2), and the region
 * from instance metadata. Secrets are wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws_config.h"
#include "aws_meta.h"
#include "common/buf.h"
#include "common/mem.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TIMEOUT 2.0

/* GET/PUT against a metadata endpoint: never proxied, short timeouts. */
static int meta(const struct nk_kms_net *net, const char *method,
                const char *url, const struct nk_http_header *h, size_t nh,
                struct nk_http_resp *resp, struct nk_err *err)
{
    struct nk_http_req req = {.method = method,
                              .url = url,
                              .headers = h,
                              .n_headers = nh,
                              .allow_http = 1,
                              .no_proxy = 1,
                              .max_body = 64 * 1024,
                              .connect_timeout = 1.0};

    nk_kms_net_apply(net, &req);
    if (req.timeout > IMDS_TIMEOUT)
        req.timeout = IMDS_TIMEOUT;
    return nk_http_do(&req, "AWS instance metadata", resp, err);
}

/* Takes the credentials in o, then wipes and frees o and the body it came
 * from (cJSON does not wipe). */
static int from_obj(cJSON *o, const struct nk_http_resp *r,
                    struct nk_aws_creds *out)
{
    const char *exp = nk_kms_jstr(o, "Expiration");
    long long t = 0;
    cJSON *it;
    int ret;

    if (exp != NULL && nk_aws_parse_time(exp, &t) != 0)
        t = 0;
    ret = nk_aws_creds_set(out, nk_kms_jstr(o, "AccessKeyId"),
                           nk_kms_jstr(o, "SecretAccessKey"),
                           nk_kms_jstr(o, "Token"), t);
    nk_memzero(r->body.data, r->body.len);
    cJSON_ArrayForEach(it, o) if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
    cJSON_Delete(o);
    return ret;
}

static int from_json(const struct nk_http_resp *r, struct nk_aws_creds *out)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);

    if (o == NULL)
        return -1;
    return from_obj(o, r, out);
}

int nk_aws_json_creds(const struct nk_http_resp *r, const char *source,
                      struct nk_aws_creds *out)
{
    (void)source; /* the caller names the source in out->source */
    return from_json(r, out);
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
                          "HTTP %ld",
                          r->status);
    }
    /* A broken answer is the endpoint's fault (ERROR); a well-formed one
     * without keys means no access. */
    if (nk_kms_json(r, "AWS container credentials", &o, err) != 0)
        return -1;
    if (from_obj(o, r, out) != 0)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "AWS container credentials: "
                          "HTTP %ld without credentials",
                          r->status);
    return 0;
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
        nk_err_set(err, NK_ERR_ACCESS,
                   "AWS instance metadata: token request "
                   "answered HTTP %ld",
                   r.status);
    nk_http_resp_release(&r);
    free(url);
    return tok;
}

int nk_aws_imds_creds(const struct nk_kms_net *net, struct nk_aws_creds *out,
                      struct nk_err *err)
{
    static const char creds_path[] =
        "/latest/meta-data/iam/security-credentials/";
    struct nk_http_resp r = {0};
    struct nk_http_header h[1] = {{"X-aws-ec2-metadata-token", NULL}};
    char *tok = imds_token(net, err), *url = NULL, *role = NULL, *path;
    int ret = -1;

    if (tok == NULL)
        goto out;
    h[0].value = tok;
    url = imds_url(creds_path);
    if (meta(net, "GET", url, h, 1, &r, err) != 0)
        goto out;
    if (r.status != 200 || r.body.len == 0) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "AWS instance metadata: no IAM role "
                   "(HTTP %ld)",
                   r.status);
        goto out;
    }
    role = nk_xstrndup((const char *)r.body.data,
                       strcspn((const char *)r.body.data, "\r\n"));
    nk_http_resp_release(&r);
    free(url);
    path = nk_xasprintf("%s%s", creds_path, role);
    url = imds_url(path);
    free(path);
    if (meta(net, "GET", url, h, 1, &r, err) != 0)
        goto out;
    if (r.status != 200 || from_json(&r, out) != 0) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "AWS instance metadata: no "
                   "credentials for role \"%s\" (HTTP %ld)",
                   role, r.status);
        goto out;
    }
    snprintf(out->source, sizeof(out->source),
             "instance metadata (IMDSv2, role \"%.100s\")", role);
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

int nk_aws_container_configured(void)
{
    return getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL ||
           getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL;
}

/* The container endpoint's URL, and whether plain http may be used. */
static char *container_url(int *allow_http)
{
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char *url;

    if (rel != NULL && rel[0] != '\0')
        url = nk_xasprintf("http://169.254.170.2%s", rel);
    else
        url = nk_xstrdup(full != NULL ? full : "");
    /* The link-local container endpoints speak plain http by design. */
    *allow_http = strncmp(url, "http://169.254.170.2/", 21) == 0 ||
                  strncmp(url, "http://169.254.170.23/", 22) == 0;
    return url;
}

int nk_aws_container_creds(const struct nk_kms_net *net,
                           struct nk_aws_creds *out, struct nk_err *err)
{
    const char *auth = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *auth_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    struct nk_http_header h[1] = {{"Authorization", NULL}};
    struct nk_http_req req = {
        .method = "GET", .headers = h, .no_proxy = 1, .max_body = 64 * 1024};
    struct nk_http_resp r = {0};
    struct nk_buf tok;
    char *url = container_url(&req.allow_http);
    int ret = -1;

    nk_buf_init(&tok, 16 * 1024);
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
    if (nk_http_do_retry(&req, NULL, "AWS container credentials", &r, err) != 0)
        goto out;
    if (nk_aws_container_answer(&r, out, err) != 0)
        goto out;
    snprintf(out->source, sizeof(out->source), "container credentials");
    ret = 0;
out:
    nk_http_resp_release(&r);
    nk_buf_release(&tok);
    free(url);
    return ret;
}
