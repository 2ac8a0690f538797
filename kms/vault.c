/* The hashivault:// and openbao:// signer: Transit key read (cached on
 * disk), an optional KV v2 certificate chain, and prehashed signing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/certs.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sigcheck.h"
#include "kms.h"
#include "kms_cache.h"
#include "kms_uri.h"
#include "vault_conn.h"

struct nk_signer {
    struct nk_vault_conn conn;
    const struct nk_config *cfg;
    char *name;
    char *mount;
    long want_version; /* 0 = latest */
    char *ident;
    struct nk_kms_cached key; /* key.version = the version signing uses */
    int cache_on;
    double ttl;
};

static int vault_handles(const char *key_id)
{
    return strncmp(key_id, "hashivault://", 13) == 0 ||
           strncmp(key_id, "openbao://", 10) == 0;
}

static void vault_free(struct nk_signer *s)
{
    if (s == NULL)
        return;
    nk_vault_conn_release(&s->conn);
    free(s->name);
    free(s->mount);
    free(s->ident);
    nk_kms_cached_release(&s->key);
    free(s);
}

static int parse_version(struct nk_signer *s, struct nk_err *err)
{
    const char *v = nk_config_str(s->cfg, "key-version");
    char *end = NULL;

    if (v == NULL || strcmp(v, "latest") == 0)
        return 0;
    s->want_version = strtol(v, &end, 10);
    if (*end != '\0' || s->want_version < 1 || s->want_version > 1000000)
        return nk_err_set(err, NK_ERR_VALIDATION, "pluginConfig "
                          "\"key-version\" must be a positive number or "
                          "\"latest\", not \"%s\"", v);
    return 0;
}

static int vault_open(const char *key_id, const struct nk_config *cfg,
                      struct nk_signer **out, struct nk_err *err)
{
    struct nk_signer *s = nk_xcalloc(1, sizeof(*s));
    const char *mount;
    char shown[512];
    int openbao, ret = -1;

    *out = NULL;
    s->cfg = cfg;
    if (nk_vault_uri_parse(key_id, &s->name, &openbao, err) != 0)
        goto out;
    if (nk_vault_conn_init(&s->conn, openbao, cfg, err) != 0 ||
        parse_version(s, err) != 0)
        goto out;
    mount = nk_config_str(cfg, "vault-transit-mount");
    if (mount == NULL)
        mount = getenv("TRANSIT_SECRET_ENGINE_PATH");
    if (mount == NULL || mount[0] == '\0')
        mount = "transit";
    s->mount = nk_xstrndup(mount, strlen(mount) -
                           (mount[strlen(mount) - 1] == '/'));
    /* The ident is logged and stored in the cache file: no user:password@
     * from VAULT_ADDR in it. */
    s->ident = nk_xasprintf(
        "vault\n%s\n%s\n%s\n%s\n%ld",
        nk_http_url_loggable(s->conn.addr, shown, sizeof(shown)),
        s->conn.ns ? s->conn.ns : "", s->mount, s->name, s->want_version);
    s->cache_on = nk_kms_cache_enabled(cfg, &s->ttl);
    *out = s;
    s = NULL;
    ret = 0;
out:
    vault_free(s);
    return ret;
}

static int read_pub(struct nk_signer *s, const cJSON *data, long ver,
                    struct nk_err *err)
{
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(data, "keys");
    char vs[24];
    const char *pem;
    BIO *bio;

    snprintf(vs, sizeof(vs), "%ld", ver);
    pem = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(keys, vs),
                      "public_key");
    if (pem == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION, "%s transit key \"%s\" has "
                          "no version %ld with a public key", s->conn.product,
                          s->name, ver);
    bio = BIO_new_mem_buf(pem, -1);
    s->key.pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (s->key.pub == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC, "%s transit key \"%s\" "
                          "version %ld: bad public key", s->conn.product,
                          s->name, ver);
    return 0;
}

static int parse_key(struct nk_signer *s, const cJSON *resp,
                     struct nk_err *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
    const cJSON *latest = cJSON_GetObjectItemCaseSensitive(data,
                                                           "latest_version");
    const cJSON *sign = cJSON_GetObjectItemCaseSensitive(data,
                                                         "supports_signing");
    const char *type = nk_kms_jstr(data, "type"), *hash;
    enum nk_keyspec actual, want = nk_vault_keyspec(type, &hash);

    if (want == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION, "%s transit key \"%s\" is "
                          "of type %s, which notation cannot use (rsa-2048, "
                          "rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, "
                          "ecdsa-p521)", s->conn.product, s->name,
                          type ? type : "?");
    if (cJSON_IsFalse(sign))
        return nk_err_set(err, NK_ERR_VALIDATION, "%s transit key \"%s\" does "
                          "not support signing", s->conn.product, s->name);
    s->key.version = s->want_version;
    if (s->key.version == 0 && cJSON_IsNumber(latest))
        s->key.version = (long)latest->valuedouble;
    if (s->key.version < 1 || read_pub(s, data, s->key.version, err) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION, "%s transit key \"%s\": no "
                          "usable version", s->conn.product, s->name);
    if (nk_keyspec_of_pkey(s->key.pub, &actual, err) != 0)
        return -1;
    if (actual != want)
        return nk_err_set(err, NK_ERR_GENERIC, "%s transit key \"%s\" says %s "
                          "but its public key is %s", s->conn.product,
                          s->name, type, nk_keyspec_name(actual));
    s->key.spec = actual;
    s->key.id = nk_xstrdup(s->name);
    return 0;
}

static int fetch(struct nk_signer *s, struct nk_err *err)
{
    char *path = nk_xasprintf("%s/keys/%s", s->mount, s->name), what[160];
    cJSON *resp = NULL;
    int ret = -1;

    snprintf(what, sizeof(what), "%s read of transit key \"%s\"",
             s->conn.product, s->name);
    nk_kms_cached_release(&s->key);
    if (nk_vault_request(&s->conn, "GET", path, NULL, what, &resp, err) != 0 ||
        parse_key(s, resp, err) != 0)
        goto out;
    if (s->cache_on)
        nk_kms_cache_store(s->ident, &s->key);
    ret = 0;
out:
    cJSON_Delete(resp);
    free(path);
    return ret;
}

/* The chain kept in a KV v2 secret, laid out as notation-hashicorp-vault
 * does: <mount>/data/<path>, field "certificate" holding PEM, leaf first. */
static int kv_chain(struct nk_signer *s, struct nk_key_info *info,
                    struct nk_err *err)
{
    const char *kvpath = nk_config_str(s->cfg, "vault-kv-path");
    const char *mount = nk_config_str(s->cfg, "vault-kv-mount");
    const char *field = nk_config_str(s->cfg, "vault-kv-field");
    const char *pem;
    STACK_OF(X509) *sk = NULL;
    char *path, what[200];
    cJSON *resp = NULL;
    int ret = -1;

    if (kvpath == NULL)
        return 0;
    field = field ? field : "certificate";
    path = nk_xasprintf("%s/data/%s", mount ? mount : "secret", kvpath);
    snprintf(what, sizeof(what), "%s KV v2 read of \"%s\"", s->conn.product,
             path);
    if (nk_vault_request(&s->conn, "GET", path, NULL, what, &resp, err) != 0)
        goto out;
    pem = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(resp, "data"),
                          "data"), field);
    if (pem == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION, "%s: no field \"%s\" in the secret",
                   what, field);
        goto out;
    }
    if (nk_certs_load_mem((const unsigned char *)pem, strlen(pem), what, &sk,
                          err) != 0)
        goto out;
    info->cert = sk_X509_shift(sk);
    info->extra = sk;
    sk = NULL;
    ret = 0;
out:
    sk_X509_pop_free(sk, X509_free);
    cJSON_Delete(resp);
    free(path);
    return ret;
}

/* A fresh cached description (see nk_kms_cache_load_for). */
static int from_cache(struct nk_signer *s)
{
    if (!s->cache_on)
        return -1;
    return nk_kms_cache_load_for(s->ident, s->ttl, s->cfg, &s->key);
}

static int vault_describe(struct nk_signer *s, struct nk_key_info *info,
                          struct nk_err *err)
{
    int cached = 0;

    if (s->key.pub == NULL) {
        if (from_cache(s) == 0)
            cached = 1;
        else if (fetch(s, err) != 0)
            return -1;
    }
    if (kv_chain(s, info, err) != 0)
        return -1;
    /* The key was rotated and the certificate in KV renewed since the
     * description was cached: describe the key afresh rather than fail
     * the certificate check until the entry expires. */
    if (cached && info->cert != NULL &&
        EVP_PKEY_eq(X509_get0_pubkey(info->cert), s->key.pub) != 1) {
        nk_info("cached key differs from the KV leaf certificate's: refetch");
        nk_kms_cache_drop(s->ident);
        if (fetch(s, err) != 0)
            return -1;
    }
    if (EVP_PKEY_up_ref(s->key.pub) != 1)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot reference key");
    info->spec = s->key.spec;
    info->pub = s->key.pub;
    return 0;
}

/* "vault:v<N>:<base64>" -> bytes, checking N. */
static int take_signature(struct nk_signer *s, enum nk_keyspec spec,
                          const char *v, unsigned char **sig, size_t *siglen,
                          struct nk_err *err)
{
    const char *b64;
    unsigned char *raw = NULL;
    long ver;
    size_t n;
    int r;

    if (nk_vault_sig_split(v, &ver, &b64, err) != 0)
        return nk_err_prefix(err, "%s sign with \"%s\"", s->conn.product,
                             s->name);
    if (ver != s->key.version)
        return nk_err_set(err, NK_ERR_GENERIC, "%s sign with \"%s\": signed "
                          "with version %ld, not %ld", s->conn.product,
                          s->name, ver, s->key.version);
    if (nk_b64_decode(b64, "signature", &raw, &n, err) != 0)
        return -1;
    if (nk_keyspec_is_rsa(spec)) {
        *sig = raw;
        *siglen = n;
        return 0;
    }
    r = nk_ecdsa_der_to_raw(raw, n, nk_keyspec_ec_width(spec), sig, siglen,
                            err);
    free(raw);
    return r;
}

static cJSON *sign_body(const struct nk_signer *s, enum nk_keyspec spec,
                        const char *input)
{
    cJSON *b = cJSON_CreateObject();

    cJSON_AddStringToObject(b, "input", input);
    cJSON_AddBoolToObject(b, "prehashed", 1);
    cJSON_AddStringToObject(b, "marshaling_algorithm", "asn1");
    cJSON_AddNumberToObject(b, "key_version", (double)s->key.version);
    if (nk_keyspec_is_rsa(spec)) {
        /* Vault's default salt_length is "auto" (maximum): notation's
         * COSE verifier needs salt = hash length. */
        cJSON_AddStringToObject(b, "signature_algorithm", "pss");
        cJSON_AddStringToObject(b, "salt_length", "hash");
    }
    return b;
}

/* Transit's name for the hash notation pairs with spec. */
static const char *vault_hash(enum nk_keyspec spec)
{
    switch (nk_keyspec_hash(spec)) {
    case NK_SHA256:
        return "sha2-256";
    case NK_SHA384:
        return "sha2-384";
    case NK_SHA512:
        return "sha2-512";
    default:
        return NULL;
    }
}

static int vault_sign(struct nk_signer *s, enum nk_keyspec spec,
                      const unsigned char *digest, size_t dlen,
                      unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    char *input = NULL, *path = NULL, what[160];
    cJSON *body = NULL, *resp = NULL;
    const char *hash = NULL;
    int ret = -1;

    *sig = NULL;
    *siglen = 0;
    if (s->key.pub == NULL && from_cache(s) != 0 && fetch(s, err) != 0)
        goto out;
    if (spec == s->key.spec)
        hash = vault_hash(spec);
    if (hash == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION, "keySpec %s does not match %s key "
                   "\"%s\" (%s)", nk_keyspec_name(spec), s->conn.product,
                   s->name, nk_keyspec_name(s->key.spec));
        goto out;
    }
    input = nk_b64_encode(digest, dlen);
    body = sign_body(s, spec, input);
    path = nk_xasprintf("%s/sign/%s/%s", s->mount, s->name, hash);
    snprintf(what, sizeof(what), "%s sign with \"%s\"", s->conn.product,
             s->name);
    if (nk_vault_request(&s->conn, "POST", path, body, what, &resp, err) != 0 ||
        take_signature(s, spec,
                       nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(resp,
                                                                    "data"),
                                   "signature"),
                       sig, siglen, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0) {
        free(*sig);
        *sig = NULL;
        *siglen = 0;
    }
    cJSON_Delete(body);
    cJSON_Delete(resp);
    free(input);
    free(path);
    return ret;
}

/* A signature failed its check against the certificate: forget the
 * cached description so the next run fetches the key again. */
static void vault_stale(struct nk_signer *s)
{
    nk_kms_cache_drop(s->ident);
}

const struct nk_signer_ops nk_vault_ops = {
    .name = "hashivault",
    .handles = vault_handles,
    .open = vault_open,
    .describe = vault_describe,
    .sign = vault_sign,
    .free = vault_free,
    .stale = vault_stale,
};
