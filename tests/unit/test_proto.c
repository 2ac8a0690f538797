/* The protocol layer: request parsing, field rules, responses, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"
#include "proto.h"

static int parse(const char *s, struct nk_request *req, struct nk_err *err)
{
    return nk_proto_parse(s, strlen(s), req, err);
}

static void test_parse_config(void **state)
{
    struct nk_request req;
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(parse("{\"pluginConfig\":{\"a\":\"1\",\"b\":\"\"},"
                           "\"x\":[1]}",
                           &req, &err),
                     0);
    assert_string_equal(nk_config_get(&req.cfg, "a"), "1");
    assert_string_equal(nk_config_get(&req.cfg, "b"), "");
    assert_null(nk_config_str(&req.cfg, "b"));
    assert_null(nk_config_get(&req.cfg, "c"));
    nk_request_release(&req);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "\"s\"",
        "null",
        "{\"pluginConfig\":[]}",
        "{\"pluginConfig\":{\"a\":true}}",
        "{\"pluginConfig\":{\"a\":{}}}",
    };
    struct nk_request req;
    struct nk_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nk_err_clear(&err);
        assert_int_equal(parse(bad[i], &req, &err), -1);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        nk_request_release(&req);
    }
}

static void test_contract(void **state)
{
    struct nk_request req;
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(parse("{\"contractVersion\":\"1.0\"}", &req, &err), 0);
    assert_int_equal(nk_proto_contract(&req, &err), 0);
    nk_request_release(&req);
    assert_int_equal(parse("{\"contractVersion\":\"1.1\"}", &req, &err), 0);
    assert_int_equal(nk_proto_contract(&req, &err), -1);
    assert_int_equal(err.code, NK_ERR_CONTRACT);
    nk_request_release(&req);
}

static void test_fields(void **state)
{
    struct nk_request req;
    struct nk_err err = {0};
    const char *s;
    unsigned char *b;
    size_t n;

    (void)state;
    assert_int_equal(parse("{\"k\":\"v\",\"e\":\"\",\"n\":5,\"z\":null,"
                           "\"b\":\"YWJj\"}",
                           &req, &err),
                     0);
    assert_int_equal(nk_proto_string(req.json, "k", &s, &err), 0);
    assert_string_equal(s, "v");
    assert_int_equal(nk_proto_string(req.json, "e", &s, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_proto_string(req.json, "n", &s, &err), -1);
    assert_non_null(strstr(err.msg, "must be a string"));
    nk_err_clear(&err);
    assert_int_equal(nk_proto_opt_string(req.json, "z", &s, &err), 0);
    assert_null(s);
    assert_int_equal(nk_proto_bytes(req.json, "b", &b, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "abc", 3);
    free(b);
    nk_request_release(&req);
}

static void test_error_json(void **state)
{
    struct nk_err err = {0};
    char *s;

    (void)state;
    nk_err_set(&err, NK_ERR_ACCESS, "pin \"x\" \\ wrong\n");
    s = nk_proto_error_json(&err);
    assert_string_equal(s, "{\"errorCode\":\"ACCESS_DENIED\",\"errorMessage\":"
                           "\"pin \\\"x\\\" \\\\ wrong\\n\"}");
    free(s);
}

/* JSON text is UTF-8: bytes of a token label that are not become '?'
 * (an invalid lead byte, a surrogate, an overlong form, a code point above
 * U+10FFFF, a cut sequence); valid sequences of 2, 3 and 4 bytes stay.
 * Q is one '?' per literal: "??(" would be a trigraph. */
#define Q "?"
static void test_error_json_utf8(void **state)
{
    struct nk_err err = {0};
    char *s;

    (void)state;
    nk_err_set(&err, NK_ERR_ACCESS,
               "token \"\xff\xfe\xc3(\xe2\x82\xa0"
               "\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80\xe2\x82\"\" "
               "\xc3\xa1\xe2\x82\xac\xf0\x9f\x94\x91");
    s = nk_proto_error_json(&err);
    assert_string_equal(s, "{\"errorCode\":\"ACCESS_DENIED\",\"errorMessage\":"
                           "\"token \\\"" Q Q Q
                           "(\xe2\x82\xa0" Q Q Q Q Q Q Q Q Q Q Q "\\\"\\\" "
                           "\xc3\xa1\xe2\x82\xac\xf0\x9f\x94\x91\"}");
    free(s);
}
#undef Q

static void test_first_error_wins(void **state)
{
    struct nk_err err = {0};

    (void)state;
    nk_err_set(&err, NK_ERR_TIMEOUT, "first");
    nk_err_set(&err, NK_ERR_ACCESS, "second");
    nk_err_prefix(&err, "ctx");
    assert_int_equal(err.code, NK_ERR_TIMEOUT);
    assert_string_equal(err.msg, "ctx: first");
    assert_string_equal(nk_errcode_name(NK_ERR_GENERIC), "ERROR");
    assert_string_equal(nk_errcode_name(NK_ERR_THROTTLED), "THROTTLED");
    assert_string_equal(nk_errcode_name(NK_ERR_CONTRACT),
                        "UNSUPPORTED_CONTRACT_VERSION");
}

static void test_metadata(void **state)
{
    struct nk_request req;
    struct nk_err err = {0};
    cJSON *resp = NULL;
    char *s;

    (void)state;
    assert_int_equal(parse("{}", &req, &err), 0);
    assert_int_equal(nk_cmd_get_plugin_metadata(&req, &resp, &err), 0);
    s = cJSON_PrintUnformatted(resp);
    assert_non_null(strstr(s, "\"name\":\"keystore\""));
    assert_non_null(strstr(s, "\"supportedContractVersions\":[\"1.0\"]"));
    assert_non_null(strstr(s, "SIGNATURE_GENERATOR.RAW"));
    free(s);
    cJSON_Delete(resp);
    nk_request_release(&req);
}

/* Every string value in the tree, found by a walk of the test's own. */
static size_t collect(const cJSON *node, char **strs, size_t *lens, size_t n)
{
    const cJSON *c;

    for (c = node; c != NULL; c = c->next) {
        if ((cJSON_IsString(c) || cJSON_IsRaw(c)) && c->valuestring != NULL) {
            strs[n] = c->valuestring;
            lens[n++] = strlen(c->valuestring);
        }
        if (c->child != NULL)
            n = collect(c->child, strs, lens, n);
    }
    return n;
}

static void test_wipe_tree(void **state)
{
    struct nk_request req;
    struct nk_err err = {0};
    char *strs[16];
    size_t lens[16], n, i, k;

    (void)state;
    assert_int_equal(parse("{\"keyId\":\"pkcs11:object=k?pin-value=S3cr3t\","
                           "\"pluginConfig\":{\"pin-file\":\"/p\"},\"n\":5,"
                           "\"a\":[\"x\",{\"deep\":[\"S3cr3t-2\",null,true]}]}",
                           &req, &err),
                     0);
    cJSON_AddItemToObject(req.json, "raw", cJSON_CreateRaw("\"S3cr3t-3\""));
    n = collect(req.json, strs, lens, 0);
    assert_int_equal(n, 5);
    nk_json_wipe(req.json);
    for (i = 0; i < n; i++)
        for (k = 0; k < lens[i]; k++)
            assert_int_equal(strs[i][k], 0);
    assert_int_equal(cJSON_GetObjectItem(req.json, "n")->valueint, 5);
    nk_json_wipe(NULL);
    nk_request_release(&req);
}

static void test_take_key_id(void **state)
{
    static const char id[] = "pkcs11:object=k?pin-value=S3cr3t";
    struct nk_request req;
    struct nk_err err = {0};
    struct nk_mask kid = {0};
    char *in_tree;
    size_t k;

    (void)state;
    assert_int_equal(
        parse("{\"keyId\":\"pkcs11:object=k?pin-value=S3cr3t\"}", &req, &err),
        0);
    in_tree = cJSON_GetObjectItem(req.json, "keyId")->valuestring;
    assert_int_equal(nk_proto_take_key_id(&req, &kid, &err), 0);
    assert_string_equal(kid.s, id);
    for (k = 0; k < sizeof(id) - 1; k++)
        assert_int_equal(in_tree[k], 0);
    /* Masked: not the key id, nor the PIN in it; shown: the key id again. */
    nk_mask_hide(&kid);
    assert_non_null(kid.pad);
    assert_int_not_equal(memcmp(kid.s, id, sizeof(id) - 1), 0);
    for (k = 0; k + 6 <= kid.n; k++)
        assert_int_not_equal(memcmp(kid.s + k, "S3cr3t", 6), 0);
    nk_mask_hide(&kid);
    nk_mask_show(&kid);
    assert_null(kid.pad);
    assert_memory_equal(kid.s, id, sizeof(id));
    nk_mask_show(&kid);
    assert_memory_equal(kid.s, id, sizeof(id));
    nk_mask_release(&kid);
    assert_null(kid.s);
    nk_mask_release(&kid);
    nk_request_release(&req);
    assert_int_equal(parse("{\"keyId\":\"\"}", &req, &err), 0);
    assert_int_equal(nk_proto_take_key_id(&req, &kid, &err), -1);
    assert_null(kid.s);
    nk_request_release(&req);
}

/* nk_proto_print gives cJSON's own text, also past its first buffer. */
static void test_print(void **state)
{
    cJSON *o = cJSON_CreateObject();
    char *big = malloc(20000), *mine, *theirs;

    (void)state;
    memset(big, 'b', 19999);
    big[19999] = '\0';
    nk_json_add_string(o, "keyId", "pkcs11:object=k");
    nk_json_add_string(o, "big", big);
    cJSON_AddNumberToObject(o, "n", 1.5);
    mine = nk_proto_print(o);
    theirs = cJSON_PrintUnformatted(o);
    assert_non_null(mine);
    assert_string_equal(mine, theirs);
    free(mine);
    free(theirs);
    free(big);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_config),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_contract),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_error_json_utf8),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_wipe_tree),
        cmocka_unit_test(test_take_key_id),
        cmocka_unit_test(test_print),
    };

    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
