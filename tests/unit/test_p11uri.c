/* RFC 7512 URI parser: the RFC's own examples, key rules, malformed ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs11/uri.h"

static struct nk_p11_uri *ok(const char *s)
{
    struct nk_err err = {0};
    struct nk_p11_uri *u = NULL;

    if (nk_p11_uri_parse(s, &u, &err) != 0)
        fail_msg("\"%s\" did not parse: %s", s, err.msg);
    assert_non_null(u);
    return u;
}

/* Parses s expecting failure; the message must contain want. */
static void bad(const char *s, const char *want)
{
    struct nk_err err = {0};
    struct nk_p11_uri *u = NULL;

    if (nk_p11_uri_parse(s, &u, &err) != -1) {
        nk_p11_uri_free(u);
        fail_msg("\"%s\" parsed but should not", s ? s : "(null)");
    }
    assert_null(u);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    if (strstr(err.msg, want) == NULL)
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, want);
}

static int key_ok(const struct nk_p11_uri *u, struct nk_err *err)
{
    return nk_p11_uri_check_key(u, err);
}

static void test_rfc_empty(void **state)
{
    struct nk_p11_uri *u = ok("pkcs11:");
    struct nk_err err = {0};

    (void)state;
    assert_null(u->token);
    assert_null(u->object);
    assert_false(u->has_id);
    assert_false(u->has_slot_id);
    assert_int_equal(u->n_unknown, 0);
    assert_int_equal(key_ok(u, &err), 0);
    nk_p11_uri_free(u);
}

static void test_rfc_pubkey(void **state)
{
    struct nk_p11_uri *u = ok("pkcs11:object=my-pubkey;type=public");
    struct nk_err err = {0};

    (void)state;
    assert_string_equal(u->object, "my-pubkey");
    assert_string_equal(u->type, "public");
    /* a key id must name a private key */
    assert_int_equal(key_ok(u, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "type=public"));
    nk_p11_uri_free(u);
}

static void test_rfc_private_pin_source(void **state)
{
    struct nk_p11_uri *u =
        ok("pkcs11:object=my-key;type=private?pin-source=file:/etc/token");
    struct nk_err err = {0};

    (void)state;
    assert_string_equal(u->object, "my-key");
    assert_string_equal(u->type, "private");
    assert_string_equal(u->pin_source, "file:/etc/token");
    assert_int_equal(key_ok(u, &err), 0);
    nk_p11_uri_free(u);
}

static void test_rfc_full(void **state)
{
    static const unsigned char id[] = {0x69, 0x95, 0x3e, 0x5c,
                                       0xf4, 0xbd, 0xec, 0x91};
    struct nk_p11_uri *u =
        ok("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;"
           "manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;"
           "type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="
           "?pin-source=file:/etc/token_pin");
    struct nk_err err = {0};

    (void)state;
    assert_string_equal(u->token, "The Software PKCS#11 Softtoken");
    assert_string_equal(u->manufacturer, "Snake Oil, Inc.");
    assert_string_equal(u->model, "1.0");
    assert_string_equal(u->object, "my-certificate");
    assert_string_equal(u->type, "cert");
    assert_true(u->has_id);
    assert_int_equal(u->id_len, sizeof(id));
    assert_memory_equal(u->id, id, sizeof(id));
    assert_non_null(u->serial);
    assert_string_equal(u->serial, ""); /* present and empty */
    assert_string_equal(u->pin_source, "file:/etc/token_pin");
    assert_int_equal(key_ok(u, &err), -1); /* type=cert */
    nk_p11_uri_free(u);
}

static void test_rfc_module_name_path(void **state)
{
    struct nk_p11_uri *u =
        ok("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11");

    (void)state;
    assert_string_equal(u->module_name, "mypkcs11");
    assert_null(u->module_path);
    nk_p11_uri_free(u);
    u = ok("pkcs11:object=my-sign-key;type=private"
           "?module-path=/mnt/libmypkcs11.so.1");
    assert_string_equal(u->module_path, "/mnt/libmypkcs11.so.1");
    nk_p11_uri_free(u);
}

static void test_rfc_pin_value(void **state)
{
    struct nk_p11_uri *u =
        ok("pkcs11:token=Software%20PKCS%2311%20softtoken;"
           "manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin");
    char *d;

    (void)state;
    assert_string_equal(u->token, "Software PKCS#11 softtoken");
    assert_string_equal(u->pin_value, "the-pin");
    d = nk_p11_uri_describe(u);
    assert_null(strstr(d, "the-pin"));
    assert_non_null(strstr(d, "Software PKCS#11 softtoken"));
    free(d);
    nk_p11_uri_free(u);
}

static void test_rfc_slot_and_library(void **state)
{
    struct nk_p11_uri *u = ok("pkcs11:slot-description=Sun%20Metaslot");

    (void)state;
    assert_string_equal(u->slot_description, "Sun Metaslot");
    nk_p11_uri_free(u);
    u = ok("pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
           "library-description=Soft%20Token%20Library;library-version=1.23");
    assert_string_equal(u->library_manufacturer, "Snake Oil, Inc.");
    assert_string_equal(u->library_description, "Soft Token Library");
    assert_string_equal(u->library_version, "1.23");
    nk_p11_uri_free(u);
}

static void test_rfc_escapes(void **state)
{
    struct nk_p11_uri *u = ok("pkcs11:token=A%20name%20with%20a%20substring"
                              "%20%25%3B;object=my-certificate;type=cert");

    (void)state;
    assert_string_equal(u->token, "A name with a substring %;");
    nk_p11_uri_free(u);
    u = ok("pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
           "object=my-certificate;type=cert");
    assert_string_equal(u->token, "Name with a small A with acute: \xc3\xa1");
    nk_p11_uri_free(u);
}

static void test_rfc_vendor(void **state)
{
    struct nk_p11_uri *u =
        ok("pkcs11:token=my-token;object=my-certificate;type=cert;"
           "vendor-aaa=value-a?pin-source=file:/etc/token_pin"
           "&vendor-bbb=value-b");
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(u->n_unknown, 2);
    assert_string_equal(u->unknown[0], "vendor-aaa");
    assert_string_equal(u->unknown[1], "?vendor-bbb");
    assert_string_equal(u->pin_source, "file:/etc/token_pin");
    nk_p11_uri_free(u);
    /* without type=cert the unknown attribute itself is refused */
    u = ok("pkcs11:token=my-token;object=k;vendor-aaa=value-a");
    assert_int_equal(key_ok(u, &err), -1);
    assert_non_null(strstr(err.msg, "\"vendor-aaa\""));
    nk_p11_uri_free(u);
    u = ok("pkcs11:token=t;object=k?x-vendor=1");
    nk_err_clear(&err);
    assert_int_equal(key_ok(u, &err), 0);
    nk_p11_uri_free(u);
}

static void test_slot_id_and_id(void **state)
{
    struct nk_p11_uri *u = ok("PKCS11:slot-id=708081227;id=%00%01;object=a");
    char *d;

    (void)state;
    assert_true(u->has_slot_id);
    assert_int_equal(u->slot_id, 708081227UL);
    assert_int_equal(u->id_len, 2);
    assert_int_equal(u->id[0], 0);
    assert_int_equal(u->id[1], 1);
    d = nk_p11_uri_describe(u);
    assert_string_equal(d, "slot-id 708081227, object \"a\", id 0001");
    free(d);
    nk_p11_uri_free(u);
}

static void test_malformed(void **state)
{
    (void)state;
    bad("", "empty");
    bad(NULL, "empty");
    bad("pkcs11", "pkcs11:");
    bad("https://example.com/key", "pkcs11:");
    bad("pkcs11:token=%zz", "percent-escape");
    bad("pkcs11:token=%4", "percent-escape");
    bad("pkcs11:token=abc%", "percent-escape");
    bad("pkcs11:object=a;object=b", "appears twice");
    bad("pkcs11:object=a?pin-value=1&pin-value=2", "appears twice");
    bad("pkcs11:x-a=1;x-a=2", "appears twice");
    bad("pkcs11:token", "has no value");
    bad("pkcs11:=x", "empty name");
    bad("pkcs11:token=a;;object=b", "empty attribute");
    bad("pkcs11:token=a;", "empty attribute");
    bad("pkcs11:obj.ect=a", "bad attribute name");
    bad("pkcs11:slot-id=abc", "decimal");
    bad("pkcs11:slot-id=-1", "decimal");
    bad("pkcs11:slot-id=99999999999999999999999", "decimal");
    bad("pkcs11:type=secret", "must be public, private");
    bad("pkcs11:token=my token", "0x20");
    bad("pkcs11:token=a#b", "%23");
    bad("pkcs11:object=a\xc3\xa1", "0xC3");
    bad("pkcs11:object=%00", "NUL");
    bad("pkcs11:module-path=/x.so", "belongs in the query");
    bad("pkcs11:object=a?token=b", "belongs in the path");
    bad("pkcs11:object=a?module-path=/x.so;pin-value=1", "separated by '&'");
}

static void test_error_hides_pin(void **state)
{
    struct nk_err err = {0};
    struct nk_p11_uri *u = NULL;

    (void)state;
    assert_int_equal(
        nk_p11_uri_parse("pkcs11:object=a?pin-value=s3cret%zz", &u, &err), -1);
    assert_null(strstr(err.msg, "s3cret"));
    nk_err_clear(&err);
    assert_int_equal(
        nk_p11_uri_parse("pkcs11:object=a?pin-value=s3cr et", &u, &err), -1);
    assert_null(strstr(err.msg, "s3cr"));
}

/* The name the agent knows a key by: the id minus its PIN attributes,
 * every other byte as written. */
static void public_is(const char *in, const char *want)
{
    char *got = nk_p11_uri_public(in);

    assert_string_equal(got, want);
    free(got);
}

static void test_public_id(void **state)
{
    (void)state;
    public_is("pkcs11:token=t;object=k", "pkcs11:token=t;object=k");
    public_is("pkcs11:object=k?pin-value=1234", "pkcs11:object=k");
    public_is("pkcs11:object=k?pin-source=/p&module-path=/m.so",
              "pkcs11:object=k?module-path=/m.so");
    public_is("pkcs11:object=k?module-path=/m.so&pin-value=1",
              "pkcs11:object=k?module-path=/m.so");
    public_is("pkcs11:object=k?module-path=/m%20x.so&pin-value=1&"
              "pin-source=file:/p&x-a=pin-value%3D2",
              "pkcs11:object=k?module-path=/m%20x.so&x-a=pin-value%3D2");
    /* A path attribute that looks like one is not touched. */
    public_is("pkcs11:object=pin-value=1?module-name=m",
              "pkcs11:object=pin-value=1?module-name=m");
}

/* The name a PIN prompt shows for the key u names (want). */
static void key_name_is(const char *s, size_t cap, const char *want)
{
    struct nk_p11_uri *u = ok(s);
    char buf[96];

    assert_true(cap <= sizeof(buf));
    memset(buf, 'x', sizeof(buf));
    nk_p11_uri_key_name(u, buf, cap);
    assert_string_equal(buf, want);
    nk_p11_uri_free(u);
}

static void test_key_name(void **state)
{
    (void)state;
    key_name_is("pkcs11:token=t;object=my%20key;id=%01%02", 96, "my key");
    key_name_is("pkcs11:token=t;id=%01%ab%ff", 96, "01abff");
    key_name_is("pkcs11:token=t", 96, "");
    /* Cut to the buffer: whole hex bytes only. */
    key_name_is("pkcs11:id=%01%02%03", 6, "0102");
    key_name_is("pkcs11:object=abcdef", 4, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_empty),
        cmocka_unit_test(test_rfc_pubkey),
        cmocka_unit_test(test_rfc_private_pin_source),
        cmocka_unit_test(test_rfc_full),
        cmocka_unit_test(test_rfc_module_name_path),
        cmocka_unit_test(test_rfc_pin_value),
        cmocka_unit_test(test_rfc_slot_and_library),
        cmocka_unit_test(test_rfc_escapes),
        cmocka_unit_test(test_rfc_vendor),
        cmocka_unit_test(test_slot_id_and_id),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_hides_pin),
        cmocka_unit_test(test_public_id),
        cmocka_unit_test(test_key_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
