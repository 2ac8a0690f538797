/* Google REST requests and Google's error model (see gcp_call.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/mem.h"
#include "gcp_call.h"

#define GCP_MAX_BODY (1024u * 1024)

static const struct {
    const char *permission;
    const char *role;
} roles[] = {
    {"cloudkms.cryptoKeyVersions.useToSign",
     "roles/cloudkms.signer or roles/cloudkms.signerVerifier"},
    {"cloudkms.cryptoKeyVersions.viewPublicKey",
     "roles/cloudkms.publicKeyViewer or roles/cloudkms.signerVerifier"},
    {"cloudkms.cryptoKeyVersions.get", "roles/cloudkms.viewer"},
    {"iam.serviceAccounts.getAccessToken",
     "roles/iam.serviceAccountTokenCreator, or roles/iam.workloadIdentityUser "
     "for a federated identity"},
};

const char *nk_gcp_role_for(const char *permission)
{
    size_t i;

    for (i = 0; permission != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(permission, roles[i].permission) == 0)
            return roles[i].role;
    return NULL;
}

/* What Google's error answer says: status, message, the permission an
 * ErrorInfo names and a RequestInfo's request id. */
struct gerr {
    char status[40];
    char message[200];
    char permission[96];
    char rid[96];
};

static void parse_error(const struct nk_http_resp *r, struct gerr *g)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error"), *d;
    const char *v;

    memset(g, 0, sizeof(*g));
    v = nk_kms_jstr(e, "status");
    snprintf(g->status, sizeof(g->status), "%s", v ? v : "");
    v = nk_kms_jstr(e, "message");
    snprintf(g->message, sizeof(g->message), "%s", v ? v : "");
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(e, "details"))
    {
        const char *type = nk_kms_jstr(d, "@type");

        if (type == NULL)
            continue;
        if (strstr(type, "google.rpc.ErrorInfo") != NULL) {
            v = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(d, "metadata"),
                            "permission");
            if (v != NULL)
                snprintf(g->permission, sizeof(g->permission), "%s", v);
        } else if (strstr(type, "google.rpc.RequestInfo") != NULL) {
            v = nk_kms_jstr(d, "requestId");
            if (v != NULL)
                snprintf(g->rid, sizeof(g->rid), "%s", v);
        }
    }
    if (g->rid[0] == '\0' && r->request_id != NULL)
        snprintf(g->rid, sizeof(g->rid), "%s", r->request_id);
    cJSON_Delete(o);
}

/* "STATUS: message", or what the answer was when it is not Google's
 * error JSON (a proxy's or a load balancer's page). */
static void summary(const struct nk_http_resp *r, const struct gerr *g,
                    char *buf, size_t n)
{
    if (g->status[0] == '\0' && g->message[0] == '\0')
        snprintf(buf, n,
                 "an answer that is not Google's error JSON (%zu bytes)",
                 r->body.len);
    else
        snprintf(buf, n, "%s: %.200s", g->status[0] ? g->status : "error",
                 g->message[0] ? g->message : "-");
}

/* " (request id X)" when the answer named one, else "": into buf. */
static const char *rid_note(const struct gerr *g, char *buf, size_t n)
{
    buf[0] = '\0';
    if (g->rid[0] != '\0')
        snprintf(buf, n, " (request id %s)", g->rid);
    return buf;
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    struct gerr g;
    char sum[260], rid[sizeof(g.rid) + 16];

    (void)arg;
    parse_error(r, &g);
    summary(r, &g, sum, sizeof(sum));
    snprintf(buf, n, "%s%s", sum, rid_note(&g, rid, sizeof(rid)));
}

static int fail(struct nk_gcp_req *r, const struct nk_http_resp *resp,
                struct nk_err *err)
{
    enum nk_errcode ec = nk_kms_status_code(resp->status);
    const char *perm, *role;
    char need[300] = "", who[160] = "", sum[260];
    struct gerr g;
    char rid[sizeof(g.rid) + 16];

    parse_error(resp, &g);
    snprintf(r->gstatus, sizeof(r->gstatus), "%s", g.status);
    snprintf(r->gmessage, sizeof(r->gmessage), "%s", g.message);
    if (resp->status == 403) {
        perm = g.permission[0] ? g.permission : r->permission;
        role = nk_gcp_role_for(perm);
        if (perm != NULL)
            snprintf(need, sizeof(need), "; needs permission %s%s%s%s", perm,
                     role ? " (" : "", role ? role : "", role ? ")" : "");
    }
    if ((resp->status == 401 || resp->status == 403) && r->caller != NULL)
        snprintf(who, sizeof(who), "; credentials: %.140s", r->caller);
    summary(resp, &g, sum, sizeof(sum));
    return nk_err_set(err, ec, "%s: HTTP %ld %s%s%s%s", r->what, resp->status,
                      sum, need, who, rid_note(&g, rid, sizeof(rid)));
}

int nk_gcp_call(struct nk_gcp_req *r, cJSON **out, struct nk_err *err)
{
    struct nk_http_header h[5];
    struct nk_http_req req = {.method = r->method,
                              .url = r->url,
                              .headers = h,
                              .max_body = GCP_MAX_BODY};
    struct nk_http_retry pol = {.detail = detail};
    struct nk_http_resp resp = {0};
    char *auth = nk_xasprintf("Bearer %s", r->token), *text = NULL;
    size_t n = 0;
    int ret = -1;

    *out = NULL;
    r->status = 0;
    r->gstatus[0] = r->gmessage[0] = '\0';
    h[n++] = (struct nk_http_header){"Authorization", auth};
    h[n++] = (struct nk_http_header){"Accept", "application/json"};
    if (r->quota_project != NULL)
        h[n++] =
            (struct nk_http_header){"x-goog-user-project", r->quota_project};
    if (r->body != NULL) {
        h[n++] = (struct nk_http_header){"Content-Type", "application/json"};
        text = cJSON_PrintUnformatted(r->body);
        req.body = (const unsigned char *)text;
        req.body_len = strlen(text);
    }
    req.n_headers = n;
    nk_kms_net_apply(r->net, &req);
    if (nk_http_do_retry(&req, &pol, r->what, &resp, err) != 0)
        goto out;
    r->status = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        fail(r, &resp, err);
        goto out;
    }
    if (nk_kms_json(&resp, r->what, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&resp);
    nk_strfreezero(auth);
    free(text);
    return ret;
}
