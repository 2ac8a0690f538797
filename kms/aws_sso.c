/* IAM Identity Center credentials: settings from the profile and its
 * [sso-session], the cached access token, and GetRoleCredentials on the
 * portal (GET /federation/credentials, bearer token in
 * x-amz-sso_bearer_token, no SigV4). Tokens and keys are wiped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "aws_call.h"
#include "aws_config.h"
#include "aws_sso.h"
#include "common/buf.h"
#include "common/mem.h"

#define TOKEN_MAX (64u * 1024)

struct sso_cfg {
    char *session; /* the sso-session name, or NULL (legacy form) */
    char *start_url;
    char *region;
    char *account;
    char *role;
};

static void sso_cfg_release(struct sso_cfg *c)
{
    free(c->session);
    free(c->start_url);
    free(c->region);
    free(c->account);
    free(c->role);
    memset(c, 0, sizeof(*c));
}

int nk_aws_sso_configured(const char *profile)
{
    static const char *const keys[] = {"sso_session", "sso_start_url",
                                       "sso_account_id", "sso_role_name", NULL};
    const char *const *k;
    char *v;

    for (k = keys; *k != NULL; k++) {
        v = nk_aws_profile_get(profile, *k);
        free(v);
        if (v != NULL)
            return 1;
    }
    return 0;
}

void nk_aws_sso_cache_key(const char *text, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    if (EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL) != 1)
        n = 0;
    for (i = 0; i < n && i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[2 * i] = '\0';
}

/* The profile's settings; those of its [sso-session] fill them, and may
 * repeat them but not contradict them (as the SDKs check). */
static int load_cfg(const char *profile, struct sso_cfg *c, struct nk_err *err)
{
    static const char *const need[] = {"sso_start_url", "sso_region",
                                       "sso_account_id", "sso_role_name"};
    char **slots[] = {&c->start_url, &c->region, &c->account, &c->role};
    char missing[128] = "";
    char *v;
    size_t i;

    memset(c, 0, sizeof(*c));
    c->session = nk_aws_profile_get(profile, "sso_session");
    for (i = 0; i < 4; i++)
        *slots[i] = nk_aws_profile_get(profile, need[i]);
    if (c->session != NULL && !nk_aws_sso_session_exists(c->session))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\": "
                          "sso_session \"%s\" has no [sso-session %s] "
                          "section in the config file",
                          profile, c->session, c->session);
    for (i = 0; c->session != NULL && i < 2; i++) {
        v = nk_aws_sso_session_get(c->session, need[i]);
        if (v != NULL && *slots[i] != NULL && strcmp(v, *slots[i]) != 0) {
            nk_err_set(err, NK_ERR_VALIDATION,
                       "profile \"%s\": %s is \"%s\""
                       " there but \"%s\" in [sso-session %s]",
                       profile, need[i], *slots[i], v, c->session);
            free(v);
            return -1;
        }
        if (v != NULL) {
            free(*slots[i]);
            *slots[i] = v;
        }
    }
    for (i = 0; i < 4; i++)
        if (*slots[i] == NULL || (*slots[i])[0] == '\0')
            snprintf(missing + strlen(missing),
                     sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", need[i]);
    if (missing[0] != '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\" is set up "
                          "for IAM Identity Center (SSO) but lacks %s",
                          profile, missing);
    return 0;
}

static char *cache_path(const struct sso_cfg *c)
{
    const char *home = getenv("HOME");
    char hex[41];

    nk_aws_sso_cache_key(c->session != NULL ? c->session : c->start_url, hex);
    return nk_xasprintf("%s/.aws/sso/cache/%s.json", home != NULL ? home : "",
                        hex);
}

/* The cached access token (malloc'd) if it is still good. */
static char *read_token(const char *profile, const struct sso_cfg *c,
                        struct nk_err *err)
{
    struct nk_buf b;
    struct nk_err e = {NK_ERR_NONE, ""};
    char *path = cache_path(c), *tok = NULL;
    cJSON *o = NULL, *it;
    const char *at, *exp;
    long long t;

    nk_buf_init(&b, TOKEN_MAX);
    if (nk_buf_read_file(&b, path, &e) != 0) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "profile \"%s\": no IAM Identity "
                   "Center (SSO) token is cached (%s): run aws sso login "
                   "--profile %s",
                   profile, path, profile);
        goto out;
    }
    o = cJSON_ParseWithLength((const char *)b.data, b.len);
    at = nk_kms_jstr(o, "accessToken");
    exp = nk_kms_jstr(o, "expiresAt");
    if (at == NULL || at[0] == '\0' || exp == NULL ||
        nk_aws_parse_time(exp, &t) != 0) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "profile \"%s\": the cached IAM "
                   "Identity Center (SSO) token %s has no accessToken or "
                   "expiresAt: run aws sso login --profile %s",
                   profile, path, profile);
        goto out;
    }
    if (t <= (long long)time(NULL)) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "profile \"%s\": the IAM Identity "
                   "Center (SSO) session expired at %.40s: run aws sso login "
                   "--profile %s",
                   profile, exp, profile);
        goto out;
    }
    tok = nk_xstrdup(at);
out:
    cJSON_ArrayForEach(it, o) if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
    cJSON_Delete(o);
    nk_buf_release(&b);
    free(path);
    return tok;
}

/* Percent-encodes s for a query value into a new string. */
static char *qenc(const char *s)
{
    char *out = nk_xmalloc(3 * strlen(s) + 1), *p = out;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~')
            *p++ = (char)ch;
        else
            p += snprintf(p, 4, "%%%02X", ch);
    }
    *p = '\0';
    return out;
}

static char *portal_url(const struct sso_cfg *c)
{
    char *base = nk_aws_endpoint_override("SSO"), *role = qenc(c->role);
    char *acct = qenc(c->account), *url;

    if (base == NULL)
        base = nk_xasprintf("https://portal.sso.%s.%s", c->region,
                            nk_aws_dns_suffix(c->region));
    url = nk_xasprintf("%s/federation/credentials?role_name=%s&account_id=%s",
                       base, role, acct);
    free(base);
    free(role);
    free(acct);
    return url;
}

/* The portal's refusal, with its error type and message. */
static int portal_error(const char *profile, const struct sso_cfg *c,
                        const struct nk_http_resp *r, struct nk_err *err)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const char *m = nk_kms_jstr(o, "message");
    char msg[200];

    snprintf(msg, sizeof(msg), "%s", m != NULL ? m : "");
    cJSON_Delete(o);
    if (r->status == 401)
        nk_err_set(err, NK_ERR_ACCESS,
                   "profile \"%s\": IAM Identity Center "
                   "(SSO) refused the cached token (HTTP 401%s%s): run aws "
                   "sso login --profile %s",
                   profile, msg[0] ? ": " : "", msg, profile);
    else
        nk_err_set(err, nk_kms_status_code(r->status),
                   "profile \"%s\": IAM "
                   "Identity Center (SSO) GetRoleCredentials for role \"%s\" "
                   "in account %s: HTTP %ld%s%s (request id %s)",
                   profile, c->role, c->account, r->status, msg[0] ? ": " : "",
                   msg, r->request_id ? r->request_id : "-");
    return -1;
}

static int take(const struct nk_http_resp *r, struct nk_aws_creds *out,
                struct nk_err *err)
{
    cJSON *o = NULL, *rc, *it;
    const cJSON *exp;
    int ret = -1;

    if (nk_kms_json(r, "IAM Identity Center GetRoleCredentials", &o, err) != 0)
        return -1;
    rc = cJSON_GetObjectItemCaseSensitive(o, "roleCredentials");
    exp = cJSON_GetObjectItemCaseSensitive(rc, "expiration");
    if (nk_aws_creds_set(
            out, nk_kms_jstr(rc, "accessKeyId"),
            nk_kms_jstr(rc, "secretAccessKey"), nk_kms_jstr(rc, "sessionToken"),
            cJSON_IsNumber(exp) ? (long long)(exp->valuedouble / 1000) : 0) !=
        0)
        nk_err_set(err, NK_ERR_GENERIC,
                   "IAM Identity Center "
                   "GetRoleCredentials: no roleCredentials in the answer");
    else
        ret = 0;
    cJSON_ArrayForEach(it, rc) if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
    cJSON_Delete(o);
    nk_memzero(r->body.data, r->body.len);
    return ret;
}

int nk_aws_sso_creds(const struct nk_kms_net *net, const char *profile,
                     struct nk_aws_creds *out, struct nk_err *err)
{
    struct nk_http_header h[1] = {{"x-amz-sso_bearer_token", NULL}};
    struct nk_http_req req = {
        .method = "GET", .headers = h, .n_headers = 1, .max_body = 64 * 1024};
    struct nk_http_resp r = {0};
    struct sso_cfg c;
    char *tok = NULL, *url = NULL;
    int ret = -1;

    if (load_cfg(profile, &c, err) != 0)
        goto out;
    tok = read_token(profile, &c, err);
    if (tok == NULL)
        goto out;
    url = portal_url(&c);
    h[0].value = tok;
    req.url = url;
    nk_kms_net_apply(net, &req);
    if (nk_http_do_retry(&req, nk_aws_retry_policy(),
                         "IAM Identity Center GetRoleCredentials", &r,
                         err) != 0)
        goto out;
    if (r.status != 200) {
        portal_error(profile, &c, &r, err);
        goto out;
    }
    if (take(&r, out, err) != 0)
        goto out;
    snprintf(out->source, sizeof(out->source),
             "IAM Identity Center (SSO) "
             "role \"%.60s\" in account %.20s (profile \"%.60s\")",
             c.role, c.account, profile);
    ret = 0;
out:
    nk_http_resp_release(&r);
    nk_strfreezero(tok);
    free(url);
    sso_cfg_release(&c);
    return ret;
}
