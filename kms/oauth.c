/* OAuth 2.0 token endpoint requests and answers (see oauth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "oauth.h"

#define OAUTH_MAX_BODY (256u * 1024)

void nk_oauth_token_release(struct nk_oauth_token *t)
{
    nk_strfreezero(t->access_token);
    t->access_token = NULL;
    t->expires = 0;
}

void nk_oauth_error_text(const struct nk_http_resp *resp, char *buf, size_t n)
{
    cJSON *o =
        cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const char *code = NULL, *desc = NULL;

    if (cJSON_IsString(e)) {
        code = e->valuestring;
        desc = nk_kms_jstr(o, "error_description");
    } else if (cJSON_IsObject(e)) {
        code = nk_kms_jstr(e, "status");
        desc = nk_kms_jstr(e, "message");
    }
    if (code != NULL || desc != NULL)
        snprintf(buf, n, "%.80s: %.240s%s%.80s%s", code ? code : "error",
                 desc ? desc : "-", resp->request_id ? " (request id " : "",
                 resp->request_id ? resp->request_id : "",
                 resp->request_id ? ")" : "");
    else
        snprintf(buf, n, "no error details%s%.80s%s",
                 resp->request_id ? " (request id " : "",
                 resp->request_id ? resp->request_id : "",
                 resp->request_id ? ")" : "");
    cJSON_Delete(o);
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    (void)arg;
    nk_oauth_error_text(r, buf, n);
}

/* expires_in as a number, or a decimal string (some endpoints). */
static double expires_in(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
    char *end = NULL;
    double d = -1;

    if (cJSON_IsNumber(v))
        d = v->valuedouble;
    else if (cJSON_IsString(v))
        d = strtod(v->valuestring, &end);
    if (cJSON_IsString(v) && (end == v->valuestring || *end != '\0'))
        d = -1;
    return d >= 0 && d < 1e7 ? d : -1;
}

int nk_oauth_parse(struct nk_http_resp *resp, const char *what,
                   struct nk_oauth_token *out, struct nk_err *err)
{
    cJSON *o = NULL;
    const char *tok;
    double in;
    int ret = -1;

    out->access_token = NULL;
    out->expires = 0;
    if (nk_kms_json(resp, what, &o, err) != 0)
        goto out;
    tok = nk_kms_jstr(o, "access_token");
    if (tok == NULL || tok[0] == '\0') {
        nk_err_set(err, NK_ERR_GENERIC,
                   "%s: no access_token in the answer "
                   "(HTTP %ld)",
                   what, resp->status);
        goto out;
    }
    in = expires_in(o);
    out->access_token = nk_xstrdup(tok);
    out->expires = (double)time(NULL) + (in > 0 ? in : 0);
    ret = 0;
out:
    nk_json_wipe(o);
    cJSON_Delete(o);
    nk_memzero(resp->body.data, resp->body.len);
    return ret;
}

int nk_oauth_post(const struct nk_kms_net *net, const char *url,
                  struct nk_buf *form, const struct nk_http_header *extra,
                  size_t n_extra, const char *what, struct nk_oauth_token *out,
                  struct nk_err *err)
{
    struct nk_http_header h[8];
    struct nk_http_req req = {
        .method = "POST", .url = url, .headers = h, .max_body = OAUTH_MAX_BODY};
    struct nk_http_retry pol = {.detail = detail};
    struct nk_http_resp resp = {0};
    char text[400];
    size_t i, n = 0;
    int ret = -1;

    out->access_token = NULL;
    h[n++] = (struct nk_http_header){"Content-Type",
                                     "application/x-www-form-urlencoded"};
    h[n++] = (struct nk_http_header){"Accept", "application/json"};
    for (i = 0; i < n_extra && n < sizeof(h) / sizeof(h[0]); i++)
        h[n++] = extra[i];
    req.n_headers = n;
    req.body = form->data;
    req.body_len = form->len;
    nk_kms_net_apply(net, &req);
    if (nk_http_do_retry(&req, &pol, what, &resp, err) != 0)
        goto out;
    if (resp.status != 200) {
        enum nk_errcode ec = nk_kms_status_code(resp.status);

        nk_oauth_error_text(&resp, text, sizeof(text));
        /* Any other 4xx means the credentials were not accepted. */
        if (resp.status >= 400 && resp.status < 500 && resp.status != 429)
            ec = NK_ERR_ACCESS;
        nk_err_set(err, ec, "%s: HTTP %ld %s", what, resp.status, text);
        goto out;
    }
    if (nk_oauth_parse(&resp, what, out, err) != 0)
        goto out;
    nk_debug("%s: token valid for %.0f s", what, out->expires - time(NULL));
    ret = 0;
out:
    nk_memzero(resp.body.data, resp.body.len);
    nk_http_resp_release(&resp);
    nk_memzero(form->data, form->len);
    return ret;
}
