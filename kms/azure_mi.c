/* Managed identity tokens: the App Service family's local endpoint
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version 2019-08-01) and the
 * instance metadata service of VMs, scale sets and AKS nodes (GET with
 * "Metadata: true", api-version 2018-02-01). Both are plain http on a
 * local or link-local address and never go through a proxy. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure_auth.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define MI_MAX_BODY (64u * 1024)
#define MI_CONNECT 1.0 /* seconds: a VM's IMDS answers at once or not */

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int app_service(void)
{
    return env("IDENTITY_ENDPOINT") != NULL && env("IDENTITY_HEADER") != NULL;
}

static const char *imds_base(void)
{
    const char *v = env("AZURE_POD_IDENTITY_AUTHORITY_HOST");

    return v != NULL ? v : IMDS_DEFAULT;
}

int nk_azure_mi_where(char *where, size_t n)
{
    const char *id = env("AZURE_CLIENT_ID");

    return snprintf(where, n, "%s\n%s",
                    app_service() ? env("IDENTITY_ENDPOINT") : imds_base(),
                    id ? id : "");
}

/* <base><path>?api-version=..&resource=..[&client_id=..] */
static char *mi_url(const char *base, const char *path, const char *api,
                    const char *resource, struct nk_err *err)
{
    const char *id = env("AZURE_CLIENT_ID");
    size_t n = strlen(base);
    struct nk_buf q;
    char *url;

    while (path[0] != '\0' && n > 0 && base[n - 1] == '/')
        n--;
    nk_buf_init(&q, 16 * 1024);
    nk_kms_form_add(&q, "api-version", api, err);
    nk_kms_form_add(&q, "resource", resource, err);
    if (id != NULL)
        nk_kms_form_add(&q, "client_id", id, err);
    url = err->code == NK_ERR_NONE
              ? nk_xasprintf("%.*s%s%c%s", (int)n, base, path,
                             strchr(base, '?') != NULL ? '&' : '?',
                             (const char *)q.data)
              : NULL;
    nk_buf_release(&q);
    return url;
}

/* The endpoints are plain http by design; App Service's is on loopback
 * or a link-local address. */
static int link_local(const char *url)
{
    const char *h = strstr(url, "://");
    char host[64];
    unsigned char a[4];

    if (h == NULL)
        return 0;
    h += 3;
    snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, ":/?"), h);
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 169 && a[1] == 254;
}

/* 410 (IMDS updating), 429 and 5xx are worth another try. */
static int retryable(const struct nk_http_resp *r, void *arg)
{
    (void)arg;
    return r->status == 410 || r->status == 429;
}

/* "error: error_description" or App Service's "message". */
static void mi_error(const struct nk_http_resp *r, char *buf, size_t n)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const char *e = nk_kms_jstr(o, "error");
    const char *d = nk_kms_jstr(o, "error_description");
    const char *m = nk_kms_jstr(o, "message");

    if (e != NULL || d != NULL)
        snprintf(buf, n, "%.60s: %.*s", e ? e : "error",
                 d ? (int)strcspn(d, "\r\n") : 1, d ? d : "-");
    else
        snprintf(buf, n, "%.200s", m ? m : "no error text");
    cJSON_Delete(o);
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    (void)arg;
    mi_error(r, buf, n);
}

static int take(const struct nk_http_resp *r, const char *what,
                struct nk_azure_token *t, struct nk_err *err)
{
    cJSON *o = NULL;
    int ret = nk_kms_json(r, what, &o, err) == 0 &&
                      nk_azure_token_json(o, what, t, err) == 0
                  ? 0
                  : -1;

    nk_json_wipe(o);
    cJSON_Delete(o);
    return ret;
}

static int app_service_token(const struct nk_azure_auth *a,
                             struct nk_azure_token *t, struct nk_err *err)
{
    struct nk_http_header h[1] = {{"X-IDENTITY-HEADER", NULL}};
    struct nk_http_req req = {.method = "GET",
                              .headers = h,
                              .n_headers = 1,
                              .no_proxy = 1,
                              .max_body = MI_MAX_BODY};
    struct nk_http_retry pol = {.is_throttle = retryable, .detail = detail};
    struct nk_http_resp r = {0};
    const char *what = "App Service managed identity";
    char *url = mi_url(env("IDENTITY_ENDPOINT"), "", "2019-08-01", a->resource,
                       err),
         text[300];
    int ret = -1;

    if (url == NULL)
        return -1;
    h[0].value = env("IDENTITY_HEADER");
    req.url = url;
    req.allow_http = link_local(url);
    nk_kms_net_apply(a->net, &req);
    if (nk_http_do_retry(&req, &pol, what, &r, err) != 0)
        goto out;
    if (r.status != 200) {
        mi_error(&r, text, sizeof(text));
        nk_err_set(err, NK_ERR_ACCESS,
                   "%s: IDENTITY_ENDPOINT answered HTTP "
                   "%ld: %s",
                   what, r.status, text);
        goto out;
    }
    ret = take(&r, what, t, err);
out:
    nk_http_resp_release(&r);
    free(url);
    return ret;
}

/* The instance metadata service. Unreachable, or no identity assigned
 * (400), is "unavailable": the chain goes on to the Azure CLI. Where there
 * is no IMDS, retries only cost: a connection fault is not retried, while
 * an answer asking for another try (410, 429, 5xx) gets it, after the wait
 * its Retry-After asks for. */
static int imds_token(const struct nk_azure_auth *a, struct nk_azure_token *t,
                      char *why, size_t n, struct nk_err *err)
{
    static const struct nk_http_header h[] = {{"Metadata", "true"}};
    struct nk_http_req req = {.method = "GET",
                              .headers = h,
                              .n_headers = 1,
                              .allow_http = 1,
                              .no_proxy = 1,
                              .max_body = MI_MAX_BODY,
                              .connect_timeout = MI_CONNECT};
    struct nk_http_retry pol = {
        .is_throttle = retryable, .detail = detail, .faults_final = 1};
    struct nk_err probe = {NK_ERR_NONE, ""};
    struct nk_http_resp r = {0};
    const char *what = "Azure instance metadata (managed identity)";
    char *url = mi_url(imds_base(), "/metadata/identity/oauth2/token",
                       "2018-02-01", a->resource, err),
         text[300];
    int ret = -1;

    if (url == NULL)
        return -1;
    req.url = url;
    nk_kms_net_apply(a->net, &req);
    if (nk_http_do_retry(&req, &pol, what, &r, &probe) != 0) {
        /* It is there, and asked for another try until the attempts or
         * the time ran out: the service's fault, not a missing identity. */
        if (probe.code == NK_ERR_THROTTLED) {
            *err = probe;
            goto out;
        }
        snprintf(why, n, "no instance metadata service (%.200s)", probe.msg);
        ret = 1;
        goto out;
    }
    if (r.status != 200) {
        mi_error(&r, text, sizeof(text));
        snprintf(why, n,
                 "the instance metadata service gave no token "
                 "(HTTP %ld: %s)",
                 r.status, text);
        ret = 1;
        goto out;
    }
    ret = take(&r, what, t, err);
out:
    nk_http_resp_release(&r);
    free(url);
    return ret;
}

int nk_azure_mi_token(const struct nk_azure_auth *a, struct nk_azure_token *t,
                      char *why, size_t n, struct nk_err *err)
{
    if (app_service()) {
        t->source = "managed identity (App Service)";
        return app_service_token(a, t, err);
    }
    if (env("IDENTITY_ENDPOINT") != NULL && env("IMDS_ENDPOINT") != NULL) {
        snprintf(why, n,
                 "Azure Arc's managed identity endpoint is not "
                 "supported (use a service principal)");
        return 1;
    }
    t->source = "managed identity (instance metadata)";
    return imds_token(a, t, why, n, err);
}
