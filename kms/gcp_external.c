/* Workload identity federation and service account impersonation (see
 * gcp_external.h): what Google's auth libraries do for "external_account"
 * files (AIP-4117) with file and URL subject tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "gcp_call.h"
#include "gcp_creds.h"
#include "gcp_external.h"

#define SUBJECT_MAX (64u * 1024) /* an OIDC token or SAML assertion */
#define STS_GRANT "urn:ietf:params:oauth:grant-type:token-exchange"
#define ACCESS_TOKEN_TYPE "urn:ietf:params:oauth:token-type:access_token"

double nk_gcp_parse_time(const char *s)
{
    struct tm tm;
    int n = 0, oh = 0, om = 0;
    const char *p;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z' && p[1] == '\0') {
        oh = om = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
               sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
    } else {
        return -1;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = timegm(&tm);
    return (double)t - oh * 3600.0 - om * 60.0;
}

const char *nk_gcp_impersonated_email(const char *url, char *buf, size_t n)
{
    const char *a = url != NULL ? strstr(url, "/serviceAccounts/") : NULL;
    const char *b = a != NULL ? strstr(a, ":generateAccessToken") : NULL;

    if (b == NULL)
        snprintf(buf, n, "?");
    else
        snprintf(buf, n, "%.*s", (int)(b - a - 17), a + 17);
    return buf;
}

/* Hex SHA-256 (32 digits) of s: names a secret in a cache identity
 * without holding it. */
static void digest_hex(const char *s, size_t len, char out[33])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    int i;

    SHA256((const unsigned char *)s, len, md);
    for (i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Hosts of link-local metadata services (Azure IMDS, AWS): plain http by
 * design and never through a proxy. */
static int link_local(const char *url)
{
    return strncmp(url, "http://169.254.169.254/", 23) == 0 ||
           strncmp(url, "http://[fd00:ec2::254]/", 23) == 0;
}

/* A header from the file may not smuggle in another (CR, LF) or be
 * malformed. */
static int header_ok(const char *name, const char *value)
{
    const unsigned char *p;

    if (name == NULL || name[0] == '\0')
        return 0;
    for (p = (const unsigned char *)name; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == ':')
            return 0;
    for (p = (const unsigned char *)value; *p != '\0'; p++)
        if ((*p < ' ' && *p != '\t') || *p == 0x7f)
            return 0;
    return 1;
}

static int url_body(const cJSON *src, const struct nk_kms_net *net,
                    struct nk_buf *out, struct nk_err *err)
{
    const char *url = nk_kms_jstr(src, "url");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(src, "headers"), *it;
    struct nk_http_header h[16];
    struct nk_http_req req = {
        .method = "GET", .url = url, .headers = h, .max_body = SUBJECT_MAX};
    struct nk_http_resp resp = {0};
    char shown[300];
    size_t n = 0;
    int ret = -1;

    cJSON_ArrayForEach(it, hs)
    {
        if (!cJSON_IsString(it) || !header_ok(it->string, it->valuestring) ||
            n == sizeof(h) / sizeof(h[0]))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "Google external account: credential_source."
                              "headers must be at most 16 well-formed "
                              "string headers");
        h[n++] = (struct nk_http_header){it->string, it->valuestring};
    }
    req.n_headers = n;
    req.allow_http = req.no_proxy = link_local(url);
    nk_kms_net_apply(net, &req);
    nk_http_url_loggable(url, shown, sizeof(shown));
    if (nk_http_do_retry(&req, NULL, "Google external account subject token",
                         &resp, err) != 0)
        goto out;
    if (resp.status != 200) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "Google external account: the "
                   "subject token URL \"%s\" answered HTTP %ld",
                   shown, resp.status);
        goto out;
    }
    if (nk_buf_append(out, resp.body.data, resp.body.len, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&resp);
    return ret;
}

/* The subject token in body, per credential_source.format. */
static char *take_subject(const cJSON *src, const struct nk_buf *body,
                          struct nk_err *err)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(src, "format");
    const char *type = nk_kms_jstr(fmt, "type");
    const char *field = nk_kms_jstr(fmt, "subject_token_field_name");
    const char *v;
    cJSON *o;
    char *tok = NULL;
    size_t n = body->len;

    if (type == NULL || strcmp(type, "text") == 0) {
        /* A file written by echo ends in a newline the token lacks. */
        while (n > 0 && strchr(" \t\r\n", body->data[n - 1]) != NULL)
            n--;
        if (n > 0)
            return nk_xstrndup((const char *)body->data, n);
        nk_err_set(err, NK_ERR_ACCESS,
                   "Google external account: the "
                   "subject token is empty");
        return NULL;
    }
    if (strcmp(type, "json") != 0 || field == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "Google external account: "
                   "credential_source.format must be {\"type\":\"text\"} or "
                   "{\"type\":\"json\",\"subject_token_field_name\":...}");
        return NULL;
    }
    o = cJSON_ParseWithLength((const char *)body->data, body->len);
    v = nk_kms_jstr(o, field);
    if (v != NULL && v[0] != '\0')
        tok = nk_xstrdup(v);
    else
        nk_err_set(err, NK_ERR_ACCESS,
                   "Google external account: no string "
                   "\"%.64s\" in the JSON subject token",
                   field);
    nk_json_wipe(o);
    cJSON_Delete(o);
    return tok;
}

/* Checks credential_source: a file or a url (file wins, as AIP-4117
 * says); the others are not supported here. */
static const cJSON *source_of(const cJSON *f, struct nk_err *err)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(f, "credential_source");

    if (cJSON_GetObjectItemCaseSensitive(src, "environment_id") != NULL ||
        cJSON_GetObjectItemCaseSensitive(src, "executable") != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "Google external account: "
                   "credential_source %s is not supported: use a file or a "
                   "url source (an OIDC or SAML token)",
                   cJSON_GetObjectItemCaseSensitive(src, "executable")
                       ? "executable"
                       : "environment_id (AWS)");
        return NULL;
    }
    if (nk_kms_jstr(src, "file") == NULL && nk_kms_jstr(src, "url") == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "Google external account: "
                   "credential_source needs a \"file\" or a \"url\"");
        return NULL;
    }
    return src;
}

/* The subject token (a secret, wipe with nk_strfreezero). */
static char *subject_token(const cJSON *f, const struct nk_kms_net *net,
                           struct nk_err *err)
{
    const cJSON *src = source_of(f, err);
    const char *file = nk_kms_jstr(src, "file");
    struct nk_buf b;
    char *tok = NULL;

    if (src == NULL)
        return NULL;
    nk_buf_init(&b, SUBJECT_MAX);
    if (file != NULL) {
        /* Read on every use: CI runners and Kubernetes rotate it. */
        if (nk_buf_read_file(&b, file, err) != 0) {
            err->code = NK_ERR_ACCESS;
            nk_err_prefix(err, "Google external account subject token");
            goto out;
        }
    } else if (net == NULL) {
        nk_err_set(err, NK_ERR_GENERIC, "no network for the subject token");
        goto out;
    } else if (url_body(src, net, &b, err) != 0) {
        goto out;
    }
    tok = take_subject(src, &b, err);
out:
    nk_buf_release(&b);
    return tok;
}

static int required(const cJSON *f, const char *field, const char **v,
                    struct nk_err *err)
{
    *v = nk_kms_jstr(f, field);
    if (*v != NULL && (*v)[0] != '\0')
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "Google external account file: no \"%s\"", field);
}

int nk_gcp_external_ident(const cJSON *f, char **ident, char *source, size_t n,
                          struct nk_err *err)
{
    const char *aud, *type, *turl,
        *imp = nk_kms_jstr(f, "service_account_"
                              "impersonation_url");
    const cJSON *src;
    char *proof = NULL, hex[33], email[200];
    int ret = -1;

    *ident = NULL;
    if (required(f, "audience", &aud, err) != 0 ||
        required(f, "subject_token_type", &type, err) != 0 ||
        required(f, "token_url", &turl, err) != 0)
        return -1;
    src = source_of(f, err);
    if (src == NULL)
        return -1;
    if (nk_kms_jstr(src, "file") != NULL) {
        proof = subject_token(f, NULL, err);
        if (proof == NULL)
            goto out;
    } else {
        proof = nk_json_print(src); /* url and headers */
    }
    digest_hex(proof, strlen(proof), hex);
    *ident = nk_xasprintf("gcp\nexternal_account\n%s\n%s\n%s\n%s\n%s", turl,
                          aud, imp ? imp : "", hex, NK_GCP_SCOPE);
    if (imp != NULL)
        snprintf(source, n,
                 "workload identity federation impersonating "
                 "%.100s",
                 nk_gcp_impersonated_email(imp, email, sizeof(email)));
    else
        snprintf(source, n, "workload identity federation (%.150s)", aud);
    ret = 0;
out:
    if (proof != NULL && nk_kms_jstr(src, "file") != NULL)
        nk_strfreezero(proof);
    else
        cJSON_free(proof);
    return ret;
}

static int sts(const cJSON *f, const char *subject,
               const struct nk_kms_net *net, struct nk_oauth_token *out,
               struct nk_err *err)
{
    const char *id = nk_kms_jstr(f, "client_id");
    const char *secret = nk_kms_jstr(f, "client_secret");
    const char *user_project = nk_kms_jstr(f, "workforce_pool_user_project");
    struct nk_http_header h[1];
    char *pair = NULL, *basic = NULL, *opts = NULL;
    struct nk_buf form;
    size_t nh = 0;
    int ret;

    nk_buf_init(&form, 256 * 1024);
    nk_kms_form_add(&form, "grant_type", STS_GRANT, err);
    nk_kms_form_add(&form, "audience", nk_kms_jstr(f, "audience"), err);
    nk_kms_form_add(&form, "scope", NK_GCP_SCOPE, err);
    nk_kms_form_add(&form, "requested_token_type", ACCESS_TOKEN_TYPE, err);
    nk_kms_form_add(&form, "subject_token", subject, err);
    nk_kms_form_add(&form, "subject_token_type",
                    nk_kms_jstr(f, "subject_token_type"), err);
    if (id != NULL && secret != NULL) {
        /* A workforce pool's OAuth client authenticates the exchange. */
        pair = nk_xasprintf("%s:%s", id, secret);
        opts = nk_b64_encode((const unsigned char *)pair, strlen(pair));
        basic = nk_xasprintf("Basic %s", opts);
        h[nh++] = (struct nk_http_header){"Authorization", basic};
    } else if (user_project != NULL) {
        opts = nk_xasprintf("{\"userProject\":\"%s\"}", user_project);
        nk_kms_form_add(&form, "options", opts, err);
    }
    ret = err->code != NK_ERR_NONE
              ? -1
              : nk_oauth_post(net, nk_kms_jstr(f, "token_url"), &form, h, nh,
                              "Google STS token exchange", out, err);
    nk_strfreezero(pair);
    nk_strfreezero(basic);
    nk_strfreezero(opts);
    nk_buf_release(&form);
    return ret;
}

/* service_account_impersonation.token_lifetime_seconds, else one hour. */
static long lifetime(const cJSON *f)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(f, "service_account_impersonation"),
        "token_lifetime_seconds");

    if (cJSON_IsNumber(v) && v->valuedouble >= 600 && v->valuedouble <= 43200)
        return (long)v->valuedouble;
    return 3600;
}

int nk_gcp_external_token(const cJSON *f, const struct nk_kms_net *net,
                          struct nk_oauth_token *out, struct nk_err *err)
{
    const char *imp = nk_kms_jstr(f, "service_account_impersonation_url");
    struct nk_oauth_token fed = {NULL, 0};
    struct nk_gcp_source src = {NULL, NULL, NULL};
    char *subject = subject_token(f, net, err), who[300];
    int ret = -1;

    out->access_token = NULL;
    if (subject == NULL || sts(f, subject, net, &fed, err) != 0)
        goto out;
    nk_debug("Google STS exchange succeeded");
    if (imp == NULL) {
        *out = fed;
        fed.access_token = NULL;
        ret = 0;
        goto out;
    }
    snprintf(who, sizeof(who), "the federated identity of %.200s",
             nk_kms_jstr(f, "audience"));
    src.token = fed.access_token;
    src.caller = who;
    ret = nk_gcp_impersonate(net, imp, lifetime(f), NULL, &src, out, err);
out:
    nk_strfreezero(subject);
    nk_oauth_token_release(&fed);
    return ret;
}

int nk_gcp_impersonate(const struct nk_kms_net *net, const char *url,
                       long lifetime_s, const cJSON *delegates,
                       const struct nk_gcp_source *src,
                       struct nk_oauth_token *out, struct nk_err *err)
{
    cJSON *body = cJSON_CreateObject(), *resp = NULL;
    char what[240], email[200], life[24];
    struct nk_gcp_req r;
    const char *tok;
    double exp;
    int ret = -1;

    out->access_token = NULL;
    snprintf(life, sizeof(life), "%lds", lifetime_s);
    cJSON_AddItemToObject(
        body, "scope",
        cJSON_CreateStringArray((const char *const[]){NK_GCP_SCOPE}, 1));
    nk_json_add_string(body, "lifetime", life);
    if (delegates != NULL)
        cJSON_AddItemToObject(body, "delegates", cJSON_Duplicate(delegates, 1));
    snprintf(what, sizeof(what), "Google IAM generateAccessToken for %.150s",
             nk_gcp_impersonated_email(url, email, sizeof(email)));
    memset(&r, 0, sizeof(r));
    r.net = net;
    r.method = "POST";
    r.url = url;
    r.token = src->token;
    r.quota_project = src->quota_project;
    r.body = body;
    r.what = what;
    r.permission = "iam.serviceAccounts.getAccessToken";
    r.caller = src->caller;
    if (nk_gcp_call(&r, &resp, err) != 0)
        goto out;
    tok = nk_kms_jstr(resp, "accessToken");
    if (tok == NULL || tok[0] == '\0') {
        nk_err_set(err, NK_ERR_GENERIC, "%s: no accessToken in the answer",
                   what);
        goto out;
    }
    exp = nk_gcp_parse_time(nk_kms_jstr(resp, "expireTime"));
    out->access_token = nk_xstrdup(tok);
    out->expires = exp > 0 ? exp : (double)time(NULL);
    ret = 0;
out:
    nk_json_wipe(resp);
    cJSON_Delete(resp);
    cJSON_Delete(body);
    return ret;
}
