/* PIN sources (precedence, the one-trailing-newline rule, file: URIs) and
 * module resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem.h"
#include "pkcs11/module.h"
#include "pkcs11/pin.h"

static char dir[] = "/tmp/nk-p11pin.XXXXXX";

static const char *write_file(const char *name, const char *data, size_t n)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

/* Reads a PIN file with content data; want NULL means an error. */
static void pin_case(const char *data, size_t n, const char *want)
{
    struct nk_err err = {0};
    char *pin = NULL;
    const char *p = write_file("pin", data, n);
    int rc = nk_p11_pin_read_file(p, "test", &pin, &err);

    if (want == NULL) {
        assert_int_equal(rc, -1);
        assert_null(pin);
        assert_int_equal(err.code, NK_ERR_ACCESS);
        assert_non_null(strstr(err.msg, p));
        return;
    }
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(pin, want);
    nk_strfreezero(pin);
}

static void test_pin_newlines(void **state)
{
    (void)state;
    pin_case("1234", 4, "1234");
    pin_case("1234\n", 5, "1234");
    pin_case("1234\r\n", 6, "1234");
    pin_case("1234\n\n", 6, "1234\n"); /* exactly one is dropped */
    pin_case("1234\r", 5, "1234\r");   /* a lone CR is not a line end */
    pin_case(" 12 34 ", 7, " 12 34 "); /* spaces are part of the PIN */
}

static void test_pin_bad_files(void **state)
{
    char big[1100];
    struct nk_err err = {0};
    char *pin = NULL;

    (void)state;
    pin_case("", 0, NULL);
    pin_case("\n", 1, NULL);
    pin_case("12\0"
             "34",
             5, NULL);
    memset(big, '1', sizeof(big));
    pin_case(big, sizeof(big), NULL);
    assert_int_equal(
        nk_p11_pin_read_file("/nonexistent/pin", "pin-source", &pin, &err), -1);
    assert_int_equal(err.code, NK_ERR_ACCESS);
    assert_non_null(strstr(err.msg, "\"/nonexistent/pin\" (from pin-source)"));
}

static void test_pin_source_uris(void **state)
{
    const char *p = write_file("pin2", "4321\n", 5);
    char src[300];
    struct nk_err err = {0};
    char *pin = NULL;

    (void)state;
    snprintf(src, sizeof(src), "file:%s", p);
    assert_int_equal(nk_p11_pin_source(src, &pin, &err), 0);
    assert_string_equal(pin, "4321");
    nk_strfreezero(pin);
    snprintf(src, sizeof(src), "file://%s", p);
    assert_int_equal(nk_p11_pin_source(src, &pin, &err), 0);
    assert_string_equal(pin, "4321");
    nk_strfreezero(pin);
    snprintf(src, sizeof(src), "file://localhost%s", p);
    assert_int_equal(nk_p11_pin_source(src, &pin, &err), 0);
    nk_strfreezero(pin);
    assert_int_equal(nk_p11_pin_source(p, &pin, &err), 0);
    nk_strfreezero(pin);
    snprintf(src, sizeof(src), "file://otherhost%s", p);
    assert_int_equal(nk_p11_pin_source(src, &pin, &err), -1);
    assert_non_null(strstr(err.msg, "local"));
    nk_err_clear(&err);
    assert_int_equal(nk_p11_pin_source("|/bin/askpin", &pin, &err), -1);
    assert_null(pin);
}

static struct nk_p11_uri *uri(const char *s)
{
    struct nk_err err = {0};
    struct nk_p11_uri *u = NULL;

    assert_int_equal(nk_p11_uri_parse(s, &u, &err), 0);
    return u;
}

static void test_pin_precedence(void **state)
{
    char *pf = strdup(write_file("pin3", "1111\n", 5));
    char *cfgfile = strdup(write_file("pin4", "2222", 4));
    char s[400];
    struct nk_config cfg;
    struct nk_err err = {0};
    struct nk_p11_uri *u;
    const char *from = NULL;
    char *pin = NULL;

    (void)state;
    nk_config_init(&cfg);
    nk_config_set(&cfg, "pin-file", cfgfile);
    setenv("NOTATION_KEYSTORE_PIN", "3333", 1);
    snprintf(s, sizeof(s), "pkcs11:object=k?pin-source=%s&pin-value=4444", pf);
    u = uri(s);
    assert_int_equal(nk_p11_pin_resolve(u, &cfg, &pin, &from, &err), 0);
    assert_string_equal(pin, "1111");
    assert_string_equal(from, "pin-source");
    nk_strfreezero(pin);
    nk_p11_uri_free(u);
    u = uri("pkcs11:object=k?pin-value=4444");
    assert_int_equal(nk_p11_pin_resolve(u, &cfg, &pin, &from, &err), 0);
    assert_string_equal(pin, "4444");
    nk_strfreezero(pin);
    nk_p11_uri_free(u);
    u = uri("pkcs11:object=k");
    assert_int_equal(nk_p11_pin_resolve(u, &cfg, &pin, &from, &err), 0);
    assert_string_equal(pin, "3333");
    assert_string_equal(from, "NOTATION_KEYSTORE_PIN");
    nk_strfreezero(pin);
    unsetenv("NOTATION_KEYSTORE_PIN");
    assert_int_equal(nk_p11_pin_resolve(u, &cfg, &pin, &from, &err), 0);
    assert_string_equal(pin, "2222");
    assert_string_equal(from, "pluginConfig pin-file");
    nk_strfreezero(pin);
    nk_config_release(&cfg);
    assert_int_equal(nk_p11_pin_resolve(u, &cfg, &pin, &from, &err), 0);
    assert_null(pin);
    nk_p11_uri_free(u);
    free(cfgfile);
    free(pf);
}

static void test_module_find(void **state)
{
    struct nk_err err = {0};
    char *p = NULL;

    (void)state;
    if (access("/usr/lib/softhsm/libsofthsm2.so", F_OK) != 0)
        skip();
    /* multiarch softhsm dir or /usr/lib/softhsm: both hold it */
    assert_int_equal(nk_p11_module_find("softhsm2", &p, &err), 0);
    assert_non_null(strstr(p, "softhsm/libsofthsm2.so"));
    free(p);
    assert_int_equal(nk_p11_module_find("libsofthsm2.so", &p, &err), 0);
    free(p);
    assert_int_equal(nk_p11_module_find("no-such-module", &p, &err), -1);
    assert_null(p);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "\"no-such-module\" not found"));
    nk_err_clear(&err);
    assert_int_equal(nk_p11_module_find("/usr/lib/x.so", &p, &err), -1);
    assert_non_null(strstr(err.msg, "module-path"));
}

static void test_module_precedence(void **state)
{
    struct nk_config cfg;
    struct nk_err err = {0};
    struct nk_p11_uri *u;
    const char *from = NULL;
    char *p = NULL;

    (void)state;
    nk_config_init(&cfg);
    nk_config_set(&cfg, "pkcs11-module", "/cfg/module.so");
    setenv("NOTATION_KEYSTORE_PKCS11_MODULE", "/env/module.so", 1);
    u = uri("pkcs11:object=k?module-path=/uri/module.so&module-name=x");
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), 0);
    assert_string_equal(p, "/uri/module.so");
    assert_string_equal(from, "module-path");
    free(p);
    nk_p11_uri_free(u);
    u = uri("pkcs11:object=k");
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), 0);
    assert_string_equal(p, "/cfg/module.so");
    free(p);
    nk_config_release(&cfg);
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), 0);
    assert_string_equal(p, "/env/module.so");
    assert_string_equal(from, "NOTATION_KEYSTORE_PKCS11_MODULE");
    free(p);
    unsetenv("NOTATION_KEYSTORE_PKCS11_MODULE");
    nk_p11_uri_free(u);
}

static void test_module_open_errors(void **state)
{
    struct nk_err err = {0};
    CK_FUNCTION_LIST *fl = NULL;
    void *dl = NULL;
    const char *notso = write_file("notso.so", "hello", 5);

    (void)state;
    assert_int_equal(
        nk_p11_module_open("/nonexistent/m.so", "module-path", &dl, &fl, &err),
        -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "\"/nonexistent/m.so\" (from "
                                    "module-path)"));
    assert_non_null(strstr(err.msg, "No such file"));
    nk_err_clear(&err);
    assert_int_equal(nk_p11_module_open(notso, "module-path", &dl, &fl, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "cannot load"));
    nk_err_clear(&err);
    assert_int_equal(nk_p11_module_open("/tmp", "module-path", &dl, &fl, &err),
                     -1);
    assert_non_null(strstr(err.msg, "not a file"));
    assert_null(dl);
}

/* A relative path with a '/' is refused from each source, naming it; a
 * bare name is searched in the system directories only: a file of that
 * name in the current directory is never picked. */
static void test_module_relative(void **state)
{
    static const char *const rel[] = {"./m.so", "lib/m.so", "../m.so"};
    struct nk_config cfg;
    struct nk_err err = {0};
    struct nk_p11_uri *u;
    const char *from = NULL;
    char *p = NULL, *old = getcwd(NULL, 0), *id;
    CK_FUNCTION_LIST *fl = NULL;
    void *dl = NULL;
    size_t i;

    (void)state;
    nk_config_init(&cfg);
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        id = nk_xasprintf("pkcs11:object=k?module-path=%s", rel[i]);
        u = uri(id);
        assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), -1);
        assert_null(p);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_non_null(strstr(err.msg, "(from module-path) must be absolute"));
        nk_err_clear(&err);
        nk_p11_uri_free(u);
        free(id);
    }
    u = uri("pkcs11:object=k");
    nk_config_set(&cfg, "pkcs11-module", "sub/m.so");
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), -1);
    assert_non_null(strstr(err.msg, "\"sub/m.so\" (from pluginConfig "
                                    "pkcs11-module) must be absolute"));
    nk_err_clear(&err);
    nk_config_release(&cfg);
    setenv("NOTATION_KEYSTORE_PKCS11_MODULE", "./m.so", 1);
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), -1);
    assert_non_null(strstr(err.msg, "(from NOTATION_KEYSTORE_PKCS11_MODULE) "
                                    "must be absolute"));
    nk_err_clear(&err);
    unsetenv("NOTATION_KEYSTORE_PKCS11_MODULE");
    assert_int_equal(nk_p11_module_value("x/m.so", "--module", &p, &err), -1);
    assert_non_null(strstr(err.msg, "(from --module) must be absolute"));
    nk_err_clear(&err);
    /* The loader itself refuses anything but an absolute path. */
    assert_int_equal(nk_p11_module_open("m.so", "test", &dl, &fl, &err), -1);
    assert_non_null(strstr(err.msg, "must be absolute"));
    nk_err_clear(&err);
    nk_p11_uri_free(u);

    /* "nk-cwd-module.so" exists in the current directory only. */
    write_file("nk-cwd-module.so", "x", 1);
    assert_int_equal(chdir(dir), 0);
    u = uri("pkcs11:object=k?module-path=nk-cwd-module.so");
    assert_int_equal(nk_p11_module_resolve(u, &cfg, &p, &from, &err), -1);
    assert_null(p);
    assert_non_null(strstr(err.msg, "\"nk-cwd-module.so\" not found in"));
    nk_err_clear(&err);
    nk_p11_uri_free(u);
    assert_int_equal(
        nk_p11_module_value("nk-cwd-module.so", "--module", &p, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(chdir(old), 0);
    free(old);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_newlines),
        cmocka_unit_test(test_pin_bad_files),
        cmocka_unit_test(test_pin_source_uris),
        cmocka_unit_test(test_pin_precedence),
        cmocka_unit_test(test_module_find),
        cmocka_unit_test(test_module_precedence),
        cmocka_unit_test(test_module_open_errors),
        cmocka_unit_test(test_module_relative),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
