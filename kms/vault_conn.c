/* Vault/OpenBao connection: environment, token or login, and requests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "vault_aws.h"
#include "vault_conn.h"

#define VAULT_MAX_BODY (1024u * 1024)

static const char *const vault_first[] = {"VAULT_", "BAO_", NULL};
static const char *const bao_first[] = {"BAO_", "VAULT_", NULL};

const char *nk_vault_env(const struct nk_vault_conn *c, const char *name)
{
    const char *const *p;
    char var[96];
    const char *v;

    for (p = c->prefixes; *p != NULL; p++) {
        snprintf(var, sizeof(var), "%s%s", *p, name);
        v = getenv(var);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

/* VAULT_SKIP_VERIFY turns TLS verification off in Vault's CLI; here it is
 * never off, so a value that would do it is refused rather than ignored
 * (the user believes it works). Go's ParseBool false values are fine. */
static int skip_verify_refused(const struct nk_vault_conn *c,
                               struct nk_err *err)
{
    static const char *const off[] = {"0", "f", "F", "false", "FALSE", "False"};
    const char *v = nk_vault_env(c, "SKIP_VERIFY");
    size_t i;

    if (v == NULL)
        return 0;
    for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strcmp(v, off[i]) == 0)
            return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "%sSKIP_VERIFY (or %sSKIP_VERIFY) is set: TLS "
                      "verification is never turned off; unset it and give "
                      "the server's CA with %sCACERT or pluginConfig "
                      "\"ca-bundle\"",
                      c->prefixes[0], c->prefixes[1], c->prefixes[0]);
}

/* A file the user named in PREFIX+var, checked now so that a typo is a
 * clear VALIDATION_ERROR rather than a failed login. */
static int readable(const struct nk_vault_conn *c, const char *path,
                    const char *var, struct nk_err *err)
{
    if (access(path, R_OK) == 0)
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION, "cannot read %s%s \"%s\": %s",
                      c->prefixes[0], var, path, strerror(errno));
}

int nk_vault_conn_init(struct nk_vault_conn *c, int openbao,
                       const struct nk_config *cfg, struct nk_err *err)
{
    const char *ca_envs[3];
    const char *addr, *ns;
    size_t n;

    memset(c, 0, sizeof(*c));
    c->product = openbao ? "OpenBao" : "Vault";
    c->cfg = cfg;
    c->prefixes = openbao ? bao_first : vault_first;
    if (skip_verify_refused(c, err) != 0)
        return -1;
    c->client_cert = nk_vault_env(c, "CLIENT_CERT");
    c->client_key = nk_vault_env(c, "CLIENT_KEY");
    if ((c->client_cert == NULL) != (c->client_key == NULL))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%sCLIENT_CERT and %sCLIENT_KEY go together: set "
                          "both (TLS client certificate) or neither",
                          c->prefixes[0], c->prefixes[0]);
    if (c->client_cert != NULL &&
        (readable(c, c->client_cert, "CLIENT_CERT", err) != 0 ||
         readable(c, c->client_key, "CLIENT_KEY", err) != 0))
        return -1;
    ca_envs[0] = openbao ? "BAO_CACERT" : "VAULT_CACERT";
    ca_envs[1] = openbao ? "VAULT_CACERT" : "BAO_CACERT";
    ca_envs[2] = NULL;
    if (nk_kms_net_init(&c->net, cfg, ca_envs, err) != 0)
        return -1;
    addr = nk_config_str(cfg, "vault-addr");
    if (addr == NULL)
        addr = nk_vault_env(c, "ADDR");
    if (addr == NULL)
        addr = "https://127.0.0.1:8200"; /* the CLI's default */
    n = strlen(addr);
    while (n > 0 && addr[n - 1] == '/')
        n--;
    c->addr = nk_xstrndup(addr, n);
    ns = nk_config_str(cfg, "vault-namespace");
    if (ns == NULL)
        ns = nk_vault_env(c, "NAMESPACE");
    c->ns = ns != NULL ? nk_xstrdup(ns) : NULL;
    return 0;
}

void nk_vault_conn_release(struct nk_vault_conn *c)
{
    free(c->addr);
    free(c->ns);
    nk_strfreezero(c->token);
    nk_kms_net_release(&c->net);
    memset(c, 0, sizeof(*c));
}

/* "errors":[...] joined with "; " into buf. */
static void errors_text(const struct nk_http_resp *r, char *buf, size_t n)
{
    cJSON *o = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors"), *e;
    size_t used = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(e, errs)
    {
        if (!cJSON_IsString(e) || used + 3 >= n)
            continue;
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "; " : "",
                                 e->valuestring);
    }
    cJSON_Delete(o);
    if (buf[0] == '\0')
        snprintf(buf, n, "%s",
                 r->status == 404 ? "not found" : "no error text");
}

static void detail(const struct nk_http_resp *r, char *buf, size_t n, void *arg)
{
    (void)arg;
    errors_text(r, buf, n);
}

int nk_vault_answer(const char *product, const char *what,
                    const struct nk_http_resp *r, cJSON **out,
                    struct nk_err *err)
{
    char etext[300];

    *out = NULL;
    if (r->status < 200 || r->status > 299) {
        errors_text(r, etext, sizeof(etext));
        return nk_err_set(err, nk_kms_status_code(r->status),
                          "%s: %s answered HTTP %ld: %s", what, product,
                          r->status, etext);
    }
    return nk_kms_json(r, what, out, err);
}

/* A raw request (no token handling): used for logins too. */
static int request(struct nk_vault_conn *c, const char *method,
                   const char *path, const cJSON *body, const char *token,
                   const char *what, cJSON **out, struct nk_err *err)
{
    struct nk_http_header h[4];
    struct nk_http_req req = {
        .method = method, .headers = h, .max_body = VAULT_MAX_BODY};
    struct nk_http_retry pol = {.detail = detail};
    struct nk_http_resp resp = {0};
    char *url = nk_xasprintf("%s/v1/%s", c->addr, path), *text = NULL;
    size_t n = 0;
    int ret = -1;

    *out = NULL;
    h[n++] = (struct nk_http_header){"Content-Type", "application/json"};
    if (token != NULL)
        h[n++] = (struct nk_http_header){"X-Vault-Token", token};
    if (c->ns != NULL)
        h[n++] = (struct nk_http_header){"X-Vault-Namespace", c->ns};
    h[n++] = (struct nk_http_header){"X-Vault-Request", "true"};
    req.n_headers = n;
    req.url = url;
    if (body != NULL) {
        text = cJSON_PrintUnformatted(body);
        req.body = (const unsigned char *)text;
        req.body_len = strlen(text);
    }
    nk_kms_net_apply(&c->net, &req);
    req.client_cert = c->client_cert;
    req.client_key = c->client_key;
    if (nk_http_do_retry(&req, &pol, what, &resp, err) != 0)
        goto out;
    if (nk_vault_answer(c->product, what, &resp, out, err) != 0)
        goto out;
    ret = 0;
out:
    nk_http_resp_release(&resp);
    nk_strfreezero(text);
    free(url);
    return ret;
}

/* cJSON does not wipe: clears auth.client_token of an answer. */
static void wipe_token(cJSON *resp)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(resp, "auth");

    it = cJSON_GetObjectItemCaseSensitive(it, "client_token");
    if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
}

/* Keeps the lease of a login or renewal answer's "auth". */
static void lease_from(struct nk_vault_conn *c, const cJSON *auth)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(auth, "lease_duration");

    c->lease_ms =
        cJSON_IsNumber(d) && d->valuedouble > 0 ? d->valuedouble * 1000.0 : 0;
    c->lease_end_ms = nk_log_now_ms() + c->lease_ms;
    c->renewable =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(auth, "renewable"));
}

/* POST auth/<mount>/login and keep auth.client_token. */
static int login(struct nk_vault_conn *c, const char *mount, cJSON *body,
                 const char *method, struct nk_err *err)
{
    char *path = nk_xasprintf("auth/%s/login", mount), what[96];
    cJSON *resp = NULL, *it;
    const char *tok;
    int ret = -1;

    snprintf(what, sizeof(what), "%s %s login", c->product, method);
    if (request(c, "POST", path, body, NULL, what, &resp, err) != 0) {
        if (err->code == NK_ERR_VALIDATION)
            err->code = NK_ERR_ACCESS; /* 400 "invalid role or secret" */
        goto out;
    }
    tok = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(resp, "auth"),
                      "client_token");
    if (tok == NULL) {
        nk_err_set(err, NK_ERR_ACCESS, "%s: no client_token in the answer",
                   what);
        goto out;
    }
    c->token = nk_xstrdup(tok);
    c->from_login = 1;
    lease_from(c, cJSON_GetObjectItemCaseSensitive(resp, "auth"));
    nk_info("%s login with %s succeeded", c->product, method);
    ret = 0;
out:
    /* cJSON does not wipe: clear secret strings before freeing. */
    cJSON_ArrayForEach(it, body) if (cJSON_IsString(it))
        nk_memzero(it->valuestring, strlen(it->valuestring));
    wipe_token(resp);
    cJSON_Delete(resp);
    free(path);
    return ret;
}

static int login_jwt(struct nk_vault_conn *c, const char *role,
                     const char *file, const char *mount, const char *method,
                     struct nk_err *err)
{
    cJSON *body;
    char *jwt = nk_kms_read_secret(file, method, err);
    int r;

    if (jwt == NULL)
        return -1;
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "role", role);
    cJSON_AddStringToObject(body, "jwt", jwt);
    nk_strfreezero(jwt);
    r = login(c, mount, body, method, err);
    cJSON_Delete(body);
    return r;
}

static const char * or (const char *v, const char *def)
{
    return v != NULL ? v : def;
}

static int approle(struct nk_vault_conn *c, const char *role_id,
                   struct nk_err *err)
{
    const char *sid = nk_vault_env(c, "SECRET_ID");
    const char *sid_file = nk_vault_env(c, "SECRET_ID_FILE");
    char *fromfile = NULL;
    cJSON *body;
    int r;

    if (sid == NULL && sid_file != NULL) {
        fromfile = nk_kms_read_secret(sid_file, "VAULT_SECRET_ID_FILE", err);
        if (fromfile == NULL)
            return -1;
        sid = fromfile;
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "role_id", role_id);
    if (sid != NULL)
        cJSON_AddStringToObject(body, "secret_id", sid);
    nk_strfreezero(fromfile);
    r = login(c, or (nk_vault_env(c, "APPROLE_PATH"), "approle"), body,
              "AppRole", err);
    cJSON_Delete(body);
    return r;
}

/* AWS auth: a signed GetCallerIdentity made with the AWS credential
 * chain; AWS_CA_BUNDLE (not Vault's CA) is trusted for AWS's own calls. */
static int login_aws(struct nk_vault_conn *c, const char *role,
                     struct nk_err *err)
{
    static const char *const ca_envs[] = {"AWS_CA_BUNDLE", NULL};
    struct nk_kms_net anet;
    char source[320];
    cJSON *body = NULL;
    int r = -1;

    if (nk_kms_net_init(&anet, c->cfg, ca_envs, err) != 0)
        return -1;
    anet.deadline_ms = c->net.deadline_ms;
    if (nk_vault_aws_login_body(c->cfg, &anet, role,
                                nk_vault_env(c, "AWS_HEADER_VALUE"), &body,
                                source, sizeof(source), err) != 0)
        goto out;
    nk_info("%s AWS login with AWS credentials from %s", c->product, source);
    snprintf(c->source + strlen(c->source),
             sizeof(c->source) - strlen(c->source),
             "; AWS credentials from %.200s", source);
    r = login(c, or (nk_vault_env(c, "AWS_PATH"), "aws"), body, "AWS", err);
out:
    cJSON_Delete(body);
    nk_kms_net_release(&anet);
    return r;
}

/* TLS certificate auth: the connection's client certificate is the
 * credential; the body only names the role (all roles when empty). */
static int login_cert(struct nk_vault_conn *c, struct nk_err *err)
{
    const char *role = nk_vault_env(c, "CERT_ROLE");
    cJSON *body = cJSON_CreateObject();
    int r;

    if (role != NULL)
        cJSON_AddStringToObject(body, "name", role);
    r = login(c, or (nk_vault_env(c, "CERT_PATH"), "cert"), body,
              "TLS certificate", err);
    cJSON_Delete(body);
    return r;
}

/* Notes in c->source which token source is used: what, and the variables
 * of the sources before it in the order of get_token (not set). */
static void used(struct nk_vault_conn *c, size_t before, const char *what)
{
    static const char *const vars[] = {"TOKEN",    "ROLE_ID",  "JWT_ROLE",
                                       "K8S_ROLE", "AWS_ROLE", "CLIENT_CERT"};
    size_t i, n;

    n = (size_t)snprintf(c->source, sizeof(c->source), "%s", what);
    for (i = 0; i < before && n < sizeof(c->source); i++)
        n += (size_t)snprintf(c->source + n, sizeof(c->source) - n, "%s%s%s",
                              i == 0 ? "; skipped before it: " : ", ",
                              c->prefixes[0], vars[i]);
    if (before > 0 && n < sizeof(c->source))
        snprintf(c->source + n, sizeof(c->source) - n, " not set");
}

/* Token, in order: *_TOKEN, AppRole, JWT, Kubernetes, AWS, TLS
 * certificate, ~/.vault-token. */
static int get_token(struct nk_vault_conn *c, struct nk_err *err)
{
    const char *v = nk_vault_env(c, "TOKEN"), *home = getenv("HOME");
    char *path;
    struct nk_err e = {NK_ERR_NONE, ""};

    if (v != NULL) {
        used(c, 0, "the token in VAULT_TOKEN/BAO_TOKEN");
        c->token = nk_xstrdup(v);
        return 0;
    }
    v = nk_vault_env(c, "ROLE_ID");
    if (v != NULL) {
        used(c, 1, "AppRole login");
        return approle(c, v, err);
    }
    v = nk_vault_env(c, "JWT_ROLE");
    if (v != NULL) {
        used(c, 2, "JWT login");
        return login_jwt(c, v, or (nk_vault_env(c, "JWT_FILE"), "/dev/null"),
                         or (nk_vault_env(c, "JWT_PATH"), "jwt"), "JWT", err);
    }
    v = nk_vault_env(c, "K8S_ROLE");
    if (v != NULL) {
        used(c, 3, "Kubernetes login");
        return login_jwt(
            c, v, or (nk_vault_env(c, "K8S_TOKEN_FILE"),
                      "/var/run/secrets/kubernetes.io/serviceaccount/"
                      "token"),
            or (nk_vault_env(c, "K8S_PATH"), "kubernetes"), "Kubernetes", err);
    }
    v = nk_vault_env(c, "AWS_ROLE");
    if (v != NULL) {
        used(c, 4, "AWS login");
        return login_aws(c, v, err);
    }
    if (c->client_cert != NULL) {
        used(c, 5, "TLS certificate login");
        return login_cert(c, err);
    }
    used(c, 6, "~/.vault-token");
    if (home != NULL) {
        path = nk_xasprintf("%s/.vault-token", home);
        c->token = nk_kms_read_secret(path, "token file", &e);
        free(path);
        if (c->token != NULL && c->token[0] != '\0')
            return 0;
        nk_strfreezero(c->token);
        c->token = NULL;
    }
    used(c, 6, "none (no ~/.vault-token either)");
    return nk_err_set(err, NK_ERR_ACCESS,
                      "no %s token: set %sTOKEN, %sROLE_ID (AppRole), "
                      "%sJWT_ROLE (JWT), %sK8S_ROLE (Kubernetes), %sAWS_ROLE "
                      "(AWS), %sCLIENT_CERT + %sCLIENT_KEY (TLS "
                      "certificate), or log in so that ~/.vault-token "
                      "exists",
                      c->product, c->prefixes[0], c->prefixes[0],
                      c->prefixes[0], c->prefixes[0], c->prefixes[0],
                      c->prefixes[0], c->prefixes[0]);
}

/* A login token in the last third of its lease (Vault's own agents renew
 * at about two thirds): renew-self when renewable, else (or when that
 * fails) a fresh login. */
static int keep_alive(struct nk_vault_conn *c, struct nk_err *err)
{
    cJSON *resp = NULL, *body;
    char what[64];
    int r;

    if (!c->from_login || c->lease_ms <= 0 ||
        c->lease_end_ms - nk_log_now_ms() > c->lease_ms / 3)
        return 0;
    if (c->renewable) {
        snprintf(what, sizeof(what), "%s token renewal", c->product);
        body = cJSON_CreateObject();
        r = request(c, "POST", "auth/token/renew-self", body, c->token, what,
                    &resp, err);
        cJSON_Delete(body);
        wipe_token(resp);
        if (r == 0 && cJSON_GetObjectItemCaseSensitive(resp, "auth")) {
            lease_from(c, cJSON_GetObjectItemCaseSensitive(resp, "auth"));
            nk_info("%s token renewed (lease %.0f s)", c->product,
                    c->lease_ms / 1000.0);
            cJSON_Delete(resp);
            return 0;
        }
        cJSON_Delete(resp);
        nk_info("%s token renewal failed (%s): logging in again", c->product,
                err->msg[0] ? err->msg : "no auth in the answer");
        nk_err_clear(err);
    } else {
        nk_info("%s login token is about to expire and is not renewable: "
                "logging in again",
                c->product);
    }
    nk_strfreezero(c->token);
    c->token = NULL;
    return get_token(c, err);
}

int nk_vault_request(struct nk_vault_conn *c, const char *method,
                     const char *path, const cJSON *body, const char *what,
                     cJSON **out, struct nk_err *err)
{
    *out = NULL;
    if (c->token == NULL && get_token(c, err) != 0)
        return -1;
    if (keep_alive(c, err) != 0)
        return -1;
    if (request(c, method, path, body, c->token, what, out, err) == 0)
        return 0;
    /* A login token's lease may run out in the middle of a batch: log in
     * once more. Vault answers 403 for an expired token and for a missing
     * right alike, so this is done once, and never for a token the user
     * gave (there is nothing to log in with). */
    if (err->code != NK_ERR_ACCESS || !c->from_login || c->relogged)
        return -1;
    nk_info("%s refused the login token (%s): logging in again", c->product,
            err->msg);
    nk_err_clear(err);
    c->relogged = 1;
    nk_strfreezero(c->token);
    c->token = NULL;
    if (get_token(c, err) != 0)
        return -1;
    return request(c, method, path, body, c->token, what, out, err);
}
