/* The Microsoft Entra ID v2.0 token endpoint: client_credentials grants
 * with a secret or a client assertion, token answers, and Entra's error
 * answers ("AADSTS..." with a trace id) mapped to notation codes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure_auth.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"

#define ENTRA_MAX_BODY (256u * 1024)

char *nk_azure_token_url(const struct nk_azure_auth *a, const char *tenant,
                         struct nk_err *err)
{
    const char *host = getenv("AZURE_AUTHORITY_HOST");
    size_t i, n;

    for (i = 0; tenant[i] != '\0'; i++)
        if (!isalnum((unsigned char)tenant[i]) && tenant[i] != '-' &&
            tenant[i] != '.')
            break;
    if (i == 0 || tenant[i] != '\0' || i > 128) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "AZURE_TENANT_ID \"%.64s\" is not "
                   "a tenant id (a GUID or a domain name)",
                   tenant);
        return NULL;
    }
    if (host == NULL || host[0] == '\0')
        host = a->authority;
    n = strlen(host);
    while (n > 0 && host[n - 1] == '/')
        n--;
    return nk_xasprintf("%.*s/%s/oauth2/v2.0/token", (int)n, host, tenant);
}

/* Entra's error answer: "error", the first line of "error_description"
 * (which goes on with trace and correlation ids and a timestamp), and the
 * trace id. */
static void entra_error(const struct nk_http_resp *r, char *buf, size_t n)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const char *e = nk_kms_jstr(o, "error");
    const char *d = nk_kms_jstr(o, "error_description");
    const char *tr = nk_kms_jstr(o, "trace_id");

    if (e == NULL)
        snprintf(buf, n, "no error text (request id %s)",
                 r->request_id ? r->request_id : "-");
    else
        snprintf(buf, n, "%s: %.*s (trace id %s)", e,
                 d ? (int)strcspn(d, "\r\n") : 1, d ? d : "-",
                 tr              ? tr
                 : r->request_id ? r->request_id
                                 : "-");
    cJSON_Delete(o);
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    (void)arg;
    entra_error(r, buf, n);
}

/* A number or a string of digits. */
static int num_of(const cJSON *v, double *out)
{
    char *end = NULL;

    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return -1;
    *out = strtod(v->valuestring, &end);
    return *end == '\0' ? 0 : -1;
}

int nk_azure_token_json(const cJSON *o, const char *what,
                        struct nk_azure_token *t, struct nk_err *err)
{
    const char *tok = nk_kms_jstr(o, "access_token");
    double now = (double)time(NULL), v = 0;

    if (tok == NULL || tok[0] == '\0')
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no access_token in the "
                          "answer",
                          what);
    if (num_of(cJSON_GetObjectItemCaseSensitive(o, "expires_on"), &v) == 0 &&
        v > now)
        t->expires = v;
    else if (num_of(cJSON_GetObjectItemCaseSensitive(o, "expires_in"), &v) ==
                 0 &&
             v > 0)
        t->expires = now + v;
    else
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the answer says no "
                          "valid expiry (expires_on, expires_in)",
                          what);
    t->value = nk_xstrdup(tok);
    return 0;
}

int nk_azure_entra_post(const struct nk_azure_auth *a, const char *url,
                        const char *client, const char *secret,
                        const char *assertion, const char *what,
                        struct nk_azure_token *t, struct nk_err *err)
{
    static const struct nk_http_header h[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"}};
    struct nk_http_req req = {.method = "POST",
                              .url = url,
                              .headers = h,
                              .n_headers = 2,
                              .max_body = ENTRA_MAX_BODY};
    struct nk_http_retry pol = {.detail = detail};
    struct nk_http_resp resp = {0};
    char *scope = nk_xasprintf("%s/.default", a->resource), text[400];
    struct nk_buf form;
    cJSON *o = NULL;
    int ret = -1;

    nk_buf_init(&form, 64 * 1024);
    nk_kms_form_add(&form, "grant_type", "client_credentials", err);
    nk_kms_form_add(&form, "client_id", client, err);
    nk_kms_form_add(&form, "scope", scope, err);
    if (secret != NULL) {
        nk_kms_form_add(&form, "client_secret", secret, err);
    } else {
        nk_kms_form_add(&form, "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:"
                        "jwt-bearer",
                        err);
        nk_kms_form_add(&form, "client_assertion", assertion, err);
    }
    if (err->code != NK_ERR_NONE)
        goto out;
    req.body = form.data;
    req.body_len = form.len;
    nk_kms_net_apply(a->net, &req);
    if (nk_http_do_retry(&req, &pol, what, &resp, err) != 0)
        goto out;
    if (resp.status != 200) {
        enum nk_errcode ec = nk_kms_status_code(resp.status);

        entra_error(&resp, text, sizeof(text));
        /* A refused secret, assertion or client is a 400 or 401. */
        nk_err_set(err, ec == NK_ERR_VALIDATION ? NK_ERR_ACCESS : ec,
                   "%s: Microsoft Entra ID answered HTTP %ld: %s", what,
                   resp.status, text);
        goto out;
    }
    if (nk_kms_json(&resp, what, &o, err) != 0 ||
        nk_azure_token_json(o, what, t, err) != 0)
        goto out;
    ret = 0;
out:
    nk_json_wipe(o);
    cJSON_Delete(o);
    nk_http_resp_release(&resp);
    nk_buf_release(&form);
    free(scope);
    return ret;
}
