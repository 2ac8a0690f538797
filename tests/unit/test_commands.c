/* Unit tests for the protocol commands (plugin/cmd_*.c) through the fake
 * backend: each test parses a request as main() does, calls nk_cmd_* and
 * checks the response JSON or the errorCode and message. Signatures in
 * responses are checked with OpenSSL against the returned leaf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cbor.h>
#include <cjson/cJSON.h>

#include "certgen.h"
#include "commands.h"
#include "common/b64.h"
#include "fake_signer.h"

#define DIGEST                                                                 \
    "sha256:"                                                                  \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define PAYLOAD                                                                \
    "{\"targetArtifact\":{\"mediaType\":"                                      \
    "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST      \
    "\",\"size\":1234}}"
#define PTYPE "application/vnd.cncf.notary.payload.v1+json"
#define JWS "application/jose+json"
#define COSE "application/cose"
#define IDENTITY "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
#define REVOCATION "SIGNATURE_VERIFIER.REVOCATION_CHECK"

/* The key specs the command tests sign with: each hash and both key
 * types, but not the RSA keys that take seconds to make (test_signing.c
 * signs with all six). */
static const enum nk_keyspec specs[] = {NK_RSA_2048, NK_EC_256, NK_EC_384,
                                        NK_EC_521};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

/* State shared by one test: the fake's PKI and a ca-certs file. */
static X509 *root;
static char *ca_file;
static char *payload_b64;

static int setup(void **state)
{
    (void)state;
    fake_reset();
    fake_leaf(&root);
    ca_file = fake_pem_file(&root, 1);
    payload_b64 =
        nk_b64_encode((const unsigned char *)PAYLOAD, strlen(PAYLOAD));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_reset();
    X509_free(root);
    unlink(ca_file);
    free(ca_file);
    free(payload_b64);
    return 0;
}

static char *fmt(const char *f, ...) NK_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = malloc(65536);

    va_start(ap, f);
    vsnprintf(s, 65536, f, ap);
    va_end(ap);
    return s;
}

/* Parses json as main() does and runs fn; the request is released. */
static int run(nk_cmd_fn fn, char *json, cJSON **resp, struct nk_err *err)
{
    struct nk_request req = {0};
    int r;

    *resp = NULL;
    if (nk_proto_parse(json, strlen(json), &req, err) != 0)
        fail_msg("request does not parse: %s: %s", err->msg, json);
    r = fn(&req, resp, err);
    nk_request_release(&req);
    free(json);
    return r;
}

/* Runs fn on json (freed) and expects the error code and a message
 * containing needle (NULL: any). */
static void fails(nk_cmd_fn fn, char *json, enum nk_errcode code,
                  const char *needle)
{
    struct nk_err err = {0};
    cJSON *resp = (cJSON *)1;

    if (run(fn, json, &resp, &err) != -1)
        fail_msg("command succeeded, want %s", nk_errcode_name(code));
    assert_null(resp);
    if (err.code != code)
        fail_msg("errorCode %s (%s), want %s", nk_errcode_name(err.code),
                 err.msg, nk_errcode_name(code));
    if (needle != NULL && strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static cJSON *ok(nk_cmd_fn fn, char *json)
{
    struct nk_err err = {0};
    cJSON *resp = NULL;

    if (run(fn, json, &resp, &err) != 0)
        fail_msg("command failed: %s %s", nk_errcode_name(err.code), err.msg);
    assert_non_null(resp);
    return resp;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsString(v))
        fail_msg("\"%s\" is not a string", name);
    return v->valuestring;
}

static unsigned char *b64(const char *s, size_t *n)
{
    struct nk_err err = {0};
    unsigned char *out = NULL;

    assert_int_equal(nk_b64_decode(s, "test", &out, n, &err), 0);
    return out;
}

static X509 *der_cert(const unsigned char *der, size_t n)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);

    assert_non_null(x);
    return x;
}

static char *cert_b64(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    char *s = nk_b64_encode(der, (size_t)n);

    OPENSSL_free(der);
    return s;
}

/* ---- get-plugin-metadata ---- */

static void test_metadata(void **state)
{
    cJSON *r;

    (void)state;
    r = ok(nk_cmd_get_plugin_metadata,
           fmt("{\"pluginConfig\":{\"mode\":\"envelope\"}}"));
    assert_string_equal(str(r, "name"), "keystore");
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(r, "capabilities"), 0)
            ->valuestring,
        "SIGNATURE_GENERATOR.ENVELOPE");
    cJSON_Delete(r);
    fails(nk_cmd_get_plugin_metadata,
          fmt("{\"pluginConfig\":{\"mode\":\"both\"}}"), NK_ERR_VALIDATION,
          "\"mode\" must be \"raw\" or \"envelope\", not \"both\"");
}

/* ---- describe-key ---- */

static void test_describe(void **state)
{
    enum nk_keyspec spec;
    size_t i;
    cJSON *r;

    (void)state;
    for (i = 0; i < N_SPECS; i++) {
        spec = specs[i];
        fake.key = spec;
        r = ok(nk_cmd_describe_key,
               fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:%d\"}",
                   (int)spec));
        assert_string_equal(str(r, "keySpec"), nk_keyspec_name(spec));
        assert_string_equal(str(r, "keyId") + 5, fake.last_id + 5);
        assert_int_equal(cJSON_GetArraySize(r), 2);
        cJSON_Delete(r);
    }
    assert_int_equal(fake.opens, fake.frees);
}

static void test_describe_errors(void **state)
{
    (void)state;
    fails(nk_cmd_describe_key, fmt("{\"keyId\":\"fake:k\"}"), NK_ERR_VALIDATION,
          "\"contractVersion\" is required");
    fails(nk_cmd_describe_key,
          fmt("{\"contractVersion\":\"1.1\",\"keyId\":\"fake:k\"}"),
          NK_ERR_CONTRACT, "\"1.1\" is not a supported");
    fails(nk_cmd_describe_key, fmt("{\"contractVersion\":\"1.0\"}"),
          NK_ERR_VALIDATION, "\"keyId\" is required");
    fails(nk_cmd_describe_key,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":[]}"), NK_ERR_VALIDATION,
          "\"keyId\" must be a string");
    fails(nk_cmd_describe_key,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"other:k\"}"),
          NK_ERR_VALIDATION, "unsupported key id");
    fake.open_err = NK_ERR_ACCESS;
    fails(nk_cmd_describe_key,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\"}"),
          NK_ERR_ACCESS, "cannot open");
    fake.open_err = NK_ERR_NONE;
    fake.describe_err = NK_ERR_THROTTLED;
    fails(nk_cmd_describe_key,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\"}"),
          NK_ERR_THROTTLED, "describe failed");
    /* every key opened is closed; the failed open left none */
    assert_int_equal(fake.opens, fake.frees + 1);
}

/* ---- generate-signature ---- */

static char *sign_req(const char *spec, const char *hash, const char *extra)
{
    return fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
               "\"keySpec\":\"%s\",\"hashAlgorithm\":\"%s\",\"payload\":\"%s\","
               "\"pluginConfig\":{\"ca-certs\":\"%s\"%s}}",
               spec, hash, payload_b64, ca_file, extra);
}

static void test_sign_every_spec(void **state)
{
    static const char *const hashes[] = {
        NULL, "SHA-256", "SHA-384", "SHA-512", "SHA-256", "SHA-384", "SHA-512"};
    enum nk_keyspec spec;
    size_t i;
    const cJSON *chain;
    unsigned char *sig, *der;
    size_t siglen, dlen;
    X509 *leaf, *top;
    cJSON *r;

    (void)state;
    for (i = 0; i < N_SPECS; i++) {
        spec = specs[i];
        fake.key = spec;
        fake_leaf(NULL);
        r = ok(nk_cmd_generate_signature,
               sign_req(nk_keyspec_name(spec), hashes[spec], ""));
        assert_string_equal(str(r, "keyId"), "fake:k");
        assert_string_equal(str(r, "signingAlgorithm"),
                            nk_keyspec_signing_alg(spec));
        chain = cJSON_GetObjectItem(r, "certificateChain");
        assert_int_equal(cJSON_GetArraySize(chain), 2);
        der = b64(cJSON_GetArrayItem(chain, 0)->valuestring, &dlen);
        leaf = der_cert(der, dlen);
        free(der);
        assert_int_equal(X509_cmp(leaf, fake.cert), 0);
        der = b64(cJSON_GetArrayItem(chain, 1)->valuestring, &dlen);
        top = der_cert(der, dlen);
        free(der);
        assert_int_equal(X509_cmp(top, root), 0);
        sig = b64(str(r, "signature"), &siglen);
        assert_true(fake_openssl_verify(leaf, spec,
                                        (const unsigned char *)PAYLOAD,
                                        strlen(PAYLOAD), sig, siglen));
        free(sig);
        X509_free(leaf);
        X509_free(top);
        cJSON_Delete(r);
    }
}

static void test_sign_errors(void **state)
{
    (void)state;
    fails(nk_cmd_generate_signature,
          fmt("{\"contractVersion\":\"2.0\",\"keyId\":\"fake:k\"}"),
          NK_ERR_CONTRACT, NULL);
    fails(nk_cmd_generate_signature,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"keySpec\":\"EC-256\",\"hashAlgorithm\":\"SHA-256\"}"),
          NK_ERR_VALIDATION, "\"payload\" is required");
    fails(nk_cmd_generate_signature,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"keySpec\":\"EC-256\",\"hashAlgorithm\":\"SHA-256\","
              "\"payload\":\"a-b_\"}"),
          NK_ERR_VALIDATION, "not valid standard padded base64");
    fails(nk_cmd_generate_signature,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"hashAlgorithm\":\"SHA-256\",\"payload\":\"YQ==\"}"),
          NK_ERR_VALIDATION, "\"keySpec\" is required");
    fails(nk_cmd_generate_signature,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"keySpec\":\"EC-256\",\"payload\":\"YQ==\"}"),
          NK_ERR_VALIDATION, "\"hashAlgorithm\" is required");
    fails(nk_cmd_generate_signature, sign_req("EC-999", "SHA-256", ""),
          NK_ERR_VALIDATION, "unsupported keySpec \"EC-999\"");
    fails(nk_cmd_generate_signature, sign_req("EC-256", "MD5", ""),
          NK_ERR_VALIDATION, "unsupported hashAlgorithm \"MD5\"");
    fails(nk_cmd_generate_signature, sign_req("RSA-2048", "SHA-256", ""),
          NK_ERR_VALIDATION,
          "keySpec \"RSA-2048\" does not match the key, which is \"EC-256\"");
    fails(nk_cmd_generate_signature, sign_req("EC-256", "SHA-384", ""),
          NK_ERR_VALIDATION,
          "hashAlgorithm \"SHA-384\" does not go with keySpec \"EC-256\" "
          "(expected \"SHA-256\")");
    /* a pre-sign rule: the chain file holds no certificate */
    fails(nk_cmd_generate_signature,
          sign_req("EC-256", "SHA-256", ",\"certificate-chain\":\"/dev/null\""),
          NK_ERR_VALIDATION, "certificate-chain");
    fake.sign_err = NK_ERR_TIMEOUT;
    fails(nk_cmd_generate_signature, sign_req("EC-256", "SHA-256", ""),
          NK_ERR_TIMEOUT, "sign failed");
    fake.sign_err = NK_ERR_NONE;
    fake.corrupt = 1;
    fails(nk_cmd_generate_signature, sign_req("EC-256", "SHA-256", ""),
          NK_ERR_GENERIC, "returned a bad signature");
    assert_int_equal(fake.stales, 1);
    fake.corrupt = 0;
    fake.open_err = NK_ERR_ACCESS;
    fails(nk_cmd_generate_signature, sign_req("EC-256", "SHA-256", ""),
          NK_ERR_ACCESS, NULL);
    assert_int_equal(fake.opens, fake.frees + 1); /* the failed open */
}

/* ---- generate-envelope ---- */

static char *env_req(const char *type, const char *extra, const char *cfg)
{
    return fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
               "\"payloadType\":\"" PTYPE "\",\"signatureEnvelopeType\":"
               "\"%s\",\"payload\":\"%s\"%s,\"pluginConfig\":{\"ca-certs\":"
               "\"%s\"%s}}",
               type, payload_b64, extra, ca_file, cfg);
}

static unsigned char *b64url(const char *s, size_t *n)
{
    struct nk_err err = {0};
    unsigned char *out = NULL;

    assert_int_equal(nk_b64url_decode(s, "test", &out, n, &err), 0);
    return out;
}

/* The JWS: payload is notation's, the protected header names the
 * algorithm, x5c[0] is the leaf, and the signature over
 * "protected.payload" verifies with OpenSSL. */
static void check_jws(const unsigned char *env, size_t n, enum nk_keyspec spec,
                      int expiry)
{
    cJSON *o = cJSON_ParseWithLength((const char *)env, n), *prot;
    const char *p = str(o, "protected"), *pl = str(o, "payload");
    unsigned char *bytes, *sig, *der;
    size_t len, siglen, dlen;
    char *input;
    X509 *leaf;

    bytes = b64url(pl, &len);
    assert_int_equal(len, strlen(PAYLOAD));
    assert_memory_equal(bytes, PAYLOAD, len);
    free(bytes);
    bytes = b64url(p, &len);
    prot = cJSON_ParseWithLength((const char *)bytes, len);
    free(bytes);
    assert_string_equal(str(prot, "alg"), nk_keyspec_jws_alg(spec));
    assert_string_equal(str(prot, "cty"), PTYPE);
    assert_true(cJSON_HasObjectItem(prot, "io.cncf.notary.expiry") == expiry);
    cJSON_Delete(prot);
    der =
        b64(cJSON_GetArrayItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(o, "header"), "x5c"), 0)
                ->valuestring,
            &dlen);
    leaf = der_cert(der, dlen);
    free(der);
    assert_int_equal(X509_cmp(leaf, fake.cert), 0);
    sig = b64url(str(o, "signature"), &siglen);
    input = fmt("%s.%s", p, pl);
    assert_true(fake_openssl_verify(leaf, spec, (unsigned char *)input,
                                    strlen(input), sig, siglen));
    free(input);
    free(sig);
    X509_free(leaf);
    cJSON_Delete(o);
}

/* Appends a CBOR byte string head and bytes. */
static size_t put_bstr(unsigned char *p, const unsigned char *b, size_t n)
{
    size_t h = 0;

    if (n < 24) {
        p[h++] = (unsigned char)(0x40 | n);
    } else if (n < 256) {
        p[h++] = 0x58;
        p[h++] = (unsigned char)n;
    } else {
        p[h++] = 0x59;
        p[h++] = (unsigned char)(n >> 8);
        p[h++] = (unsigned char)n;
    }
    memcpy(p + h, b, n);
    return h + n;
}

/* The COSE_Sign1: tag 18, the payload is notation's, x5chain (33)[0] is
 * the leaf, and the signature over the Sig_structure (written here by
 * hand) verifies with OpenSSL. */
static void check_cose(const unsigned char *env, size_t n, enum nk_keyspec spec)
{
    struct cbor_load_result res;
    cbor_item_t *arr, *prot, *unprot, *pl, *sig, *x5;
    unsigned char *tbs;
    struct cbor_pair *pairs;
    size_t i, t = 0;
    X509 *leaf = NULL;

    assert_int_equal(env[0], 0xd2);
    arr = cbor_load(env + 1, n - 1, &res);
    assert_non_null(arr);
    assert_int_equal(cbor_array_size(arr), 4);
    prot = cbor_array_handle(arr)[0];
    unprot = cbor_array_handle(arr)[1];
    pl = cbor_array_handle(arr)[2];
    sig = cbor_array_handle(arr)[3];
    assert_int_equal(cbor_bytestring_length(pl), strlen(PAYLOAD));
    assert_memory_equal(cbor_bytestring_handle(pl), PAYLOAD, strlen(PAYLOAD));
    pairs = cbor_map_handle(unprot);
    for (i = 0; i < cbor_map_size(unprot); i++) {
        if (!cbor_isa_uint(pairs[i].key) || cbor_get_int(pairs[i].key) != 33)
            continue;
        x5 = cbor_array_handle(pairs[i].value)[0];
        leaf = der_cert(cbor_bytestring_handle(x5), cbor_bytestring_length(x5));
    }
    assert_non_null(leaf);
    assert_int_equal(X509_cmp(leaf, fake.cert), 0);
    tbs = malloc(64 + cbor_bytestring_length(prot) + strlen(PAYLOAD));
    tbs[t++] = 0x84;
    tbs[t++] = 0x6a;
    memcpy(tbs + t, "Signature1", 10);
    t += 10;
    t += put_bstr(tbs + t, cbor_bytestring_handle(prot),
                  cbor_bytestring_length(prot));
    tbs[t++] = 0x40;
    t += put_bstr(tbs + t, (const unsigned char *)PAYLOAD, strlen(PAYLOAD));
    assert_true(fake_openssl_verify(leaf, spec, tbs, t,
                                    cbor_bytestring_handle(sig),
                                    cbor_bytestring_length(sig)));
    free(tbs);
    X509_free(leaf);
    cbor_decref(&arr);
}

static void test_envelope_every_spec(void **state)
{
    enum nk_keyspec spec;
    size_t i;
    unsigned char *env;
    size_t n;
    cJSON *r;
    int cose;

    (void)state;
    for (i = 0; i < N_SPECS; i++) {
        spec = specs[i];
        fake.key = spec;
        fake_leaf(NULL);
        for (cose = 0; cose <= 1; cose++) {
            r = ok(nk_cmd_generate_envelope,
                   env_req(cose ? COSE : JWS,
                           spec % 2 ? ",\"expiryDurationInSeconds\":3600" : "",
                           ",\"mode\":\"envelope\","
                           "\"verification-plugin\":\"false\""));
            assert_string_equal(str(r, "signatureEnvelopeType"),
                                cose ? COSE : JWS);
            assert_int_equal(cJSON_GetArraySize(r), 2);
            env = b64(str(r, "signatureEnvelope"), &n);
            if (cose)
                check_cose(env, n, spec);
            else
                check_jws(env, n, spec, spec % 2);
            free(env);
            cJSON_Delete(r);
        }
    }
    assert_int_equal(fake.opens, fake.frees);
}

static void test_envelope_errors(void **state)
{
    (void)state;
    fails(nk_cmd_generate_envelope, env_req(JWS, "", ",\"mode\":\"both\""),
          NK_ERR_VALIDATION, "\"mode\" must be \"raw\" or \"envelope\"");
    fails(nk_cmd_generate_envelope,
          fmt("{\"contractVersion\":\"0.9\",\"keyId\":\"fake:k\"}"),
          NK_ERR_CONTRACT, NULL);
    fails(nk_cmd_generate_envelope,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"signatureEnvelopeType\":\"" JWS "\",\"payload\":\"YQ==\"}"),
          NK_ERR_VALIDATION, "\"payloadType\" is required");
    fails(nk_cmd_generate_envelope,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"payloadType\":\"text/plain\",\"signatureEnvelopeType\":"
              "\"" JWS "\",\"payload\":\"YQ==\"}"),
          NK_ERR_VALIDATION, "unsupported payloadType \"text/plain\"");
    fails(nk_cmd_generate_envelope, env_req("application/pgp", "", ""),
          NK_ERR_VALIDATION,
          "unsupported signatureEnvelopeType \"application/pgp\"");
    fails(nk_cmd_generate_envelope,
          fmt("{\"contractVersion\":\"1.0\",\"keyId\":\"fake:k\","
              "\"payloadType\":\"" PTYPE "\",\"signatureEnvelopeType\":"
              "\"" JWS "\",\"payload\":\"e30=\"}"),
          NK_ERR_VALIDATION, "targetArtifact");
    fails(nk_cmd_generate_envelope,
          env_req(JWS, ",\"expiryDurationInSeconds\":0", ""), NK_ERR_VALIDATION,
          "\"expiryDurationInSeconds\" must be a positive");
    fails(nk_cmd_generate_envelope,
          env_req(JWS, ",\"expiryDurationInSeconds\":1.5", ""),
          NK_ERR_VALIDATION, "expiryDurationInSeconds");
    fails(nk_cmd_generate_envelope,
          env_req(JWS, ",\"expiryDurationInSeconds\":\"60\"", ""),
          NK_ERR_VALIDATION, "expiryDurationInSeconds");
    fails(nk_cmd_generate_envelope,
          env_req(JWS, ",\"expiryDurationInSeconds\":1e12", ""),
          NK_ERR_VALIDATION, "at most 3155760000");
    fails(nk_cmd_generate_envelope,
          env_req(COSE, "", ",\"verification-plugin\":\"perhaps\""),
          NK_ERR_VALIDATION, "verification-plugin");
    fails(nk_cmd_generate_envelope,
          env_req(COSE, "", ",\"timestamp-url\":\"ftp://tsa\""),
          NK_ERR_VALIDATION, "timestamp");
    /* nothing was opened for a bad request */
    assert_int_equal(fake.opens, 0);
    fails(nk_cmd_generate_envelope,
          env_req(COSE, "", ",\"certificate\":\"/nonexistent\""),
          NK_ERR_VALIDATION, "certificate");
    fake.sign_err = NK_ERR_ACCESS;
    fails(nk_cmd_generate_envelope,
          env_req(JWS, ",\"expiryDurationInSeconds\":null", ""), NK_ERR_ACCESS,
          "sign failed");
    fake.sign_err = NK_ERR_NONE;
    fake.open_err = NK_ERR_TIMEOUT;
    fails(nk_cmd_generate_envelope, env_req(JWS, "", ""), NK_ERR_TIMEOUT, NULL);
    /* a TSA that refuses the connection */
    fake.open_err = NK_ERR_NONE;
    {
        char *cfg = fmt(",\"timestamp-url\":\"http://127.0.0.1:1/\","
                        "\"timestamp-root-cert\":\"%s\"",
                        ca_file);

        fails(nk_cmd_generate_envelope, env_req(JWS, "", cfg), NK_ERR_TIMEOUT,
              "cannot timestamp the signature: timestamp authority");
        free(cfg);
    }
    assert_int_equal(fake.opens, fake.frees + 1);
}

/* ---- verify-signature ---- */

struct vchain {
    X509 *root, *leaf;
    char *root_b64, *leaf_b64;
};

static void vchain_new(struct vchain *c)
{
    EVP_PKEY *ca = fake_ca_key();

    c->root = tg_cert("Verify Root", ca, NULL, NULL, -TG_DAY, TG_DAY, TG_CA_BC,
                      TG_CA_KU, NULL, NULL);
    c->leaf = tg_cert("Verify Leaf", fake_key(NK_EC_256), c->root, ca, -TG_DAY,
                      TG_DAY, NULL, TG_LEAF_KU, "codeSigning", NULL);
    c->root_b64 = cert_b64(c->root);
    c->leaf_b64 = cert_b64(c->leaf);
}

static void vchain_free(struct vchain *c)
{
    X509_free(c->root);
    X509_free(c->leaf);
    free(c->root_b64);
    free(c->leaf_b64);
}

/* A verify-signature request: crit is the criticalAttributes' extra
 * members, rest what follows certificateChain in the signature, policy
 * the trustPolicy members. */
static char *vreq(const struct vchain *c, const char *scheme, const char *crit,
                  const char *rest, const char *policy)
{
    return fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
               "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
               "\"signingScheme\":\"%s\"%s},\"certificateChain\":"
               "[\"%s\",\"%s\"]%s},\"trustPolicy\":{%s},"
               "\"pluginConfig\":{\"crl-cache\":\"false\"}}",
               scheme, crit, c->leaf_b64, c->root_b64, rest, policy);
}

static const cJSON *result(const cJSON *r, const char *cap, int success,
                           const char *needle)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItem(r, "verificationResults"), cap);
    const char *reason;

    assert_non_null(v);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(v, "success")), success);
    reason = str(v, "reason");
    if (needle != NULL && strstr(reason, needle) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", reason, needle);
    return v;
}

static void test_verify(void **state)
{
    struct vchain c;
    cJSON *r;

    (void)state;
    vchain_new(&c);
    /* each capability once, in request order; unknown ones fail */
    r = ok(nk_cmd_verify_signature,
           vreq(&c, "notary.x509", "",
                ",\"unprocessedAttributes\":[\"com.example.x\"]",
                "\"trustedIdentities\":[\"x509.subject: C=US, ST=WA, "
                "O=Test, CN=Verify Leaf\"],\"signatureVerification\":"
                "[\"" IDENTITY "\",\"" REVOCATION "\",\"com.example.cap\","
                "\"" IDENTITY "\"]"));
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(r, "verificationResults")), 3);
    assert_string_equal(
        cJSON_GetObjectItem(r, "verificationResults")->child->string, IDENTITY);
    result(r, IDENTITY, 1, NULL);
    result(r, REVOCATION, 1, NULL);
    result(r, "com.example.cap", 0, "is not supported by this plugin");
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(r, "processedAttributes")), 0);
    cJSON_Delete(r);

    /* another identity; an expired signature is noted, notation fails it */
    r = ok(nk_cmd_verify_signature,
           vreq(&c, "notary.x509.signingAuthority",
                ",\"expiry\":\"2001-02-03T04:05:06Z\","
                "\"authenticSigningTime\":\"2000-01-01T00:00:00+01:00\"",
                ",\"unprocessedAttributes\":null",
                "\"trustedIdentities\":[\"x509.subject: CN=Someone Else\"],"
                "\"signatureVerification\":[\"" IDENTITY "\"]"));
    result(r, IDENTITY, 0,
           "(note: the signature expired on 2001-02-03T04:05:06Z)");
    cJSON_Delete(r);
    vchain_free(&c);
}

static void test_verify_errors(void **state)
{
    struct vchain c;
    const char *pol = "\"signatureVerification\":[\"" IDENTITY "\"]";

    (void)state;
    vchain_new(&c);
    fails(nk_cmd_verify_signature, fmt("{\"contractVersion\":\"1.0\"}"),
          NK_ERR_VALIDATION, "\"signature\" is required and must be an object");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{}}"),
          NK_ERR_VALIDATION,
          "\"criticalAttributes\" is required and must be an object");
    fails(nk_cmd_verify_signature, vreq(&c, "notary.cose", "", "", pol),
          NK_ERR_VALIDATION, "unsupported signingScheme \"notary.cose\"");
    fails(nk_cmd_verify_signature,
          vreq(&c, "notary.x509", ",\"expiry\":\"tomorrow\"", "", pol),
          NK_ERR_VALIDATION, "\"expiry\"");
    fails(nk_cmd_verify_signature,
          vreq(&c, "notary.x509", ",\"authenticSigningTime\":5", "", pol),
          NK_ERR_VALIDATION, "\"authenticSigningTime\" must be a string");
    fails(nk_cmd_verify_signature,
          vreq(&c, "notary.x509", "", ",\"unprocessedAttributes\":{}", pol),
          NK_ERR_VALIDATION, "\"unprocessedAttributes\" must be an array");
    fails(nk_cmd_verify_signature,
          vreq(&c, "notary.x509", "", ",\"unprocessedAttributes\":[1]", pol),
          NK_ERR_VALIDATION, "\"unprocessedAttributes\" must hold strings");
    fails(nk_cmd_verify_signature, vreq(&c, "notary.x509", "", "", ""),
          NK_ERR_VALIDATION,
          "\"signatureVerification\" must be a non-empty array");
    fails(nk_cmd_verify_signature,
          vreq(&c, "notary.x509", "", "",
               "\"signatureVerification\":[\"" IDENTITY "\"],"
               "\"trustedIdentities\":\"*\""),
          NK_ERR_VALIDATION, "\"trustedIdentities\" must be an array");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
              "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
              "\"signingScheme\":\"notary.x509\"},\"certificateChain\":[]},"
              "\"trustPolicy\":{%s}}",
              pol),
          NK_ERR_VALIDATION, "\"certificateChain\" must be a non-empty array");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
              "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
              "\"signingScheme\":\"notary.x509\"},\"certificateChain\":"
              "[\"%s\",\"AAAA\"]},\"trustPolicy\":{%s}}",
              c.leaf_b64, pol),
          NK_ERR_VALIDATION,
          "certificateChain[1] is not a DER X.509 certificate");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
              "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
              "\"signingScheme\":\"notary.x509\"},\"certificateChain\":"
              "[\"%s\",\"@@\"]},\"trustPolicy\":{%s}}",
              c.leaf_b64, pol),
          NK_ERR_VALIDATION, "\"certificateChain\" is not valid");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
              "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
              "\"signingScheme\":\"notary.x509\"},\"certificateChain\":"
              "[\"%s\"]}}",
              c.leaf_b64),
          NK_ERR_VALIDATION, "\"trustPolicy\" is required");
    fails(nk_cmd_verify_signature,
          fmt("{\"contractVersion\":\"1.0\",\"signature\":{"
              "\"criticalAttributes\":{\"contentType\":\"" PTYPE "\","
              "\"signingScheme\":\"notary.x509\"},\"certificateChain\":"
              "[\"%s\"]},\"trustPolicy\":{%s},\"pluginConfig\":"
              "{\"ocsp-timeout\":\"soon\"}}",
              c.leaf_b64, pol),
          NK_ERR_VALIDATION, "ocsp-timeout");
    vchain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_every_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_envelope_every_spec, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_errors, setup, teardown),
    };

    return cmocka_run_group_tests_name("commands", tests, NULL, NULL);
}
