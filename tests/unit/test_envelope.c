/* Unit tests for generate-envelope's pieces: payload checks, header
 * decisions, and the JWS and COSE encoders signing through the fake backend
 * (fake_signer.c), each signature checked with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cbor.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/b64.h"
#include "envelope/attrs.h"
#include "envelope/cose.h"
#include "envelope/jws.h"
#include "envelope/payload.h"
#include "fake_signer.h"
#include "signing.h"

#define DIGEST                                                                 \
    "sha256:"                                                                  \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define PAYLOAD                                                                \
    "{\"targetArtifact\":{\"mediaType\":"                                      \
    "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST      \
    "\",\"size\":1234,\"annotations\":{\"a\":\"b\"}}}"

/* ---- a key of the fake backend, with a one-certificate chain ---- */

struct fixture {
    struct nk_signing sg;
    struct nk_envelope e;
};

static void setup_key(struct fixture *f, enum nk_keyspec spec)
{
    struct nk_config cfg;
    struct nk_err err = {0};

    memset(f, 0, sizeof(*f));
    fake_reset();
    fake.key = spec;
    fake_leaf(NULL);
    nk_config_init(&cfg);
    assert_int_equal(nk_signing_open(&f->sg, "fake:envelope", &cfg, &err), 0);
    assert_int_equal(f->sg.info.spec, spec);
    f->sg.chain = sk_X509_new_null();
    X509_up_ref(fake.cert);
    sk_X509_push(f->sg.chain, fake.cert);
}

static void teardown_key(struct fixture *f)
{
    nk_attrs_release(&f->e);
    nk_signing_release(&f->sg);
    fake_reset();
}

/* Decide, encode, sign: what cmd_envelope.c does. */
static void sign_with(struct fixture *f, int cose, long long expiry,
                      int vplugin)
{
    struct nk_err err = {0};

    nk_attrs_decide(&f->e, f->sg.info.spec, 1795000000, expiry, vplugin);
    f->e.payload = (const unsigned char *)PAYLOAD;
    f->e.payload_len = strlen(PAYLOAD);
    f->e.chain = f->sg.chain;
    assert_int_equal((cose ? nk_cose_tbs : nk_jws_tbs)(&f->e, &err), 0);
    assert_int_equal(nk_signing_sign(&f->sg, f->e.tbs, f->e.tbs_len, &f->e.sig,
                                     &f->e.sig_len, &err),
                     0);
}

/* The signature checked by OpenSSL alone against the leaf. */
static void verify_tbs(struct fixture *f, const unsigned char *tbs, size_t n,
                       const unsigned char *sig, size_t siglen)
{
    assert_true(fake_openssl_verify(sk_X509_value(f->sg.chain, 0),
                                    f->sg.info.spec, tbs, n, sig, siglen));
}

/* ---- payload ---- */

static void expect_payload(const char *p, int ok, const char *needle)
{
    struct nk_err err = {0};
    int r = nk_payload_check((const unsigned char *)p, strlen(p), &err);

    assert_int_equal(r, ok ? 0 : -1);
    if (!ok) {
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        if (strstr(err.msg, needle) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    }
}

static void test_payload_good(void **state)
{
    (void)state;
    expect_payload(PAYLOAD, 1, NULL);
    expect_payload("{\"targetArtifact\":{\"mediaType\":\"application/"
                   "octet-stream\",\"digest\":\"sha512:" DIGEST "\"}}",
                   0, "digest");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":0,\"artifactType\":\"x/y\","
        "\"urls\":[],\"data\":\"\",\"platform\":{}}}",
        1, NULL);
}

static void test_payload_bad(void **state)
{
    (void)state;
    expect_payload("not json", 0, "not a JSON object");
    expect_payload("[1]", 0, "not a JSON object");
    expect_payload("{}", 0, "targetArtifact");
    expect_payload("{\"targetArtifact\":{},\"x\":1}", 0, "unknown member");
    expect_payload("{\"targetArtifact\":1}", 0, "must be an object");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"ab\",\"digest\":\"" DIGEST
        "\",\"size\":1}}",
        0, "mediaType");
    expect_payload("{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":"
                   "\"sha256:abc\",\"size\":1}}",
                   0, "digest");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":-1}}",
        0, "size");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":1.5}}",
        0, "size");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":1,\"foo\":1}}",
        0, "unknown member");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":1,\"size\":2}}",
        0, "duplicate");
    expect_payload(
        "{\"targetArtifact\":{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
        "\",\"size\":1,\"annotations\":{\"a\":1}}}",
        0, "annotation");
}

/* ---- header decisions ---- */

static void test_attrs_crit_order(void **state)
{
    struct nk_envelope e;

    (void)state;
    nk_attrs_decide(&e, NK_EC_256, 1000, 0, 0);
    assert_int_equal(e.n_crit, 1);
    assert_string_equal(e.crit[0], NK_HDR_SCHEME);
    assert_null(nk_attrs_find(&e, NK_HDR_EXPIRY));
    assert_null(nk_attrs_find(&e, NK_HDR_VPLUGIN));
    assert_int_equal(nk_attrs_find(&e, NK_HDR_TIME)->time, 1000);
    assert_false(nk_attrs_find(&e, NK_HDR_TIME)->critical);

    nk_attrs_decide(&e, NK_EC_256, 1000, 60, 1);
    assert_int_equal(e.n_crit, 4);
    assert_string_equal(e.crit[0], NK_HDR_SCHEME);
    assert_string_equal(e.crit[1], NK_HDR_VPLUGIN);
    assert_string_equal(e.crit[2], NK_HDR_VPLUGIN_MIN);
    assert_string_equal(e.crit[3], NK_HDR_EXPIRY);
    assert_int_equal(nk_attrs_find(&e, NK_HDR_EXPIRY)->time, 1060);
    assert_string_equal(nk_attrs_find(&e, NK_HDR_VPLUGIN)->text, "keystore");
    assert_string_equal(nk_attrs_find(&e, NK_HDR_VPLUGIN_MIN)->text,
                        NK_VERIFIER_MIN_VERSION);
    assert_string_equal(e.agent, "notation-keystore/" NK_VERSION);
}

static void test_attrs_rfc3339(void **state)
{
    char buf[32];

    (void)state;
    nk_attrs_rfc3339(1795000000, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-18T11:06:40Z");
}

/* ---- JWS ---- */

static char *b64url_text(const char *s)
{
    struct nk_err err = {0};
    unsigned char *out = NULL;
    size_t n = 0;

    assert_int_equal(nk_b64url_decode(s, "test", &out, &n, &err), 0);
    return (char *)out;
}

static void check_jws(enum nk_keyspec spec, long long expiry, int vplugin)
{
    struct fixture f;
    struct nk_err err = {0};
    unsigned char *out = NULL;
    size_t outlen = 0;
    cJSON *o, *c;
    char *prot, *want;
    int n = 0;

    setup_key(&f, spec);
    sign_with(&f, 0, expiry, vplugin);
    assert_int_equal(nk_jws_build(&f.e, &out, &outlen, &err), 0);
    o = cJSON_ParseWithLength((const char *)out, outlen);
    assert_non_null(o);
    for (c = o->child; c != NULL; c = c->next)
        n++;
    assert_int_equal(n, 4);
    prot = b64url_text(cJSON_GetObjectItem(o, "protected")->valuestring);
    want = malloc(4096);
    snprintf(want, 4096,
             "{\"alg\":\"%s\",\"crit\":[\"io.cncf.notary.signingScheme\"%s%s]"
             ",\"cty\":\"application/vnd.cncf.notary.payload.v1+json\"%s,"
             "\"io.cncf.notary.signingScheme\":\"notary.x509\","
             "\"io.cncf.notary.signingTime\":\"2026-11-18T11:06:40Z\"%s}",
             nk_keyspec_jws_alg(spec),
             vplugin ? ",\"io.cncf.notary.verificationPlugin\",\"io.cncf."
                       "notary.verificationPluginMinVersion\""
                     : "",
             expiry ? ",\"io.cncf.notary.expiry\"" : "",
             expiry ? ",\"io.cncf.notary.expiry\":\"2026-11-18T12:06:40Z\""
                    : "",
             vplugin ? ",\"io.cncf.notary.verificationPlugin\":\"keystore\","
                       "\"io.cncf.notary.verificationPluginMinVersion\":"
                       "\"" NK_VERIFIER_MIN_VERSION "\""
                     : "");
    assert_string_equal(prot, want);
    free(prot);
    prot = b64url_text(cJSON_GetObjectItem(o, "payload")->valuestring);
    assert_string_equal(prot, PAYLOAD);
    free(prot);
    c = cJSON_GetObjectItem(o, "header");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "x5c")), 1);
    assert_string_equal(cJSON_GetObjectItem(c, NK_HDR_AGENT)->valuestring,
                        "notation-keystore/" NK_VERSION);
    assert_null(cJSON_GetObjectItem(c, NK_HDR_TIMESTAMP));
    verify_tbs(&f, f.e.tbs, f.e.tbs_len, f.e.sig, f.e.sig_len);
    free(want);
    free(out);
    cJSON_Delete(o);
    teardown_key(&f);
}

static void test_jws_ec256(void **state)
{
    (void)state;
    check_jws(NK_EC_256, 0, 1);
    check_jws(NK_EC_384, 3600, 0);
    check_jws(NK_EC_521, 3600, 1);
}

static void test_jws_rsa(void **state)
{
    (void)state;
    check_jws(NK_RSA_2048, 3600, 1);
    check_jws(NK_RSA_3072, 0, 0);
}

/* ---- COSE ---- */

/* Sig_structure written out by hand: ["Signature1", prot, h'', payload]. */
static size_t head(unsigned char *p, unsigned major, size_t n)
{
    if (n < 24) {
        p[0] = (unsigned char)(major << 5 | n);
        return 1;
    }
    if (n < 256) {
        p[0] = (unsigned char)(major << 5 | 24);
        p[1] = (unsigned char)n;
        return 2;
    }
    p[0] = (unsigned char)(major << 5 | 25);
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)n;
    return 3;
}

static void check_sig_structure(const struct nk_envelope *e)
{
    unsigned char *want = malloc(64 + e->prot_len + e->payload_len);
    size_t n = 0;

    want[n++] = 0x84;
    n += head(want + n, 3, 10);
    memcpy(want + n, "Signature1", 10);
    n += 10;
    n += head(want + n, 2, e->prot_len);
    memcpy(want + n, e->prot_enc, e->prot_len);
    n += e->prot_len;
    want[n++] = 0x40;
    n += head(want + n, 2, e->payload_len);
    memcpy(want + n, e->payload, e->payload_len);
    n += e->payload_len;
    assert_int_equal(n, e->tbs_len);
    assert_memory_equal(want, e->tbs, n);
    free(want);
}

static cbor_item_t *map_get(cbor_item_t *map, const char *text, int label)
{
    struct cbor_pair *p = cbor_map_handle(map);
    size_t i;

    for (i = 0; i < cbor_map_size(map); i++) {
        cbor_item_t *k = p[i].key;

        if (text != NULL && cbor_isa_string(k) &&
            cbor_string_length(k) == strlen(text) &&
            memcmp(cbor_string_handle(k), text, strlen(text)) == 0)
            return p[i].value;
        if (text == NULL && cbor_isa_uint(k) &&
            cbor_get_int(k) == (uint64_t)label)
            return p[i].value;
        if (text == NULL && cbor_isa_negint(k) &&
            -1 - (long long)cbor_get_int(k) == label)
            return p[i].value;
    }
    return NULL;
}

static void check_cose(enum nk_keyspec spec, long long expiry, int vplugin)
{
    struct fixture f;
    struct nk_err err = {0};
    struct cbor_load_result res;
    unsigned char *out = NULL;
    size_t outlen = 0;
    cbor_item_t *arr, *prot, *v;

    setup_key(&f, spec);
    sign_with(&f, 1, expiry, vplugin);
    check_sig_structure(&f.e);
    assert_int_equal(nk_cose_build(&f.e, &out, &outlen, &err), 0);
    /* Tag 18 in one byte; libcbor 0.8 cannot load a tagged root item, so
     * the array after it is loaded alone. */
    assert_int_equal(out[0], 0xd2);
    arr = cbor_load(out + 1, outlen - 1, &res);
    assert_non_null(arr);
    assert_int_equal(res.read, outlen - 1);
    assert_int_equal(cbor_array_size(arr), 4);
    prot = cbor_load(cbor_bytestring_handle(cbor_array_handle(arr)[0]),
                     cbor_bytestring_length(cbor_array_handle(arr)[0]), &res);
    assert_non_null(prot);
    assert_int_equal(cbor_map_size(prot),
                     5 + (expiry ? 1 : 0) + (vplugin ? 2 : 0));
    v = map_get(prot, NULL, 1);
    assert_int_equal(-1 - (long long)cbor_get_int(v),
                     nk_keyspec_cose_alg(spec));
    assert_int_equal(cbor_array_size(map_get(prot, NULL, 2)),
                     1 + (expiry ? 1 : 0) + (vplugin ? 2 : 0));
    v = map_get(prot, NK_HDR_TIME, 0);
    assert_true(cbor_isa_tag(v));
    assert_int_equal(cbor_tag_value(v), 1);
    v = cbor_tag_item(v); /* a new reference */
    assert_int_equal(cbor_get_int(v), 1795000000);
    cbor_decref(&v);
    assert_true((map_get(prot, NK_HDR_EXPIRY, 0) != NULL) == (expiry != 0));
    assert_true((map_get(prot, NK_HDR_VPLUGIN, 0) != NULL) == (vplugin != 0));
    v = map_get(cbor_array_handle(arr)[1], NULL, 33);
    assert_true(cbor_isa_array(v));
    assert_int_equal(cbor_array_size(v), 1);
    verify_tbs(&f, f.e.tbs, f.e.tbs_len,
               cbor_bytestring_handle(cbor_array_handle(arr)[3]),
               cbor_bytestring_length(cbor_array_handle(arr)[3]));
    cbor_decref(&prot);
    cbor_decref(&arr);
    free(out);
    teardown_key(&f);
}

static void test_cose_ec(void **state)
{
    (void)state;
    check_cose(NK_EC_256, 0, 1);
    check_cose(NK_EC_384, 86400, 0);
    check_cose(NK_EC_521, 60, 1);
}

static void test_cose_rsa(void **state)
{
    (void)state;
    check_cose(NK_RSA_2048, 0, 0);
    check_cose(NK_RSA_3072, 3600, 1);
}

/* Deterministic: the protected map starts 1, 2, 3 then text keys ordered
 * by length first (their encoded heads), and repeats byte for byte. */
static void test_cose_deterministic(void **state)
{
    struct nk_envelope a, b;
    struct nk_err err = {0};

    (void)state;
    nk_attrs_decide(&a, NK_EC_256, 1795000000, 60, 1);
    nk_attrs_decide(&b, NK_EC_256, 1795000000, 60, 1);
    a.payload = b.payload = (const unsigned char *)PAYLOAD;
    a.payload_len = b.payload_len = strlen(PAYLOAD);
    assert_int_equal(nk_cose_tbs(&a, &err), 0);
    assert_int_equal(nk_cose_tbs(&b, &err), 0);
    assert_int_equal(a.prot_len, b.prot_len);
    assert_memory_equal(a.prot_enc, b.prot_enc, a.prot_len);
    /* map(8), 1: -7 (0x26), 2: array(4) */
    assert_int_equal(a.prot_enc[0], 0xa8);
    assert_int_equal(a.prot_enc[1], 0x01);
    assert_int_equal(a.prot_enc[2], 0x26);
    assert_int_equal(a.prot_enc[3], 0x02);
    assert_int_equal(a.prot_enc[4], 0x84);
    nk_attrs_release(&a);
    nk_attrs_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_good),
        cmocka_unit_test(test_payload_bad),
        cmocka_unit_test(test_attrs_crit_order),
        cmocka_unit_test(test_attrs_rfc3339),
        cmocka_unit_test(test_jws_ec256),
        cmocka_unit_test(test_jws_rsa),
        cmocka_unit_test(test_cose_ec),
        cmocka_unit_test(test_cose_rsa),
        cmocka_unit_test(test_cose_deterministic),
    };

    return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
