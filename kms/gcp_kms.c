/* The gcpkms:// signer: Cloud KMS getPublicKey (cached on disk, checked by
 * CRC-32C) and asymmetricSign of a local digest, with CRC-32C sent and
 * checked both ways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/pem.h>

#include "common/b64.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "crc32c.h"
#include "gcp_call.h"
#include "gcp_creds.h"
#include "gcp_uri.h"
#include "kms.h"
#include "kms_key.h"
#include "kms_util.h"

#define SCHEME "gcpkms://"
#define DEFAULT_ENDPOINT "https://cloudkms.googleapis.com"
#define INTEGRITY_TRIES 2 /* Google: on a CRC mismatch, retry a little */

struct nk_gcp {
    struct nk_signer base; /* ops = &nk_gcpkms_ops */
    const struct nk_config *cfg;
    struct nk_gcp_key kv; /* the key version the id names */
    char *endpoint;       /* scheme://host[:port][/path], no trailing '/' */
    struct nk_kms_net net;
    struct nk_gcp_creds creds; /* fetched on the first call */
    struct nk_kms_key key;     /* described key (key.d.id = version name) */
};

static struct nk_gcp *gcp_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_gcp);
}

static int gcp_handles(const char *key_id)
{
    return strncmp(key_id, SCHEME, strlen(SCHEME)) == 0;
}

static void gcp_free(struct nk_gcp *s)
{
    if (s == NULL)
        return;
    nk_gcp_key_release(&s->kv);
    free(s->endpoint);
    nk_kms_net_release(&s->net);
    nk_gcp_creds_release(&s->creds);
    nk_kms_key_release(&s->key);
    free(s);
}

/* pluginConfig gcp-kms-endpoint, else gcloud's endpoint override variable,
 * else Google's: private endpoints (Private Service Connect) and tests. */
static int pick_endpoint(struct nk_gcp *s, struct nk_err *err)
{
    static const char *const envs[] = {
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS", NULL};
    const char *v = nk_config_str(s->cfg, "gcp-kms-endpoint");
    size_t n;

    if (v == NULL)
        v = nk_kms_getenv(envs);
    if (v == NULL)
        v = DEFAULT_ENDPOINT;
    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "Google Cloud KMS endpoint must be an https:// "
                          "URL (http:// for loopback only), not \"%.100s\"",
                          v);
    n = strlen(v);
    while (n > 0 && v[n - 1] == '/')
        n--;
    /* gcloud's override may end in the API version; we add it. */
    if (n >= 3 && strncmp(v + n - 3, "/v1", 3) == 0)
        n -= 3;
    s->endpoint = nk_xstrndup(v, n);
    return 0;
}

static int gcp_open(const char *key_id, const struct nk_config *cfg,
                    struct nk_signer **out, struct nk_err *err)
{
    struct nk_gcp *s = nk_xcalloc(1, sizeof(*s));
    char shown[512];
    int ret = -1;

    *out = NULL;
    s->base.ops = &nk_gcpkms_ops;
    s->cfg = cfg;
    if (nk_gcp_uri_parse(key_id, &s->kv, err) != 0 ||
        nk_kms_net_init(&s->net, cfg, NULL, err) != 0 ||
        pick_endpoint(s, err) != 0)
        goto out;
    if (nk_config_str(cfg, "key-version") != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pluginConfig \"key-version\" "
                   "does not apply to Google Cloud KMS keys: the key id "
                   "names the version (/cryptoKeyVersions/<n>)");
        goto out;
    }
    /* Logged and stored in the cache file: no credentials from the URL. */
    nk_kms_key_init(
        &s->key, cfg,
        nk_xasprintf("gcpkms\n%s\n%s",
                     nk_http_url_loggable(s->endpoint, shown, sizeof(shown)),
                     s->kv.name));
    *out = &s->base;
    s = NULL;
    ret = 0;
out:
    gcp_free(s);
    return ret;
}

/* One Cloud KMS call on the key version (suffix "/publicKey",
 * ":asymmetricSign" or ""). A token from the cache that Google refuses
 * (401) is dropped and the call made once more with a fresh one. */
static int call(struct nk_gcp *s, struct nk_gcp_req *r, const char *suffix,
                cJSON **out, struct nk_err *err)
{
    char *url = nk_xasprintf("%s/v1/%s%s", s->endpoint, s->kv.name, suffix);
    int attempt, ret = -1;

    r->net = &s->net;
    r->url = url;
    for (attempt = 0; attempt < 2; attempt++) {
        if (s->creds.token == NULL &&
            nk_gcp_creds_get(&s->creds, s->cfg, &s->net, err) != 0)
            break;
        r->token = s->creds.token;
        r->quota_project = s->creds.quota_project;
        r->caller = s->creds.source;
        ret = nk_gcp_call(r, out, err);
        if (ret == 0 || r->status != 401 || !nk_gcp_creds_refused(&s->creds) ||
            attempt > 0)
            break;
        nk_info("cached Google access token refused: fetching a new one");
        nk_err_clear(err);
    }
    free(url);
    return ret;
}

/* The fix for a version in state, or NULL when it can sign. */
static const char *state_fix(const char *state)
{
    if (strcmp(state, "ENABLED") == 0)
        return NULL;
    if (strcmp(state, "DISABLED") == 0)
        return "enable it (gcloud kms keys versions enable)";
    if (strcmp(state, "DESTROY_SCHEDULED") == 0)
        return "restore it (gcloud kms keys versions restore) and enable it, "
               "or sign with another version";
    if (strcmp(state, "DESTROYED") == 0)
        return "its key material is gone: sign with another version and a "
               "certificate for that one";
    if (strncmp(state, "PENDING_", 8) == 0)
        return "wait until it is ENABLED";
    return "sign with an ENABLED version";
}

static int bad_alg(const struct nk_gcp *s, const char *alg, const char *why,
                   struct nk_err *err)
{
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "Google Cloud KMS key version \"%s\": algorithm "
                      "%.48s cannot sign for notation (%s); create a key "
                      "version with RSA_SIGN_PSS_2048_SHA256, "
                      "RSA_SIGN_PSS_4096_SHA512, EC_SIGN_P256_SHA256 or "
                      "EC_SIGN_P384_SHA384",
                      s->kv.name, alg, why);
}

/* After FAILED_PRECONDITION: reads the version (state, algorithm) to say
 * what is wrong and how to fix it. Best effort: a caller without
 * cloudkms.cryptoKeyVersions.get keeps Google's own message. */
static void explain(struct nk_gcp *s, struct nk_err *err)
{
    struct nk_gcp_req r;
    struct nk_err e2 = {NK_ERR_NONE, ""};
    const char *state, *alg, *fix, *why;
    cJSON *v = NULL;

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.what = "Google Cloud KMS cryptoKeyVersions.get";
    r.permission = "cloudkms.cryptoKeyVersions.get";
    if (call(s, &r, "", &v, &e2) != 0) {
        nk_info("cannot read the key version's state: %s", e2.msg);
        return;
    }
    state = nk_kms_jstr(v, "state");
    alg = nk_kms_jstr(v, "algorithm");
    fix = state != NULL ? state_fix(state) : NULL;
    if (fix != NULL) {
        nk_err_clear(err);
        nk_err_set(err, NK_ERR_VALIDATION,
                   "Google Cloud KMS key version \"%s\" is %.32s, not "
                   "ENABLED: %s",
                   s->kv.name, state, fix);
    } else if (alg != NULL && nk_gcp_alg_spec(alg, &why) == NK_KEYSPEC_NONE) {
        nk_err_clear(err);
        bad_alg(s, alg, why, err);
    }
    cJSON_Delete(v);
}

/* The integrity field (a decimal string, Int64Value) named field equals
 * the CRC-32C of p. */
static int crc_ok(const cJSON *resp, const char *field, const void *p, size_t n)
{
    const char *v = nk_kms_jstr(resp, field);
    char want[16];

    snprintf(want, sizeof(want), "%lu", (unsigned long)nk_crc32c(p, n));
    return v != NULL && strcmp(v, want) == 0;
}

static int same_name(const struct nk_gcp *s, const cJSON *resp,
                     const char *what, struct nk_err *err)
{
    const char *name = nk_kms_jstr(resp, "name");

    if (name != NULL && strcmp(name, s->kv.name) == 0)
        return 0;
    return nk_err_set(err, NK_ERR_GENERIC,
                      "%s: the answer is for \"%.150s\", not the key version "
                      "asked for",
                      what, name ? name : "?");
}

static int parse_public_key(struct nk_gcp *s, const cJSON *resp,
                            struct nk_err *err)
{
    const char *pem = nk_kms_jstr(resp, "pem");
    const char *alg = nk_kms_jstr(resp, "algorithm"), *why;
    enum nk_keyspec want = nk_gcp_alg_spec(alg, &why), actual;
    BIO *bio;

    if (want == NK_KEYSPEC_NONE)
        return bad_alg(s, alg ? alg : "?", why, err);
    bio = pem != NULL ? BIO_new_mem_buf(pem, -1) : NULL;
    s->key.d.pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (s->key.d.pub == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "Google Cloud KMS "
                          "getPublicKey: no usable pem in the answer");
    if (nk_keyspec_of_pkey(s->key.d.pub, &actual, err) != 0)
        return -1;
    if (actual != want)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "Google Cloud KMS key version "
                          "\"%s\" says %s but its public key is %s",
                          s->kv.name, alg, nk_keyspec_name(actual));
    s->key.d.spec = actual;
    s->key.d.id = nk_xstrdup(s->kv.name);
    return 0;
}

/* getPublicKey; the PEM is taken only when its CRC-32C matches. */
static int fetch(struct nk_signer *base, struct nk_err *err)
{
    struct nk_gcp *s = gcp_of(base);
    const char *what = "Google Cloud KMS getPublicKey";
    struct nk_gcp_req r;
    cJSON *resp = NULL;
    const char *pem;
    int i, ret = -1;

    for (i = 1; i <= INTEGRITY_TRIES; i++) {
        memset(&r, 0, sizeof(r));
        r.method = "GET";
        r.what = what;
        r.permission = "cloudkms.cryptoKeyVersions.viewPublicKey";
        cJSON_Delete(resp);
        resp = NULL;
        if (call(s, &r, "/publicKey", &resp, err) != 0) {
            if (strcmp(r.gstatus, "FAILED_PRECONDITION") == 0)
                explain(s, err);
            goto out;
        }
        pem = nk_kms_jstr(resp, "pem");
        if (same_name(s, resp, what, err) != 0)
            goto out;
        if (pem != NULL && crc_ok(resp, "pemCrc32c", pem, strlen(pem)))
            break;
        nk_info("%s: pemCrc32c does not match the pem (try %d)", what, i);
        if (i == INTEGRITY_TRIES) {
            nk_err_set(err, NK_ERR_GENERIC,
                       "%s: the pem's CRC-32C does not "
                       "match pemCrc32c in %d answers: the answer was "
                       "damaged on the way",
                       what, i);
            goto out;
        }
    }
    if (parse_public_key(s, resp, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(resp);
    return ret;
}

static int gcp_describe(struct nk_signer *base, struct nk_key_info *info,
                        struct nk_err *err)
{
    struct nk_gcp *s = gcp_of(base);

    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0)
        return -1;
    return nk_kms_key_info(&s->key, info, err);
}

static cJSON *sign_body(enum nk_keyspec spec, const unsigned char *digest,
                        size_t dlen)
{
    cJSON *b = cJSON_CreateObject(), *d = cJSON_CreateObject();
    char *b64 = nk_b64_encode(digest, dlen), crc[16];

    cJSON_AddStringToObject(d, nk_gcp_digest_field(spec), b64);
    cJSON_AddItemToObject(b, "digest", d);
    /* Int64Value: a decimal string. */
    snprintf(crc, sizeof(crc), "%lu", (unsigned long)nk_crc32c(digest, dlen));
    cJSON_AddStringToObject(b, "digestCrc32c", crc);
    free(b64);
    return b;
}

/* Checks an asymmetricSign answer: for this version, the digest's CRC
 * verified by Google, the signature's CRC ours. 1 for a damaged answer
 * worth asking again. */
static int check_answer(struct nk_gcp *s, const cJSON *resp, const char *what,
                        struct nk_err *err)
{
    const cJSON *vd =
        cJSON_GetObjectItemCaseSensitive(resp, "verifiedDigestCrc32c");
    const char *b64 = nk_kms_jstr(resp, "signature");
    unsigned char *raw = NULL;
    size_t n = 0;
    int ok;

    if (same_name(s, resp, what, err) != 0)
        return -1;
    if (!cJSON_IsTrue(vd)) {
        nk_info("%s: verifiedDigestCrc32c is not true", what);
        return 1;
    }
    if (b64 == NULL || nk_b64_decode(b64, "signature", &raw, &n, err) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no signature in the "
                          "answer",
                          what);
    ok = crc_ok(resp, "signatureCrc32c", raw, n);
    free(raw);
    if (!ok)
        nk_info("%s: signatureCrc32c does not match the signature", what);
    return ok ? 0 : 1;
}

static int sign_once(struct nk_gcp *s, const cJSON *body, const char *what,
                     cJSON **resp, struct nk_err *err)
{
    struct nk_gcp_req r;

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.body = body;
    r.what = what;
    r.permission = "cloudkms.cryptoKeyVersions.useToSign";
    if (call(s, &r, ":asymmetricSign", resp, err) == 0)
        return 0;
    if (strcmp(r.gstatus, "FAILED_PRECONDITION") == 0 || r.status == 404) {
        /* The cached description no longer holds: describe afresh next
         * time, and say why now. */
        nk_kms_key_stale(&s->key);
        if (r.status != 404)
            explain(s, err);
    }
    return -1;
}

static int gcp_sign(struct nk_signer *base, enum nk_keyspec spec,
                    const unsigned char *digest, size_t dlen,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    struct nk_gcp *s = gcp_of(base);
    const char *what = "Google Cloud KMS asymmetricSign";
    cJSON *body = NULL, *resp = NULL;
    char name[300];
    int i, r, ret = -1;

    *sig = NULL;
    *siglen = 0;
    snprintf(name, sizeof(name), "Google Cloud KMS key version \"%s\"",
             s->kv.name);
    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_check_spec(
            &s->key, nk_gcp_alg_of(spec) != NULL ? spec : NK_KEYSPEC_NONE, name,
            err) != 0)
        goto out;
    body = sign_body(spec, digest, dlen);
    for (i = 1; i <= INTEGRITY_TRIES; i++) {
        cJSON_Delete(resp);
        resp = NULL;
        if (sign_once(s, body, what, &resp, err) != 0)
            goto out;
        r = check_answer(s, resp, what, err);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        if (i == INTEGRITY_TRIES) {
            nk_err_set(err, NK_ERR_GENERIC,
                       "%s: the CRC-32C integrity "
                       "check failed in %d answers (digest not verified by "
                       "Google, or the signature damaged on the way)",
                       what, i);
            goto out;
        }
    }
    if (nk_kms_sig_decode(spec, nk_kms_jstr(resp, "signature"), what, sig,
                          siglen, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0)
        nk_signer_sig_clear(sig, siglen);
    cJSON_Delete(body);
    cJSON_Delete(resp);
    return ret;
}

/* A signature failed its check against the certificate: forget the
 * cached description so the next run fetches the key again. */
static void gcp_stale(struct nk_signer *s)
{
    nk_kms_key_stale(&gcp_of(s)->key);
}

static int gcp_credentials(struct nk_signer *s, char *buf, size_t n)
{
    return nk_kms_credential_report(gcp_of(s)->creds.source, 1, buf, n);
}

static void gcp_free_op(struct nk_signer *s)
{
    if (s != NULL)
        gcp_free(gcp_of(s));
}

const struct nk_signer_ops nk_gcpkms_ops = {
    .name = "gcpkms",
    .handles = gcp_handles,
    .open = gcp_open,
    .describe = gcp_describe,
    .sign = gcp_sign,
    .free = gcp_free_op,
    .stale = gcp_stale,
    .credential_report = gcp_credentials,
};
