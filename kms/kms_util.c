/* Shared KMS helpers: deadline, CA bundle, environment, JSON bodies and
 * the configured leaf certificate's public key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/certs.h"
#include "common/log.h"
#include "common/mem.h"
#include "kms_util.h"

int nk_kms_net_init(struct nk_kms_net *net, const struct nk_config *cfg,
                    const char *const *ca_envs, struct nk_err *err)
{
    const char *ca;

    memset(net, 0, sizeof(*net));
    if (nk_config_seconds(cfg, "timeout", NK_KMS_TIMEOUT, 600, &net->timeout,
                          err) != 0)
        return -1;
    net->deadline_ms = nk_log_now_ms() + net->timeout * 1000.0;
    ca = nk_config_str(cfg, "ca-bundle");
    if (ca == NULL && ca_envs != NULL)
        ca = nk_kms_getenv(ca_envs);
    if (ca != NULL)
        net->ca_bundle = nk_xstrdup(ca);
    return 0;
}

void nk_kms_net_release(struct nk_kms_net *net)
{
    free(net->ca_bundle);
    net->ca_bundle = NULL;
}

void nk_kms_net_restart(struct nk_kms_net *net)
{
    net->deadline_ms = nk_log_now_ms() + net->timeout * 1000.0;
}

double nk_kms_net_left(const struct nk_kms_net *net)
{
    double left = (net->deadline_ms - nk_log_now_ms()) / 1000.0;

    return left > 0.05 ? left : 0.05;
}

void nk_kms_net_apply(const struct nk_kms_net *net, struct nk_http_req *req)
{
    req->timeout = nk_kms_net_left(net);
    req->ca_bundle = net->ca_bundle;
}

void nk_kms_form_add(struct nk_buf *b, const char *k, const char *v,
                     struct nk_err *err)
{
    char esc[4];

    if (b->len > 0 && nk_buf_appendstr(b, "&", err) != 0)
        return;
    if (nk_buf_appendstr(b, k, err) != 0 || nk_buf_appendstr(b, "=", err))
        return;
    for (; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            if (nk_buf_append(b, v, 1, err) != 0)
                return;
        } else {
            snprintf(esc, sizeof(esc), "%%%02X", c);
            if (nk_buf_append(b, esc, 3, err) != 0)
                return;
        }
    }
}

char *nk_kms_read_secret(const char *path, const char *what, struct nk_err *err)
{
    struct nk_buf b;
    char *s;

    nk_buf_init(&b, 64 * 1024);
    if (nk_buf_read_file(&b, path, err) != 0) {
        nk_err_prefix(err, "%s", what);
        return NULL;
    }
    s = nk_xstrndup((const char *)b.data, strcspn((char *)b.data, "\r\n"));
    nk_buf_release(&b);
    return s;
}

const char *nk_kms_getenv(const char *const *names)
{
    const char *v;

    for (; *names != NULL; names++) {
        v = getenv(*names);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

int nk_kms_json(const struct nk_http_resp *resp, const char *what, cJSON **out,
                struct nk_err *err)
{
    *out = cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
    if (*out == NULL || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        /* The body decides (moto labels its JSON text/html); the label
         * only explains a body that is not JSON, e.g. a proxy's page. */
        if (!nk_http_type_is(resp, "json"))
            return nk_err_set(err, NK_ERR_GENERIC,
                              "%s: the answer (HTTP %ld) has content type "
                              "\"%.64s\" and is not JSON",
                              what, resp->status, resp->content_type);
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the answer (HTTP %ld%s%s) is not a JSON "
                          "object",
                          what, resp->status,
                          resp->request_id ? ", request id " : "",
                          resp->request_id ? resp->request_id : "");
    }
    return 0;
}

const char *nk_kms_jstr(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

EVP_PKEY *nk_kms_leaf_pub(const struct nk_config *cfg)
{
    const char *key = "certificate-chain", *path;
    STACK_OF(X509) *sk = NULL;
    struct nk_err e = {NK_ERR_NONE, ""};
    EVP_PKEY *pub = NULL;

    path = nk_config_str(cfg, key);
    if (path == NULL) {
        key = "certificate";
        path = nk_config_str(cfg, key);
    }
    if (path == NULL || nk_certs_load_file(path, key, &sk, &e) != 0)
        return NULL;
    if (sk_X509_num(sk) > 0)
        pub = X509_get_pubkey(sk_X509_value(sk, 0));
    sk_X509_pop_free(sk, X509_free);
    return pub;
}

enum nk_errcode nk_kms_status_code(long status)
{
    switch (status) {
    case 401:
    case 403:
        return NK_ERR_ACCESS;
    case 400:
    case 404:
    case 405:
    case 409:
    case 422:
        return NK_ERR_VALIDATION;
    case 429:
        return NK_ERR_THROTTLED;
    case 408:
    case 504:
        return NK_ERR_TIMEOUT;
    default:
        return NK_ERR_GENERIC;
    }
}

int nk_kms_credential_report(const char *source, int used, char *buf, size_t n)
{
    if (source == NULL || source[0] == '\0')
        return -1;
    snprintf(buf, n, "%s", source);
    return used;
}
