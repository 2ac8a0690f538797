/* The access-token cache: round trip, expiry margin, the identity inside
 * the entry, the private-directory and private-file rules, the runtime
 * directory first, token-cache=false, drop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/mem.h"
#include "kms/token_cache.h"

static char root[] = "/tmp/nk-tokcache.XXXXXX";
static char run[512], cache[512];

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(root) == NULL)
        return -1;
    snprintf(run, sizeof(run), "%s/run", root);
    snprintf(cache, sizeof(cache), "%s/cache", root);
    mkdir(run, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1);
    setenv("XDG_CACHE_HOME", cache, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Removes every entry, so each test sees only its own. */
static void clean(void)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -f '%s'/notation-keystore/*.json", run);
    assert_int_equal(system(cmd), 0);
}

/* The one entry file in dir (there is one per test). */
static void only_entry(const char *dir, char *out, size_t n)
{
    char cmd[700];
    FILE *f;

    snprintf(cmd, sizeof(cmd), "ls -d '%s'/*.json", dir);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)n, f));
    out[strcspn(out, "\n")] = '\0';
    pclose(f);
}

static void test_round_trip(void **state)
{
    char *tok = NULL, dir[600], path[800];
    double exp = 0, when = (double)time(NULL) + 3600;
    struct stat st;

    (void)state;
    assert_int_equal(nk_token_cache_get("azure\nA", 60, &tok, &exp), -1);
    nk_token_cache_put("azure\nA", "eyJ0eXAi.secret-token", when);
    assert_int_equal(nk_token_cache_get("azure\nA", 60, &tok, &exp), 0);
    assert_string_equal(tok, "eyJ0eXAi.secret-token");
    assert_true(exp == when);
    nk_strfreezero(tok);
    /* in the runtime directory, private */
    snprintf(dir, sizeof(dir), "%s/notation-keystore", run);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    only_entry(dir, path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* another identity is another entry */
    assert_int_equal(nk_token_cache_get("azure\nB", 60, &tok, &exp), -1);
    nk_token_cache_drop("azure\nA");
    assert_int_equal(nk_token_cache_get("azure\nA", 60, &tok, &exp), -1);
}

static void test_margin(void **state)
{
    char *tok = NULL;
    double exp = 0;

    (void)state;
    nk_token_cache_put("gcp\nsoon", "t", (double)time(NULL) + 100);
    assert_int_equal(nk_token_cache_get("gcp\nsoon", 60, &tok, &exp), 0);
    nk_strfreezero(tok);
    /* valid for 100 s, but 300 s are wanted: a miss */
    assert_int_equal(nk_token_cache_get("gcp\nsoon", 300, &tok, &exp), -1);
    assert_null(tok);
    nk_token_cache_put("gcp\npast", "t", (double)time(NULL) - 1);
    assert_int_equal(nk_token_cache_get("gcp\npast", 0, &tok, &exp), -1);
}

/* A file is used only when it is a regular file of ours nobody else may
 * read or write, and names the identity asked for. */
static void test_private_file(void **state)
{
    char *tok = NULL, dir[600], path[800], other[800];
    double exp = 0;

    (void)state;
    clean();
    snprintf(dir, sizeof(dir), "%s/notation-keystore", run);
    nk_token_cache_put("file\nX", "t", (double)time(NULL) + 3600);
    only_entry(dir, path, sizeof(path));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(nk_token_cache_get("file\nX", 0, &tok, &exp), -1);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(nk_token_cache_get("file\nX", 0, &tok, &exp), 0);
    nk_strfreezero(tok);
    /* a symlink to a good entry is not followed */
    snprintf(other, sizeof(other), "%s/elsewhere.json", root);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(symlink(other, path), 0);
    assert_int_equal(nk_token_cache_get("file\nX", 0, &tok, &exp), -1);
    unlink(path);
    /* an entry moved to another identity's name does not answer for it */
    nk_token_cache_put("file\nY", "t", (double)time(NULL) + 3600);
    only_entry(dir, path, sizeof(path));
    nk_token_cache_drop("file\nY");
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(nk_token_cache_get("file\nY", 0, &tok, &exp), -1);
    unlink(path);
}

static void test_private_dir(void **state)
{
    char *tok = NULL, dir[600];
    double exp = 0;

    (void)state;
    clean();
    snprintf(dir, sizeof(dir), "%s/notation-keystore", run);
    nk_token_cache_put("dir\nZ", "t", (double)time(NULL) + 3600);
    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(nk_token_cache_get("dir\nZ", 0, &tok, &exp), -1);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(nk_token_cache_get("dir\nZ", 0, &tok, &exp), 0);
    nk_strfreezero(tok);
    nk_token_cache_drop("dir\nZ");
}

/* Without XDG_RUNTIME_DIR the cache directory is used, in tokens/. */
static void test_cache_dir(void **state)
{
    char *tok = NULL, dir[600];
    double exp = 0;
    struct stat st;

    (void)state;
    unsetenv("XDG_RUNTIME_DIR");
    nk_token_cache_put("nort\nW", "t", (double)time(NULL) + 3600);
    snprintf(dir, sizeof(dir), "%s/notation-keystore/tokens", cache);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(nk_token_cache_get("nort\nW", 0, &tok, &exp), 0);
    nk_strfreezero(tok);
    setenv("XDG_RUNTIME_DIR", run, 1);
    assert_int_equal(nk_token_cache_get("nort\nW", 0, &tok, &exp), -1);
}

static void test_enabled(void **state)
{
    struct nk_config c;

    (void)state;
    nk_config_init(&c);
    assert_true(nk_token_cache_enabled(&c));
    nk_config_set(&c, "token-cache", "false");
    assert_false(nk_token_cache_enabled(&c));
    nk_config_set(&c, "token-cache", "maybe");
    assert_false(nk_token_cache_enabled(&c));
    nk_config_set(&c, "token-cache", "true");
    assert_true(nk_token_cache_enabled(&c));
    nk_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_margin),
        cmocka_unit_test(test_private_file), cmocka_unit_test(test_private_dir),
        cmocka_unit_test(test_cache_dir),    cmocka_unit_test(test_enabled),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
