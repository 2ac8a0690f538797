/* Base64 codecs: RFC 4648 test vectors and the strictness Go requires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/b64.h"

static const char *const vec[][3] = {
    /* input, standard, url-unpadded (RFC 4648 section 10) */
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void test_encode_vectors(void **state)
{
    size_t i;
    char *s;

    (void)state;
    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        s = nk_b64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]));
        assert_string_equal(s, vec[i][1]);
        free(s);
        s = nk_b64url_encode((const unsigned char *)vec[i][0],
                             strlen(vec[i][0]));
        assert_string_equal(s, vec[i][2]);
        free(s);
    }
}

static void test_decode_vectors(void **state)
{
    struct nk_err err = {0};
    unsigned char *out;
    size_t n, i;

    (void)state;
    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        assert_int_equal(nk_b64_decode(vec[i][1], "x", &out, &n, &err), 0);
        assert_int_equal(n, strlen(vec[i][0]));
        assert_memory_equal(out, vec[i][0], n);
        free(out);
        assert_int_equal(nk_b64url_decode(vec[i][2], "x", &out, &n, &err), 0);
        assert_int_equal(n, strlen(vec[i][0]));
        assert_memory_equal(out, vec[i][0], n);
        free(out);
    }
}

static void test_binary_alphabets(void **state)
{
    static const unsigned char bin[] = {0xfb, 0xff, 0xbf};
    char *s;

    (void)state;
    s = nk_b64_encode(bin, sizeof(bin));
    assert_string_equal(s, "+/+/");
    free(s);
    s = nk_b64url_encode(bin, sizeof(bin));
    assert_string_equal(s, "-_-_");
    free(s);
}

static void expect_bad_std(const char *s)
{
    struct nk_err err = {0};
    unsigned char *out = (unsigned char *)"sentinel";
    size_t n = 99;

    assert_int_equal(nk_b64_decode(s, "payload", &out, &n, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "\"payload\""));
    assert_null(out);
    assert_int_equal(n, 0);
}

static void test_reject_non_standard(void **state)
{
    (void)state;
    expect_bad_std("Zg");       /* missing padding */
    expect_bad_std("Zg=");      /* short padding */
    expect_bad_std("Zg===");    /* too much */
    expect_bad_std("-_-_");     /* url alphabet */
    expect_bad_std("Zm 9v");    /* space */
    expect_bad_std("Zm9v\n");   /* newline */
    expect_bad_std("Z===");     /* one data char */
    expect_bad_std("Zh==");     /* non-zero trailing bits */
    expect_bad_std("Zg==Zg=="); /* padding in the middle */
}

static void test_reject_non_url(void **state)
{
    struct nk_err err = {0};
    unsigned char *out;
    size_t n;

    (void)state;
    assert_int_equal(nk_b64url_decode("Zg==", "sig", &out, &n, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_b64url_decode("+/+/", "sig", &out, &n, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_b64url_decode("Z", "sig", &out, &n, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_binary_alphabets),
        cmocka_unit_test(test_reject_non_standard),
        cmocka_unit_test(test_reject_non_url),
    };

    return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
