/* Companion command helpers: --plugin-config pairs, trust store names and
 * location, key id redaction for the log, and the strict envelope parser
 * of the offline verify (JWS and COSE, good and malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "envelope/sigenv.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/log.h"

#define SEEDS "tests/fuzz/corpus/fuzz_sigenv/"

static unsigned char *slurp(const char *path, size_t *n)
{
    struct nk_buf b;
    struct nk_err err = {0};

    nk_buf_init(&b, NK_SIGENV_MAX);
    assert_int_equal(nk_buf_read_file(&b, path, &err), 0);
    return nk_buf_take(&b, n);
}

static void test_plugin_config(void **state)
{
    struct nk_config c;
    struct nk_err err = {0};

    (void)state;
    nk_config_init(&c);
    assert_int_equal(nk_cli_plugin_config(&c, "a=b=c", &err), 0);
    assert_string_equal(nk_config_get(&c, "a"), "b=c");
    assert_int_equal(nk_cli_plugin_config(&c, "=x", &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_cli_plugin_config(&c, "x=", &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_cli_plugin_config(&c, "novalue", &err), -1);
    assert_non_null(strstr(err.msg, "key=value"));
    nk_config_release(&c);
}

static void test_store_names(void **state)
{
    (void)state;
    assert_true(nk_cli_store_name_ok("app-test_1.x"));
    assert_false(nk_cli_store_name_ok(""));
    assert_false(nk_cli_store_name_ok(".."));
    assert_false(nk_cli_store_name_ok("a/b"));
    assert_false(nk_cli_store_name_ok("a b"));
}

static void test_config_dir(void **state)
{
    char *d;

    (void)state;
    setenv("NOTATION_CONFIG", "/x/notation", 1);
    d = nk_cli_notation_config_dir();
    assert_string_equal(d, "/x/notation");
    free(d);
    unsetenv("NOTATION_CONFIG");
    setenv("XDG_CONFIG_HOME", "/cfg", 1);
    d = nk_cli_notation_config_dir();
    assert_string_equal(d, "/cfg/notation");
    free(d);
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/home/u", 1);
    d = nk_cli_notation_config_dir();
    assert_string_equal(d, "/home/u/.config/notation");
    free(d);
}

static void test_log_keyid(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(nk_log_keyid("pkcs11:token=t;object=k?pin-value=1234",
                                     buf, sizeof(buf)),
                        "pkcs11:token=t;object=k");
    assert_string_equal(
        nk_log_keyid("hashivault://user:secret@vault/k", buf, sizeof(buf)),
        "hashivault://vault/k");
    assert_string_equal(nk_log_keyid("pkcs11:token=t?pin-source=file://u:p@h/x",
                                     buf, sizeof(buf)),
                        "pkcs11:token=t");
    assert_string_equal(nk_log_keyid("awskms:///alias/x", buf, sizeof(buf)),
                        "awskms:///alias/x");
    assert_string_equal(nk_log_keyid("awskms:///arn@x/y", buf, sizeof(buf)),
                        "awskms:///arn@x/y");
}

static void test_jws_good(void **state)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    size_t n;
    unsigned char *p = slurp(SEEDS "good.jws.sig", &n);

    (void)state;
    assert_int_equal(nk_sigenv_parse(p, n, &e, &err), 0);
    assert_false(e.cose);
    assert_string_equal(e.scheme, "notary.x509");
    assert_true(e.signing_time > 0);
    assert_int_equal(sk_X509_num(e.chain), 3);
    assert_non_null(memchr(e.tbs, '.', e.tbs_len));
    nk_sigenv_release(&e);
    free(p);
}

/* The good JWS with one change made by edit(); must be refused with a
 * message containing want. */
static void jws_bad(void (*edit)(cJSON *), const char *want)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    size_t n;
    unsigned char *p = slurp(SEEDS "good.jws.sig", &n);
    cJSON *j = cJSON_ParseWithLength((const char *)p, n);
    char *text;

    edit(j);
    text = cJSON_PrintUnformatted(j);
    assert_int_equal(
        nk_sigenv_parse((unsigned char *)text, strlen(text), &e, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("got \"%s\", want \"%s\"", err.msg, want);
    nk_sigenv_release(&e);
    cJSON_Delete(j);
    free(text);
    free(p);
}

/* Replaces the protected header with edit applied to it. */
static void edit_protected(cJSON *j, void (*edit)(cJSON *))
{
    cJSON *pr = cJSON_GetObjectItem(j, "protected");
    unsigned char *raw = NULL;
    size_t n = 0;
    struct nk_err err = {0};
    cJSON *h;
    char *text, *b64;

    assert_int_equal(nk_b64url_decode(pr->valuestring, "p", &raw, &n, &err), 0);
    h = cJSON_ParseWithLength((const char *)raw, n);
    edit(h);
    text = cJSON_PrintUnformatted(h);
    b64 = nk_b64url_encode((unsigned char *)text, strlen(text));
    cJSON_SetValuestring(pr, b64);
    free(b64);
    free(text);
    free(raw);
    cJSON_Delete(h);
}

static void add_member(cJSON *j)
{
    cJSON_AddNumberToObject(j, "extra", 1);
}
static void drop_x5c(cJSON *j)
{
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "header"), "x5c");
}
static void hdr_member(cJSON *j)
{
    cJSON_AddStringToObject(cJSON_GetObjectItem(j, "header"), "kid", "x");
}
static void unpadded_x5c(cJSON *j)
{
    cJSON *c = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "header"), "x5c"), 0);
    char *s = c->valuestring;

    s[strcspn(s, "=")] = '\0';
    if (strlen(s) % 4 == 0)
        strcat(s, "A"); /* no padding to remove: break the length */
}
static void crit_unknown_p(cJSON *h)
{
    cJSON_AddItemToArray(cJSON_GetObjectItem(h, "crit"),
                         cJSON_CreateString("io.example.new"));
    cJSON_AddStringToObject(h, "io.example.new", "v");
}
static void crit_unknown(cJSON *j)
{
    edit_protected(j, crit_unknown_p);
}
static void crit_missing_p(cJSON *h)
{
    cJSON_AddItemToArray(cJSON_GetObjectItem(h, "crit"),
                         cJSON_CreateString("io.cncf.notary.expiry"));
}
static void crit_missing(cJSON *j)
{
    edit_protected(j, crit_missing_p);
}
static void bad_alg_p(cJSON *h)
{
    cJSON_ReplaceItemInObject(h, "alg", cJSON_CreateString("RS256"));
}
static void bad_alg(cJSON *j)
{
    edit_protected(j, bad_alg_p);
}
static void bad_time_p(cJSON *h)
{
    cJSON_ReplaceItemInObject(h, "io.cncf.notary.signingTime",
                              cJSON_CreateString("yesterday"));
}
static void bad_time(cJSON *j)
{
    edit_protected(j, bad_time_p);
}
static void bad_cty_p(cJSON *h)
{
    cJSON_ReplaceItemInObject(h, "cty", cJSON_CreateString("text/plain"));
}
static void bad_cty(cJSON *j)
{
    edit_protected(j, bad_cty_p);
}

static void test_jws_strict(void **state)
{
    (void)state;
    jws_bad(add_member, "unknown member \"extra\"");
    jws_bad(drop_x5c, "x5c");
    jws_bad(hdr_member, "unknown member \"kid\"");
    jws_bad(unpadded_x5c, "x5c");
    jws_bad(crit_unknown, "not understood");
    jws_bad(crit_missing, "is missing");
    jws_bad(bad_alg, "alg");
    jws_bad(bad_time, "RFC 3339");
    jws_bad(bad_cty, "content type");
}

/* A protected header with 64 members more than the good one's. */
static void many_headers(cJSON *j)
{
    cJSON *prot = cJSON_GetObjectItemCaseSensitive(j, "protected");
    struct nk_err err = {0};
    unsigned char *raw = NULL;
    char name[16], *text, *b64;
    cJSON *h;
    size_t n;
    int i;

    assert_int_equal(
        nk_b64url_decode(prot->valuestring, "protected", &raw, &n, &err), 0);
    h = cJSON_ParseWithLength((const char *)raw, n);
    assert_non_null(h);
    for (i = 0; i < NK_SIGENV_MAX_HEADERS; i++) {
        snprintf(name, sizeof(name), "x-%02d", i);
        cJSON_AddNumberToObject(h, name, i);
    }
    text = cJSON_PrintUnformatted(h);
    b64 = nk_b64url_encode((const unsigned char *)text, strlen(text));
    cJSON_ReplaceItemInObjectCaseSensitive(j, "protected",
                                           cJSON_CreateString(b64));
    free(b64);
    free(text);
    cJSON_Delete(h);
    free(raw);
}

/* Headers are capped: the duplicate check is quadratic, and an envelope
 * with a header of a million members kept verify busy for hours. */
static void test_jws_many_headers(void **state)
{
    (void)state;
    jws_bad(many_headers, "more than 64");
}

static void test_jws_duplicates_and_trailing(void **state)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    static const char dup[] =
        "{\"payload\":\"\",\"payload\":\"\",\"protected\":\"e30\","
        "\"header\":{},\"signature\":\"\"}";
    size_t n;
    unsigned char *p = slurp(SEEDS "good.jws.sig", &n);
    unsigned char *q = malloc(n + 2);

    (void)state;
    assert_int_equal(
        nk_sigenv_parse((const unsigned char *)dup, sizeof(dup) - 1, &e, &err),
        -1);
    assert_non_null(strstr(err.msg, "twice"));
    nk_sigenv_release(&e);
    memcpy(q, p, n);
    memcpy(q + n, "{}", 2);
    nk_err_clear(&err);
    assert_int_equal(nk_sigenv_parse(q, n + 2, &e, &err), -1);
    assert_non_null(strstr(err.msg, "not one JSON object"));
    nk_sigenv_release(&e);
    free(p);
    free(q);
}

static void test_cose_good(void **state)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    size_t n;
    unsigned char *p = slurp(SEEDS "good.cose.sig", &n);

    (void)state;
    assert_int_equal(nk_sigenv_parse(p, n, &e, &err), 0);
    assert_true(e.cose);
    assert_string_equal(e.alg, "ES384");
    assert_int_equal(sk_X509_num(e.chain), 3);
    /* Sig_structure: array(4), "Signature1" */
    assert_int_equal(e.tbs[0], 0x84);
    assert_memory_equal(e.tbs + 1, "\x6aSignature1", 11);
    nk_sigenv_release(&e);
    free(p);
}

static void cose_bad(const unsigned char *p, size_t n, const char *want)
{
    struct nk_sigenv e;
    struct nk_err err = {0};

    assert_int_equal(nk_sigenv_parse(p, n, &e, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("got \"%s\", want \"%s\"", err.msg, want);
    nk_sigenv_release(&e);
}

/* A COSE protected header of 65 labels (the quadratic duplicate check of
 * a huge one kept verify busy for hours). */
static void test_cose_many_headers(void **state)
{
    unsigned char env[2 + 2 + 2 + 65 * 3 + 5];
    size_t n = 0;
    int i;

    (void)state;
    env[n++] = 0xd2; /* tag 18 */
    env[n++] = 0x84; /* array of 4 */
    env[n++] = 0x58; /* bstr, 1-byte length */
    env[n++] = (unsigned char)(2 + 65 * 3);
    env[n++] = 0xb8; /* map, 1-byte count */
    env[n++] = 65;
    for (i = 0; i < 65; i++) {
        env[n++] = 0x18; /* uint, 1 byte: labels 100..164 */
        env[n++] = (unsigned char)(100 + i);
        env[n++] = 0x00;
    }
    env[n++] = 0xa0; /* unprotected: empty map */
    env[n++] = 0x41; /* payload "x" */
    env[n++] = 'x';
    env[n++] = 0x41; /* signature "s" */
    env[n++] = 's';
    assert_int_equal(n, sizeof(env));
    cose_bad(env, n, "more than 64");
}

static void test_cose_strict(void **state)
{
    size_t n;
    unsigned char *p = slurp(SEEDS "good.cose.sig", &n);
    unsigned char *q = malloc(n + 1);

    (void)state;
    cose_bad((const unsigned char *)"\xd2\x83\x40\xa0\x40", 5, "array of 4");
    cose_bad((const unsigned char *)"\xd1\x84\x40\xa0\x40\x40", 6,
             "not a signature envelope");
    cose_bad((const unsigned char *)"\xd2\x84\x40\xa0\x40\x40", 6,
             "byte strings");
    memcpy(q, p, n);
    q[n] = 0x00;
    cose_bad(q, n + 1, "well-formed");
    cose_bad(p, n - 1, "well-formed");
    /* a few bytes declaring a huge map or array must not allocate it */
    cose_bad((const unsigned char *)"\xd2\x84\x40\xbb\xff\xff\xff\xff\xff"
                                    "\xff\xff\xff",
             12, "well-formed");
    cose_bad((const unsigned char *)"\xd2\x9b\x00\x00\x00\x01\x00\x00\x00"
                                    "\x00",
             10, "well-formed");
    /* indefinite lengths and deep nesting */
    cose_bad((const unsigned char *)"\xd2\x9f\x40\xa0\x40\x40\xff", 7,
             "well-formed");
    memset(q, 0x81, 40);
    q[0] = 0xd2;
    q[40] = 0x00;
    cose_bad(q, 41, "well-formed");
    free(p);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_config),
        cmocka_unit_test(test_store_names),
        cmocka_unit_test(test_config_dir),
        cmocka_unit_test(test_log_keyid),
        cmocka_unit_test(test_jws_good),
        cmocka_unit_test(test_jws_strict),
        cmocka_unit_test(test_jws_duplicates_and_trailing),
        cmocka_unit_test(test_jws_many_headers),
        cmocka_unit_test(test_cose_good),
        cmocka_unit_test(test_cose_strict),
        cmocka_unit_test(test_cose_many_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
