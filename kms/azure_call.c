/* Key Vault / Managed HSM requests and their errors:
 * {"error":{"code","message","innererror":{"code"}}} with the request id
 * of x-ms-request-id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure_call.h"
#include "common/log.h"
#include "common/mem.h"

#define KV_MAX_BODY (1024u * 1024)

int nk_azure_conn_init(struct nk_azure_conn *c, const char *key_id,
                       const struct nk_config *cfg, struct nk_err *err)
{
    memset(c, 0, sizeof(*c));
    if (nk_azure_id_parse(key_id, &c->id, err) != 0 ||
        nk_kms_net_init(&c->net, cfg, NULL, err) != 0)
        return -1;
    c->auth.cfg = cfg;
    c->auth.net = &c->net;
    c->auth.resource = c->id.resource;
    c->auth.authority = c->id.authority;
    return 0;
}

void nk_azure_conn_release(struct nk_azure_conn *c)
{
    nk_azure_id_release(&c->id);
    nk_kms_net_release(&c->net);
    nk_azure_token_release(&c->tok);
    memset(c, 0, sizeof(*c));
}

struct kv_fault {
    char code[96];    /* "Forbidden (ForbiddenByRbac)" */
    char msg[240];    /* the message's first line */
    char action[120]; /* RBAC's "Action: '...'" line, if any */
};

/* The message's first line, and the action an RBAC refusal names. */
static void parse_fault(const struct nk_http_resp *r, struct kv_fault *f)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const char *code = nk_kms_jstr(e, "code"), *m = nk_kms_jstr(e, "message");
    const char *inner =
        nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(e, "innererror"), "code");
    const char *act = m != NULL ? strstr(m, "Action: '") : NULL;

    memset(f, 0, sizeof(*f));
    snprintf(f->code, sizeof(f->code), "%s%s%s%s", code ? code : "error",
             inner ? " (" : "", inner ? inner : "", inner ? ")" : "");
    if (m != NULL)
        snprintf(f->msg, sizeof(f->msg), "%.*s", (int)strcspn(m, "\r\n"), m);
    if (act != NULL)
        snprintf(f->action, sizeof(f->action), "%.*s",
                 (int)strcspn(act + 9, "'\r\n"), act + 9);
    cJSON_Delete(o);
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    struct kv_fault f;

    (void)arg;
    parse_fault(r, &f);
    snprintf(buf, n, "%s: %s (request id %s)", f.code, f.msg[0] ? f.msg : "-",
             r->request_id ? r->request_id : "-");
}

static int fault(const struct nk_azure_conn *c, const struct nk_http_resp *r,
                 const char *what, const char *perm, struct nk_err *err)
{
    enum nk_errcode ec = nk_kms_status_code(r->status);
    const char *src = c->tok.source ? c->tok.source : "?";
    const char *rid = r->request_id ? r->request_id : "-";
    struct kv_fault f;

    parse_fault(r, &f);
    /* What to do comes first; the service's own words last, where the
     * message's length limit may cut them. */
    if (r->status == 403)
        return nk_err_set(err, ec,
                          "%s: HTTP 403 %s, request id %s: the "
                          "identity (%s) needs %s%s%s; Key Vault says: %s",
                          what, f.code, rid, src, perm, f.action[0] ? ": " : "",
                          f.action, f.msg);
    if (r->status == 401)
        return nk_err_set(err, ec,
                          "%s: HTTP 401 %s, request id %s: the "
                          "token from %s was refused (is the identity in "
                          "the vault's tenant?); Key Vault says: %s",
                          what, f.code, rid, src, f.msg);
    return nk_err_set(err, ec, "%s: %s: %s (HTTP %ld, request id %s)", what,
                      f.code, f.msg[0] ? f.msg : "-", r->status, rid);
}

static int send_once(struct nk_azure_conn *c, const char *method,
                     const char *url, const char *text, const char *what,
                     struct nk_http_resp *resp, struct nk_err *err)
{
    struct nk_http_header h[3];
    struct nk_http_req req = {
        .method = method, .url = url, .headers = h, .max_body = KV_MAX_BODY};
    struct nk_http_retry pol = {.detail = detail};
    char *auth = nk_xasprintf("Bearer %s", c->tok.value);
    size_t n = 0;
    int r;

    h[n++] = (struct nk_http_header){"Authorization", auth};
    h[n++] = (struct nk_http_header){"Accept", "application/json"};
    if (text != NULL) {
        h[n++] = (struct nk_http_header){"Content-Type", "application/json"};
        req.body = (const unsigned char *)text;
        req.body_len = strlen(text);
    }
    req.n_headers = n;
    nk_kms_net_apply(&c->net, &req);
    r = nk_http_do_retry(&req, &pol, what, resp, err);
    nk_strfreezero(auth);
    return r;
}

int nk_azure_call(struct nk_azure_conn *c, const char *method, const char *path,
                  const cJSON *body, const char *what, const char *perm,
                  cJSON **out, struct nk_err *err)
{
    struct nk_http_resp resp = {0};
    char *url =
        nk_xasprintf("%s%s?api-version=%s", c->id.base, path, NK_AZURE_API);
    char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
    int ret = -1;

    *out = NULL;
    if (c->tok.value == NULL && nk_azure_token_get(&c->auth, &c->tok, err) != 0)
        goto out;
    if (send_once(c, method, url, text, what, &resp, err) != 0)
        goto out;
    /* A cached token the service no longer takes (revoked, or the
     * identity's rights changed): once more with a new one. */
    if (resp.status == 401 && c->tok.from_cache) {
        nk_info("%s: HTTP 401 with the cached token: renewing", what);
        nk_http_resp_release(&resp);
        if (nk_azure_token_renew(&c->auth, &c->tok, err) != 0 ||
            send_once(c, method, url, text, what, &resp, err) != 0)
            goto out;
    }
    if (resp.status < 200 || resp.status > 299) {
        fault(c, &resp, what, perm, err);
        goto out;
    }
    if (nk_kms_json(&resp, what, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&resp);
    free(url);
    free(text);
    return ret;
}
