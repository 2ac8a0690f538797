/* The hashivault:// and openbao:// signer: Transit key read (cached on
 * disk), an optional KV v2 certificate chain, and prehashed signing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "kms.h"
#include "kms_key.h"
#include "kms_util.h"
#include "kms_uri.h"
#include "vault_answer.h"
#include "vault_conn.h"

struct nk_vault {
    struct nk_signer base; /* ops = &nk_vault_ops */
    struct nk_vault_conn conn;
    const struct nk_config *cfg;
    char *name;
    char *mount;
    long want_version; /* 0 = latest */
    char *kv_path;     /* <mount>/data/<path> of the KV v2 chain, or NULL */
    const char *kv_field;
    struct nk_kms_key key; /* key.d.version = the version signing uses */
};

static struct nk_vault *vault_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_vault);
}

static int vault_handles(const char *key_id)
{
    return strncmp(key_id, "hashivault://", 13) == 0 ||
           strncmp(key_id, "openbao://", 10) == 0;
}

static void vault_free(struct nk_vault *s)
{
    if (s == NULL)
        return;
    nk_vault_conn_release(&s->conn);
    free(s->name);
    free(s->mount);
    free(s->kv_path);
    nk_kms_key_release(&s->key);
    free(s);
}

static int parse_version(struct nk_vault *s, struct nk_err *err)
{
    const char *v = nk_config_str(s->cfg, "key-version");
    char *end = NULL;

    if (v == NULL || strcmp(v, "latest") == 0)
        return 0;
    s->want_version = strtol(v, &end, 10);
    if (*end != '\0' || s->want_version < 1 ||
        s->want_version > NK_VAULT_MAX_VERSION)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig "
                          "\"key-version\" must be a positive number or "
                          "\"latest\", not \"%s\"",
                          v);
    return 0;
}

/* Where the KV v2 secret with the chain is, laid out as
 * notation-hashicorp-vault does: <mount>/data/<path>, field "certificate"
 * holding PEM, leaf first. */
static void kv_locate(struct nk_vault *s)
{
    const char *kvpath = nk_config_str(s->cfg, "vault-kv-path");
    const char *mount = nk_config_str(s->cfg, "vault-kv-mount");
    const char *field = nk_config_str(s->cfg, "vault-kv-field");

    if (kvpath == NULL)
        return;
    s->kv_path = nk_xasprintf("%s/data/%s", mount ? mount : "secret", kvpath);
    s->kv_field = field ? field : "certificate";
}

static int vault_open(const char *key_id, const struct nk_config *cfg,
                      struct nk_signer **out, struct nk_err *err)
{
    struct nk_vault *s = nk_xcalloc(1, sizeof(*s));
    const char *mount;
    char shown[512];
    int openbao, ret = -1;

    *out = NULL;
    s->base.ops = &nk_vault_ops;
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
    s->mount =
        nk_xstrndup(mount, strlen(mount) - (mount[strlen(mount) - 1] == '/'));
    kv_locate(s);
    /* The ident is logged and stored in the cache file: no user:password@
     * from VAULT_ADDR in it. The cached chain belongs to its KV place. */
    nk_kms_key_init(
        &s->key, cfg,
        nk_xasprintf("vault\n%s\n%s\n%s\n%s\n%ld\n%s#%s",
                     nk_http_url_loggable(s->conn.addr, shown, sizeof(shown)),
                     s->conn.ns ? s->conn.ns : "", s->mount, s->name,
                     s->want_version, s->kv_path ? s->kv_path : "",
                     s->kv_path ? s->kv_field : ""));
    *out = &s->base;
    s = NULL;
    ret = 0;
out:
    vault_free(s);
    return ret;
}

/* The chain kept in the KV v2 secret (kv_locate), into s->key.d.chain. */
static int kv_chain(struct nk_vault *s, struct nk_err *err)
{
    char what[200];
    cJSON *resp = NULL;
    int ret = -1;

    if (s->kv_path == NULL)
        return 0;
    snprintf(what, sizeof(what), "%s KV v2 read of \"%s\"", s->conn.product,
             s->kv_path);
    if (nk_vault_request(&s->conn, "GET", s->kv_path, NULL, what, &resp, err) !=
            0 ||
        nk_vault_kv_answer(resp, s->kv_field, what, &s->key.d.chain, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(resp);
    return ret;
}

static int fetch(struct nk_signer *base, struct nk_err *err)
{
    struct nk_vault *s = vault_of(base);
    char *path = nk_xasprintf("%s/keys/%s", s->mount, s->name), what[160];
    cJSON *resp = NULL;
    int ret = -1;

    snprintf(what, sizeof(what), "%s read of transit key \"%s\"",
             s->conn.product, s->name);
    if (nk_vault_request(&s->conn, "GET", path, NULL, what, &resp, err) != 0 ||
        nk_vault_key_answer(resp, s->conn.product, s->name, s->want_version,
                            &s->key.d, err) != 0 ||
        kv_chain(s, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(resp);
    free(path);
    return ret;
}

static int vault_describe(struct nk_signer *base, struct nk_key_info *info,
                          struct nk_err *err)
{
    struct nk_vault *s = vault_of(base);
    STACK_OF(X509) * chain;

    /* The description and the KV chain are cached together: a warm
     * describe-key makes no request. */
    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_info(&s->key, info, err) != 0)
        return -1;
    chain = s->key.d.chain;
    if (chain != NULL && sk_X509_num(chain) > 0) {
        info->extra = X509_chain_up_ref(chain);
        info->cert = sk_X509_shift(info->extra);
    }
    return 0;
}

/* Whether sign pins the described version (see sign_body). */
static int pinned(const struct nk_vault *s)
{
    return s->want_version != 0 || !s->key.from_cache;
}

/* The Sign answer's signature (nk_vault_sign_answer). A newer version
 * than a cached description's means the key was rotated: the description
 * goes and the caller describes the key again (NK_SIGN_REDESCRIBE). */
static int take_signature(struct nk_vault *s, enum nk_keyspec spec,
                          const cJSON *resp, const char *what,
                          unsigned char **sig, size_t *siglen,
                          struct nk_err *err)
{
    long ver;

    if (nk_vault_sign_answer(resp, what, spec, s->key.d.version, pinned(s),
                             &ver, sig, siglen, err) != 0)
        return -1;
    if (ver == s->key.d.version)
        return 0;
    nk_info("%s: signed with version %ld, cached description has %ld", what,
            ver, s->key.d.version);
    nk_kms_key_forget(&s->key);
    return NK_SIGN_REDESCRIBE;
}

static cJSON *sign_body(const struct nk_vault *s, enum nk_keyspec spec,
                        const char *input)
{
    cJSON *b = cJSON_CreateObject();

    cJSON_AddStringToObject(b, "input", input);
    cJSON_AddBoolToObject(b, "prehashed", 1);
    cJSON_AddStringToObject(b, "marshaling_algorithm", "asn1");
    /* A description fetched now pins its version (a rotation between
     * describe and sign cannot slip in); a cached one does not, so a
     * rotation since it was cached shows in the answer's version. */
    if (pinned(s))
        cJSON_AddNumberToObject(b, "key_version", (double)s->key.d.version);
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

static int vault_sign(struct nk_signer *base, enum nk_keyspec spec,
                      const unsigned char *digest, size_t dlen,
                      unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    struct nk_vault *s = vault_of(base);
    char *input = NULL, *path = NULL, what[160];
    cJSON *body = NULL, *resp = NULL;
    const char *hash = NULL;
    int ret = -1;

    *sig = NULL;
    *siglen = 0;
    snprintf(what, sizeof(what), "%s key \"%s\"", s->conn.product, s->name);
    hash = vault_hash(spec);
    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_check_spec(&s->key, hash != NULL ? spec : NK_KEYSPEC_NONE,
                              what, err) != 0)
        goto out;
    input = nk_b64_encode(digest, dlen);
    body = sign_body(s, spec, input);
    path = nk_xasprintf("%s/sign/%s/%s", s->mount, s->name, hash);
    snprintf(what, sizeof(what), "%s sign with \"%s\"", s->conn.product,
             s->name);
    if (nk_vault_request(&s->conn, "POST", path, body, what, &resp, err) != 0)
        goto out;
    ret = take_signature(s, spec, resp, what, sig, siglen, err);
out:
    if (ret < 0)
        nk_signer_sig_clear(sig, siglen);
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
    nk_kms_key_stale(&vault_of(s)->key);
}

static void vault_restart(struct nk_signer *s)
{
    nk_kms_net_restart(&vault_of(s)->conn.net);
}

static void vault_free_op(struct nk_signer *s)
{
    if (s != NULL)
        vault_free(vault_of(s));
}

static int vault_credentials(struct nk_signer *base, char *buf, size_t n)
{
    struct nk_vault *s = vault_of(base);

    return nk_kms_credential_report(s->conn.source, s->conn.token != NULL, buf,
                                    n);
}

const struct nk_signer_ops nk_vault_ops = {
    .name = "hashivault",
    .handles = vault_handles,
    .open = vault_open,
    .describe = vault_describe,
    .sign = vault_sign,
    .free = vault_free_op,
    .stale = vault_stale,
    .credential_report = vault_credentials,
    .restart = vault_restart,
};
