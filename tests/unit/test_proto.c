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
                           "\"x\":[1]}", &req, &err), 0);
    assert_string_equal(nk_config_get(&req.cfg, "a"), "1");
    assert_string_equal(nk_config_get(&req.cfg, "b"), "");
    assert_null(nk_config_str(&req.cfg, "b"));
    assert_null(nk_config_get(&req.cfg, "c"));
    nk_request_release(&req);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "{", "[]", "\"s\"", "null", "{\"pluginConfig\":[]}",
        "{\"pluginConfig\":{\"a\":true}}", "{\"pluginConfig\":{\"a\":{}}}",
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
                           "\"b\":\"YWJj\"}", &req, &err), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_config),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_contract),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_metadata),
    };

    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
