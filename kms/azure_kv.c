/* The Azure Key Vault / Managed HSM signer. The key is described by
 * where its certificate comes from, as azure-kv reads it:
 *   pluginConfig certificate-chain or certificate -> the key (keys get);
 *   self_signed=true or ca_certs=<bundle> -> the certificate (certificates
 *     get: its leaf, and the bundle's CAs);
 *   neither -> the certificate's secret (secrets get: the whole chain
 *     merged into the vault, PEM or PKCS#12).
 * Each is one GET, cached on disk with the certificates, so a warm
 * generate-signature makes one request: the sign, with the exact key
 * version the description named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "azure_call.h"
#include "azure_chain.h"
#include "azure_jwk.h"
#include "common/b64.h"
#include "common/certs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "kms.h"
#include "kms_key.h"
#include "kms_util.h"

enum source { FROM_KEY = 1, FROM_CERT, FROM_SECRET };

struct nk_azure {
    struct nk_signer base; /* ops = &nk_azure_ops */
    const struct nk_config *cfg;
    struct nk_azure_conn conn;
    enum source src;
    STACK_OF(X509) * bundle; /* azure-kv's ca_certs, or NULL */
    struct nk_kms_key key;   /* key.d.id = the key version's kid */
    char what[200];          /* "Azure Key Vault key \"name\"" */
};

static struct nk_azure *azure_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_azure);
}

static void azure_free(struct nk_azure *s)
{
    if (s == NULL)
        return;
    nk_azure_conn_release(&s->conn);
    sk_X509_pop_free(s->bundle, X509_free);
    nk_kms_key_release(&s->key);
    free(s);
}

/* The certificate source from pluginConfig (see the top of the file). */
static int pick_source(struct nk_azure *s, struct nk_err *err)
{
    const char *bundle = nk_config_str(s->cfg, "ca_certs");
    int self = 0;

    if (nk_config_bool(s->cfg, "self_signed", 0, &self, err) != 0)
        return -1;
    if (self && bundle != NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig "
                          "\"self_signed\" is true: a self-signed "
                          "certificate needs no \"ca_certs\"");
    if (nk_config_str(s->cfg, "certificate-chain") != NULL ||
        nk_config_str(s->cfg, "certificate") != NULL || s->conn.id.mhsm)
        s->src = FROM_KEY;
    else if (self || bundle != NULL)
        s->src = FROM_CERT;
    else
        s->src = FROM_SECRET;
    if (bundle != NULL && s->src == FROM_CERT &&
        nk_certs_load_file(bundle, "ca_certs", &s->bundle, err) != 0)
        return -1;
    return 0;
}

static int azure_open(const char *key_id, const struct nk_config *cfg,
                      struct nk_signer **out, struct nk_err *err)
{
    struct nk_azure *s = nk_xcalloc(1, sizeof(*s));
    const struct nk_azure_id *id;
    int ret = -1;

    *out = NULL;
    s->base.ops = &nk_azure_ops;
    s->cfg = cfg;
    if (nk_azure_conn_init(&s->conn, key_id, cfg, err) != 0)
        goto out;
    id = &s->conn.id;
    if (nk_config_str(cfg, "key-version") != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pluginConfig \"key-version\" does "
                   "not apply to Azure keys: put the version in the key id");
        goto out;
    }
    if (pick_source(s, err) != 0)
        goto out;
    snprintf(s->what, sizeof(s->what), "Azure %s %s \"%s\"",
             id->mhsm ? "Managed HSM" : "Key Vault",
             s->src == FROM_KEY ? "key" : "certificate", id->name);
    /* The source is part of the identity: each reads other things. */
    nk_kms_key_init(&s->key, cfg,
                    nk_xasprintf("azure\n%s\n%s\n%s\n%d", id->base, id->name,
                                 id->version ? id->version : "", (int)s->src));
    *out = &s->base;
    s = NULL;
    ret = 0;
out:
    azure_free(s);
    return ret;
}

static const char *perm_of(const struct nk_azure *s, const char *op)
{
    if (s->conn.id.mhsm)
        return strcmp(op, "sign") == 0
                   ? "the Managed HSM Crypto User role (keys/sign/action)"
                   : "the Managed HSM Crypto User role (keys/read/action)";
    if (strcmp(op, "sign") == 0)
        return "keys sign (role Key Vault Crypto User, or access policy "
               "keys: sign)";
    if (strcmp(op, "keys") == 0)
        return "keys get (role Key Vault Crypto User or Key Vault Reader, "
               "or access policy keys: get)";
    if (strcmp(op, "certificates") == 0)
        return "certificates get (role Key Vault Certificate User, or "
               "access policy certificates: get)";
    return "secrets get (role Key Vault Secrets User, or access policy "
           "secrets: get), or pluginConfig ca_certs or self_signed=true "
           "to read the certificate alone";
}

/* attributes.enabled, nbf and exp of a key, certificate or secret: 0 when
 * usable, else the index of the reason. */
static int check_attrs(const cJSON *o)
{
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "attributes");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(at, "enabled");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(at, "nbf");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(at, "exp");
    double now = (double)time(NULL);

    if (cJSON_IsFalse(en))
        return 1;
    if (cJSON_IsNumber(nbf) && nbf->valuedouble > now)
        return 2;
    if (cJSON_IsNumber(exp) && exp->valuedouble <= now)
        return 3;
    return 0;
}

static int attrs_ok(const struct nk_azure *s, const cJSON *o,
                    struct nk_err *err)
{
    static const char *const why[] = {NULL, "disabled", "not yet valid (nbf)",
                                      "expired (exp)"};
    int r = check_attrs(o);

    if (r == 0)
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "%s%s%s is %s: enable it or "
                      "use another version",
                      s->what, s->conn.id.version ? " version " : "",
                      s->conn.id.version ? s->conn.id.version : "", why[r]);
}

/* "sign" among key_ops, when the key lists its operations. */
static int can_sign(const struct nk_azure *s, const cJSON *jwk,
                    struct nk_err *err)
{
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(jwk, "key_ops"), *it;

    if (!cJSON_IsArray(ops))
        return 0;
    cJSON_ArrayForEach(it,
                       ops) if (cJSON_IsString(it) &&
                                strcmp(it->valuestring, "sign") == 0) return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "%s does not allow signing (its "
                      "key_ops lack \"sign\"): allow the sign operation on "
                      "the key",
                      s->what);
}

static char *obj_path(const struct nk_azure *s, const char *kind)
{
    const struct nk_azure_id *id = &s->conn.id;

    return nk_xasprintf("/%s/%s%s%s", kind, id->name, id->version ? "/" : "",
                        id->version ? id->version : "");
}

/* The kid names a version of our key on our vault: kept as d.id. */
static int take_kid(struct nk_azure *s, const char *kid, struct nk_err *err)
{
    char *ver = NULL;

    if (nk_azure_kid_check(&s->conn.id, kid, s->what, &ver, err) != 0)
        return -1;
    free(ver);
    s->key.d.id = nk_xstrdup(kid);
    return 0;
}

static int from_key(struct nk_azure *s, const cJSON *o, struct nk_err *err)
{
    const cJSON *jwk = cJSON_GetObjectItemCaseSensitive(o, "key");

    if (attrs_ok(s, o, err) != 0 || can_sign(s, jwk, err) != 0 ||
        nk_azure_jwk_pub(jwk, s->what, &s->key.d.pub, &s->key.d.spec, err) != 0)
        return -1;
    return take_kid(s, nk_kms_jstr(jwk, "kid"), err);
}

/* The certificates found: the leaf's key and spec describe the key. */
static int from_chain(struct nk_azure *s, STACK_OF(X509) * sk,
                      struct nk_err *err)
{
    s->key.d.chain = sk;
    s->key.d.pub = X509_get_pubkey(sk_X509_value(sk, 0));
    if (s->key.d.pub == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "%s: no public key in the "
                          "certificate",
                          s->what);
    return nk_keyspec_of_pkey(s->key.d.pub, &s->key.d.spec, err);
}

static int from_cert(struct nk_azure *s, const cJSON *o, struct nk_err *err)
{
    STACK_OF(X509) * sk;
    X509 *leaf = NULL;

    if (attrs_ok(s, o, err) != 0 ||
        nk_azure_cer(nk_kms_jstr(o, "cer"), s->what, &leaf, err) != 0)
        return -1;
    sk = sk_X509_new_null();
    sk_X509_push(sk, leaf);
    if (from_chain(s, sk, err) != 0)
        return -1;
    return take_kid(s, nk_kms_jstr(o, "kid"), err);
}

static int from_secret(struct nk_azure *s, const cJSON *o, struct nk_err *err)
{
    STACK_OF(X509) *sk = NULL;
    const char *kid = nk_kms_jstr(o, "kid");

    if (kid == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s: secret \"%s\" belongs "
                          "to no certificate (no kid): name a Key Vault "
                          "certificate",
                          s->what, s->conn.id.name);
    if (attrs_ok(s, o, err) != 0 ||
        nk_azure_secret_chain(nk_kms_jstr(o, "value"),
                              nk_kms_jstr(o, "contentType"), s->what, &sk,
                              err) != 0 ||
        from_chain(s, sk, err) != 0)
        return -1;
    return take_kid(s, kid, err);
}

static int fetch(struct nk_signer *base, struct nk_err *err)
{
    struct nk_azure *s = azure_of(base);
    static const char *const kind[] = {NULL, "keys", "certificates", "secrets"};
    const char *k = kind[s->src];
    char *path = obj_path(s, k), what[260];
    cJSON *resp = NULL;
    int ret = -1;

    snprintf(what, sizeof(what), "%s: GET %s", s->what, k);
    if (nk_azure_call(&s->conn, "GET", path, NULL, what, perm_of(s, k), &resp,
                      err) != 0) {
        if (err->code == NK_ERR_VALIDATION && s->src == FROM_SECRET &&
            strstr(err->msg, "HTTP 404") != NULL)
            nk_err_prefix(err,
                          "no certificate named \"%s\" in the vault "
                          "(a plain key needs pluginConfig "
                          "certificate-chain)",
                          s->conn.id.name);
        goto out;
    }
    ret = s->src == FROM_KEY    ? from_key(s, resp, err)
          : s->src == FROM_CERT ? from_cert(s, resp, err)
                                : from_secret(s, resp, err);
out:
    /* A secret's value may hold the private key: wiped, not just freed. */
    nk_json_wipe(resp);
    cJSON_Delete(resp);
    free(path);
    return ret;
}

static int azure_describe(struct nk_signer *base, struct nk_key_info *info,
                          struct nk_err *err)
{
    struct nk_azure *s = azure_of(base);
    STACK_OF(X509) * certs;
    int i;

    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_info(&s->key, info, err) != 0)
        return -1;
    certs = s->key.d.chain;
    if (certs == NULL || sk_X509_num(certs) == 0)
        return 0;
    info->cert = sk_X509_value(certs, 0);
    X509_up_ref(info->cert);
    info->extra = sk_X509_new_null();
    for (i = 1; i < sk_X509_num(certs); i++) {
        X509_up_ref(sk_X509_value(certs, i));
        sk_X509_push(info->extra, sk_X509_value(certs, i));
    }
    for (i = 0; s->bundle != NULL && i < sk_X509_num(s->bundle); i++) {
        X509_up_ref(sk_X509_value(s->bundle, i));
        sk_X509_push(info->extra, sk_X509_value(s->bundle, i));
    }
    return 0;
}

/* Key Vault's signature: base64url, raw r||s for EC. */
static int take_sig(const struct nk_azure *s, enum nk_keyspec spec,
                    const cJSON *resp, unsigned char **sig, size_t *siglen,
                    struct nk_err *err)
{
    const char *v = nk_kms_jstr(resp, "value");
    const char *kid = nk_kms_jstr(resp, "kid");

    if (kid == NULL || strcmp(kid, s->key.d.id) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: signed with \"%.200s\", "
                          "not the version asked for",
                          s->what, kid ? kid : "(no kid)");
    if (v == NULL || nk_b64url_decode(v, "value", sig, siglen, err) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no base64url signature "
                          "in the answer",
                          s->what);
    if (!nk_keyspec_is_rsa(spec) && *siglen != nk_keyspec_sig_len(spec))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: an ECDSA signature of "
                          "%zu bytes, not r||s of %zu",
                          s->what, *siglen, nk_keyspec_sig_len(spec));
    return 0;
}

static int azure_sign(struct nk_signer *base, enum nk_keyspec spec,
                      const unsigned char *digest, size_t dlen,
                      unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    struct nk_azure *s = azure_of(base);
    const char *alg = nk_azure_alg(spec), *path;
    char *value = NULL, *url_path = NULL, what[260];
    cJSON *body = NULL, *resp = NULL;
    int ret = -1;

    *sig = NULL;
    *siglen = 0;
    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_check_spec(&s->key, alg != NULL ? spec : NK_KEYSPEC_NONE,
                              s->what, err) != 0)
        goto out;
    /* The path of the exact version the description named (checked
     * again: it may come from the cache). */
    if (nk_azure_kid_check(&s->conn.id, s->key.d.id, s->what, &value, err) != 0)
        goto out;
    free(value);
    path = strstr(s->key.d.id + strlen(s->conn.id.base), "/keys/");
    url_path = nk_xasprintf("%s/sign", path);
    value = nk_b64url_encode(digest, dlen);
    body = cJSON_CreateObject();
    nk_json_add_string(body, "alg", alg);
    nk_json_add_string(body, "value", value);
    snprintf(what, sizeof(what), "%s: sign (%s)", s->what, alg);
    if (nk_azure_call(&s->conn, "POST", url_path, body, what,
                      perm_of(s, "sign"), &resp, err) != 0 ||
        take_sig(s, spec, resp, sig, siglen, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0)
        nk_signer_sig_clear(sig, siglen);
    cJSON_Delete(body);
    cJSON_Delete(resp);
    free(value);
    free(url_path);
    return ret;
}

/* A signature failed its check against the certificate: forget the
 * cached description so the next run fetches the key again. */
static void azure_stale(struct nk_signer *s)
{
    nk_kms_key_stale(&azure_of(s)->key);
}

static int azure_credentials(struct nk_signer *base, char *buf, size_t n)
{
    return nk_kms_credential_report(azure_of(base)->conn.tok.source, 1, buf, n);
}

static void azure_free_op(struct nk_signer *s)
{
    if (s != NULL)
        azure_free(azure_of(s));
}

const struct nk_signer_ops nk_azure_ops = {
    .name = "azurekms",
    .handles = nk_azure_handles,
    .open = azure_open,
    .describe = azure_describe,
    .sign = azure_sign,
    .free = azure_free_op,
    .stale = azure_stale,
    .credential_report = azure_credentials,
};
