/* Application Default Credentials for Google Cloud KMS (see gcp_creds.h):
 * the credentials file and its types, the metadata server, and the token
 * cache in front of them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/sha.h>

#include "common/buf.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "gcp_creds.h"
#include "gcp_external.h"
#include "jwt.h"
#include "oauth.h"
#include "token_cache.h"

#define TOKEN_MARGIN 300.0         /* seconds a cached token must outlive */
#define CRED_FILE_MAX (64u * 1024) /* a key file is about 2.4 KiB */
#define META_DEFAULT "169.254.169.254"
#define META_PATH "/computeMetadata/v1/instance/service-accounts/default/token"
#define META_TIMEOUT 5.0
#define OAUTH_DEFAULT "https://oauth2.googleapis.com/token"
#define JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define ADC_NAME "application_default_credentials.json"

/* The credentials file and where it was found. */
struct adc {
    cJSON *json; /* holds secrets: wiped on release */
    char *path;
    const char *from;
};

static void adc_release(struct adc *a)
{
    nk_json_wipe(a->json);
    cJSON_Delete(a->json);
    free(a->path);
    memset(a, 0, sizeof(*a));
}

/* Where ADC looks: 0 with a->path set, 1 when there is no file (the
 * metadata server is next). */
static int adc_path(struct adc *a)
{
    const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    const char *dir = getenv("CLOUDSDK_CONFIG"), *home = getenv("HOME");
    struct stat st;

    if (env != NULL && env[0] != '\0') {
        a->path = nk_xstrdup(env);
        a->from = "GOOGLE_APPLICATION_CREDENTIALS";
        return 0;
    }
    if (dir != NULL && dir[0] != '\0')
        a->path = nk_xasprintf("%s/%s", dir, ADC_NAME);
    else if (home != NULL && home[0] != '\0')
        a->path = nk_xasprintf("%s/.config/gcloud/%s", home, ADC_NAME);
    else
        return 1;
    a->from = "gcloud's application default credentials";
    /* A missing gcloud file is normal; anything else there is read and
     * reported. */
    if (stat(a->path, &st) != 0 && errno == ENOENT) {
        free(a->path);
        a->path = NULL;
        return 1;
    }
    return 0;
}

/* -1 error, 0 loaded, 1 no file. */
static int adc_load(struct adc *a, struct nk_err *err)
{
    struct nk_buf b;
    int r = adc_path(a);

    if (r != 0)
        return r;
    nk_buf_init(&b, CRED_FILE_MAX);
    if (nk_buf_read_file(&b, a->path, err) != 0) {
        err->code = NK_ERR_VALIDATION;
        nk_err_prefix(err, "Google credentials file (%s)", a->from);
        nk_buf_release(&b);
        return -1;
    }
    a->json = cJSON_ParseWithLength((const char *)b.data, b.len);
    nk_buf_release(&b);
    if (!cJSON_IsObject(a->json))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "Google credentials file \"%.200s\" (%s) is not "
                          "a JSON object",
                          a->path, a->from);
    nk_debug("Google credentials file from %s", a->from);
    return 0;
}

static const char *need(const cJSON *f, const char *field, const char *type,
                        struct nk_err *err)
{
    const char *v = nk_kms_jstr(f, field);

    if (v != NULL && v[0] != '\0')
        return v;
    nk_err_set(err, NK_ERR_VALIDATION,
               "Google credentials of type %s: no \"%s\"", type, field);
    return NULL;
}

static void digest_hex(const char *s, char out[33])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    int i;

    SHA256((const unsigned char *)s, strlen(s), md);
    for (i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char *or_default(const char *v, const char *def)
{
    return v != NULL && v[0] != '\0' ? v : def;
}

/* ---- service_account: a JWT-bearer grant signed with the key ---- */

static char *sa_assertion(const cJSON *f, const char *aud, struct nk_err *err)
{
    const char *kid = nk_kms_jstr(f, "private_key_id");
    cJSON *h = cJSON_CreateObject(), *c = cJSON_CreateObject();
    EVP_PKEY *key = NULL;
    char *jwt = NULL;
    double now = (double)time(NULL);

    if (nk_jwt_key_from_pem(nk_kms_jstr(f, "private_key"),
                            "Google service account private_key", &key,
                            err) != 0)
        goto out;
    if (kid != NULL)
        nk_json_add_string(h, "kid", kid);
    nk_json_add_string(c, "iss", nk_kms_jstr(f, "client_email"));
    nk_json_add_string(c, "scope", NK_GCP_SCOPE);
    nk_json_add_string(c, "aud", aud);
    cJSON_AddNumberToObject(c, "iat", now);
    /* Google takes assertions valid for an hour at most. */
    cJSON_AddNumberToObject(c, "exp", now + 3600);
    if (nk_jwt_sign(h, c, key, NK_JWT_RS256, &jwt, err) != 0)
        jwt = NULL;
out:
    EVP_PKEY_free(key);
    cJSON_Delete(h);
    cJSON_Delete(c);
    return jwt;
}

static int sa_fetch(const cJSON *f, const struct nk_kms_net *net,
                    struct nk_oauth_token *out, struct nk_err *err)
{
    const char *uri = or_default(nk_kms_jstr(f, "token_uri"), OAUTH_DEFAULT);
    char *jwt = sa_assertion(f, uri, err);
    struct nk_buf form;
    int r;

    if (jwt == NULL)
        return -1;
    nk_buf_init(&form, 64 * 1024);
    nk_kms_form_add(&form, "grant_type", JWT_BEARER, err);
    nk_kms_form_add(&form, "assertion", jwt, err);
    r = err->code != NK_ERR_NONE
            ? -1
            : nk_oauth_post(net, uri, &form, NULL, 0,
                            "Google OAuth token (service account JWT-bearer "
                            "grant)",
                            out, err);
    nk_strfreezero(jwt);
    nk_buf_release(&form);
    return r;
}

/* ---- authorized_user: gcloud's user login, a refresh token ---- */

static int user_fetch(const cJSON *f, const struct nk_kms_net *net,
                      struct nk_oauth_token *out, struct nk_err *err)
{
    struct nk_buf form;
    int r;

    nk_buf_init(&form, 64 * 1024);
    nk_kms_form_add(&form, "grant_type", "refresh_token", err);
    nk_kms_form_add(&form, "client_id", nk_kms_jstr(f, "client_id"), err);
    nk_kms_form_add(&form, "client_secret", nk_kms_jstr(f, "client_secret"),
                    err);
    nk_kms_form_add(&form, "refresh_token", nk_kms_jstr(f, "refresh_token"),
                    err);
    r = err->code != NK_ERR_NONE
            ? -1
            : nk_oauth_post(
                  net, or_default(nk_kms_jstr(f, "token_uri"), OAUTH_DEFAULT),
                  &form, NULL, 0, "Google OAuth token (user refresh token)",
                  out, err);
    nk_buf_release(&form);
    return r;
}

/* ---- the file's type: what identifies the token, and how to get it ---- */

static int plan(const cJSON *f, const char *from, int nested, char **ident,
                char *source, size_t n, struct nk_err *err);

static int plan_impersonated(const cJSON *f, const char *from, char **ident,
                             char *source, size_t n, struct nk_err *err)
{
    const char *type = "impersonated_service_account";
    const char *url = need(f, "service_account_impersonation_url", type, err);
    const cJSON *src =
        cJSON_GetObjectItemCaseSensitive(f, "source_credentials");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(f, "delegates");
    char *sident = NULL, *dls, email[200], ssrc[200];

    if (url == NULL)
        return -1;
    if (plan(src, from, 1, &sident, ssrc, sizeof(ssrc), err) != 0)
        return nk_err_prefix(err, "source_credentials");
    dls = dl != NULL ? nk_json_print(dl) : NULL;
    *ident = nk_xasprintf("gcp\nimpersonated\n%s\n%s\n%s", url,
                          dls != NULL ? dls : "[]", sident);
    snprintf(source, n, "service account %.90s impersonated by %.110s",
             nk_gcp_impersonated_email(url, email, sizeof(email)), ssrc);
    cJSON_free(dls);
    free(sident);
    return 0;
}

static int plan(const cJSON *f, const char *from, int nested, char **ident,
                char *source, size_t n, struct nk_err *err)
{
    const char *type = nk_kms_jstr(f, "type"), *email, *id, *rt;
    char hex[33];

    *ident = NULL;
    if (type != NULL && strcmp(type, "service_account") == 0) {
        email = need(f, "client_email", type, err);
        if (email == NULL || need(f, "private_key", type, err) == NULL)
            return -1;
        *ident = nk_xasprintf(
            "gcp\nservice_account\n%s\n%s\n%s\n%s",
            or_default(nk_kms_jstr(f, "token_uri"), OAUTH_DEFAULT), email,
            or_default(nk_kms_jstr(f, "private_key_id"), ""), NK_GCP_SCOPE);
        snprintf(source, n, "service account %.100s (%s)", email, from);
        return 0;
    }
    if (type != NULL && strcmp(type, "authorized_user") == 0) {
        id = need(f, "client_id", type, err);
        rt = need(f, "refresh_token", type, err);
        if (id == NULL || rt == NULL ||
            need(f, "client_secret", type, err) == NULL)
            return -1;
        /* A new login brings a new refresh token, and a new entry. */
        digest_hex(rt, hex);
        *ident =
            nk_xasprintf("gcp\nauthorized_user\n%s\n%s\n%s\n%s",
                         or_default(nk_kms_jstr(f, "token_uri"), OAUTH_DEFAULT),
                         id, hex, NK_GCP_SCOPE);
        snprintf(source, n, "gcloud user credentials (%s)", from);
        return 0;
    }
    if (type != NULL && strcmp(type, "external_account") == 0) {
        if (nk_gcp_external_ident(f, ident, source, n, err) != 0)
            return -1;
        snprintf(source + strlen(source), n - strlen(source), " (%s)", from);
        return 0;
    }
    if (type != NULL && strcmp(type, "impersonated_service_account") == 0 &&
        !nested)
        return plan_impersonated(f, from, ident, source, n, err);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "Google credentials (%s) of type \"%.40s\" are not "
                      "supported: use service_account, authorized_user, "
                      "external_account or impersonated_service_account",
                      from, type ? type : "?");
}

int nk_gcp_adc_plan(const cJSON *f, const char *from, char **ident,
                    char *source, size_t n, struct nk_err *err)
{
    return plan(f, from, 0, ident, source, n, err);
}

static int fetch(const cJSON *f, const char *from, const struct nk_kms_net *net,
                 struct nk_oauth_token *out, struct nk_err *err)
{
    const char *type = nk_kms_jstr(f, "type");
    const cJSON *src;
    struct nk_oauth_token st = {NULL, 0};
    struct nk_gcp_source is = {NULL, NULL, NULL};
    char *sident = NULL, ssrc[200];
    int r;

    if (strcmp(type, "service_account") == 0)
        return sa_fetch(f, net, out, err);
    if (strcmp(type, "authorized_user") == 0)
        return user_fetch(f, net, out, err);
    if (strcmp(type, "external_account") == 0)
        return nk_gcp_external_token(f, net, out, err);
    /* impersonated_service_account (plan() allowed nothing else) */
    src = cJSON_GetObjectItemCaseSensitive(f, "source_credentials");
    if (plan(src, from, 1, &sident, ssrc, sizeof(ssrc), err) != 0 ||
        fetch(src, from, net, &st, err) != 0) {
        free(sident);
        return -1;
    }
    is.token = st.access_token;
    is.caller = ssrc;
    /* The IAM call is made as the source, with the source's quota project
     * (gcloud writes it there, or beside it). */
    is.quota_project = nk_kms_jstr(src, "quota_project_id");
    if (is.quota_project == NULL)
        is.quota_project = nk_kms_jstr(f, "quota_project_id");
    r = nk_gcp_impersonate(
        net, nk_kms_jstr(f, "service_account_impersonation_url"), 3600,
        cJSON_GetObjectItemCaseSensitive(f, "delegates"), &is, out, err);
    free(sident);
    nk_oauth_token_release(&st);
    return r;
}

/* ---- the metadata server (Compute Engine, GKE, Cloud Run ...) ---- */

/* "http://<GCE_METADATA_HOST or 169.254.169.254>"; the variable holds a
 * host[:port], as Google's libraries read it. */
static char *meta_base(struct nk_err *err)
{
    const char *h = getenv("GCE_METADATA_HOST");
    size_t i;

    if (h == NULL || h[0] == '\0')
        h = META_DEFAULT;
    for (i = 0; h[i] != '\0'; i++)
        if (!(h[i] >= 'a' && h[i] <= 'z') && !(h[i] >= 'A' && h[i] <= 'Z') &&
            !(h[i] >= '0' && h[i] <= '9') && strchr(".-:[]", h[i]) == NULL) {
            nk_err_set(err, NK_ERR_VALIDATION,
                       "GCE_METADATA_HOST must be "
                       "a host[:port], not \"%.100s\"",
                       h);
            return NULL;
        }
    return nk_xasprintf("http://%s", h);
}

static int meta_fetch(const struct nk_kms_net *net, const char *base,
                      struct nk_oauth_token *out, struct nk_err *err)
{
    static const struct nk_http_header h[] = {{"Metadata-Flavor", "Google"}};
    char *url = nk_xasprintf("%s%s", base, META_PATH);
    struct nk_http_req req = {.method = "GET",
                              .url = url,
                              .headers = h,
                              .n_headers = 1,
                              .allow_http = 1,
                              .no_proxy = 1,
                              .max_body = 64 * 1024,
                              .connect_timeout = 1.0};
    struct nk_http_resp resp = {0};
    int ret = -1;

    nk_kms_net_apply(net, &req);
    if (req.timeout > META_TIMEOUT)
        req.timeout = META_TIMEOUT;
    if (nk_http_do_retry(&req, NULL, "Google metadata server", &resp, err) != 0)
        goto out;
    if (resp.status != 200) {
        nk_err_set(err, NK_ERR_ACCESS, "HTTP %ld (no service account?)",
                   resp.status);
        goto out;
    }
    if (nk_oauth_parse(&resp, "Google metadata server", out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&resp);
    free(url);
    return ret;
}

static int no_credentials(const char *base, struct nk_err *err)
{
    char why[220];

    snprintf(why, sizeof(why), "%.200s", err->msg);
    nk_err_clear(err);
    return nk_err_set(err, NK_ERR_ACCESS,
                      "no Google credentials found: set "
                      "GOOGLE_APPLICATION_CREDENTIALS to a service account "
                      "key or workload identity federation file, run "
                      "\"gcloud auth application-default login\", or run "
                      "where the metadata server serves a service account "
                      "(%s: %s)",
                      base, why);
}

/* ---- the chain and the cache ---- */

static void forget(struct nk_gcp_creds *c)
{
    nk_strfreezero(c->token);
    free(c->ident);
    free(c->quota_project);
    c->token = c->ident = c->quota_project = NULL;
    c->from_cache = 0;
}

int nk_gcp_creds_get(struct nk_gcp_creds *c, const struct nk_config *cfg,
                     const struct nk_kms_net *net, struct nk_err *err)
{
    struct adc a = {NULL, NULL, NULL};
    struct nk_oauth_token t = {NULL, 0};
    int cache = nk_token_cache_enabled(cfg), r, ret = -1;
    char *base = NULL;

    forget(c);
    r = adc_load(&a, err);
    if (r < 0)
        goto out;
    if (r == 0) {
        if (nk_gcp_adc_plan(a.json, a.from, &c->ident, c->source,
                            sizeof(c->source), err) != 0)
            goto out;
        if (nk_kms_jstr(a.json, "quota_project_id") != NULL)
            c->quota_project =
                nk_xstrdup(nk_kms_jstr(a.json, "quota_project_id"));
    } else {
        base = meta_base(err);
        if (base == NULL)
            goto out;
        c->ident = nk_xasprintf("gcp\nmetadata\n%s\n%s", base, NK_GCP_SCOPE);
        snprintf(c->source, sizeof(c->source),
                 "the metadata server's service account (%s)", base);
    }
    if (cache && nk_token_cache_get(c->ident, TOKEN_MARGIN, &c->token,
                                    &c->expires) == 0) {
        c->from_cache = 1;
        ret = 0;
        goto out;
    }
    if (r == 0 ? fetch(a.json, a.from, net, &t, err) != 0
               : meta_fetch(net, base, &t, err) != 0) {
        if (r != 0)
            no_credentials(base, err);
        goto out;
    }
    c->token = t.access_token;
    c->expires = t.expires;
    t.access_token = NULL;
    nk_info("Google access token from %s", c->source);
    if (cache && c->expires > (double)time(NULL) + TOKEN_MARGIN)
        nk_token_cache_put(c->ident, c->token, c->expires);
    ret = 0;
out:
    if (ret != 0)
        forget(c);
    nk_oauth_token_release(&t);
    adc_release(&a);
    free(base);
    return ret;
}

int nk_gcp_creds_refused(struct nk_gcp_creds *c)
{
    int was_cached = c->from_cache;

    if (c->ident != NULL)
        nk_token_cache_drop(c->ident);
    nk_strfreezero(c->token);
    c->token = NULL;
    c->from_cache = 0;
    return was_cached;
}

void nk_gcp_creds_release(struct nk_gcp_creds *c)
{
    forget(c);
    memset(c, 0, sizeof(*c));
}
