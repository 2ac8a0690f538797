/* The AWS credential chain's pure parts: the shared files read as
 * configparser reads them (sections, "key: value", case, continuation
 * lines, sso-session), credential_process word splitting (as Python's
 * shlex.split, which botocore uses) and its strict output, the times
 * AWS writes, and the SSO token cache's file name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kms/aws_config.h"
#include "kms/aws_creds.h"
#include "kms/aws_process.h"
#include "kms/aws_sso.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void value_is(char *got, const char *want)
{
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_shared_files(void **state)
{
    char cfgp[128], credp[128];

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/nk-awscfg.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cfgp, sizeof(cfgp), "%s/config", dir);
    snprintf(credp, sizeof(credp), "%s/credentials", dir);
    setenv("AWS_CONFIG_FILE", cfgp, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", credp, 1);
    write_file("config", "# comment\n"
                         "[default]\n"
                         "region = eu-west-1\n"
                         "[profile  dev]\n"
                         "Region: us-east-2\n"
                         "s3 =\n"
                         "    region = nested-not-a-key\n"
                         "  \n"
                         "    max_concurrent_requests = 20\n"
                         "sso_session = corp\n"
                         "  ; indented comment\n"
                         "role_arn = arn:aws:iam::1:role/a=b\n"
                         "[profile \"quoted name\"]\n"
                         "region = ap-south-1\n"
                         "[dev]\n"
                         "region = not-a-profile-in-config\n"
                         "[profiledev]\n"
                         "region = no-space\n"
                         "[sso-session corp]\n"
                         "sso_start_url = https://corp.awsapps.com/start\n"
                         "sso_region = eu-central-1\n");
    write_file("credentials", "[dev]\n"
                              "aws_access_key_id = AKIADEV\n"
                              "region = from-credentials\n"
                              "[only-creds]\n"
                              "aws_access_key_id = AKIAONLY\n");
    value_is(nk_aws_config_get("default", "region"), "eu-west-1");
    value_is(nk_aws_config_get("dev", "region"), "us-east-2");
    value_is(nk_aws_config_get("dev", "REGION"), "us-east-2");
    value_is(nk_aws_config_get("dev", "max_concurrent_requests"), NULL);
    value_is(nk_aws_config_get("dev", "sso_session"), "corp");
    value_is(nk_aws_config_get("dev", "role_arn"), "arn:aws:iam::1:role/a=b");
    value_is(nk_aws_config_get("quoted name", "region"), "ap-south-1");
    value_is(nk_aws_config_get("profiledev", "region"), NULL);
    value_is(nk_aws_credentials_get("dev", "aws_access_key_id"), "AKIADEV");
    value_is(nk_aws_profile_get("dev", "region"), "from-credentials");
    value_is(nk_aws_profile_get("dev", "sso_session"), "corp");
    value_is(nk_aws_sso_session_get("corp", "sso_region"), "eu-central-1");
    value_is(nk_aws_sso_session_get("dev", "sso_region"), NULL);
    assert_true(nk_aws_profile_exists("dev"));
    assert_true(nk_aws_profile_exists("only-creds"));
    assert_true(nk_aws_profile_exists("default"));
    assert_false(nk_aws_profile_exists("nosuch"));
    assert_true(nk_aws_sso_session_exists("corp"));
    assert_false(nk_aws_sso_session_exists("dev"));
    unlink(cfgp);
    unlink(credp);
    rmdir(dir);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

/* Splits cmd and compares with the NULL-terminated want. */
static void split_is(const char *cmd, const char *const *want)
{
    struct nk_err err = {0};
    char **v = NULL;
    size_t i;

    assert_int_equal(nk_aws_argv_split(cmd, &v, &err), 0);
    for (i = 0; want[i] != NULL; i++) {
        assert_non_null(v[i]);
        assert_string_equal(v[i], want[i]);
    }
    assert_null(v[i]);
    nk_aws_argv_free(v);
}

static void split_fails(const char *cmd)
{
    struct nk_err err = {0};
    char **v = (char **)1;

    assert_int_equal(nk_aws_argv_split(cmd, &v, &err), -1);
    assert_null(v);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
}

static void test_argv_split(void **state)
{
    (void)state;
    split_is("/bin/tool", (const char *const[]){"/bin/tool", NULL});
    split_is("  tool\t--a  b \n",
             (const char *const[]){"tool", "--a", "b", NULL});
    split_is("tool \"two words\" 'it''s' x'y z'w",
             (const char *const[]){"tool", "two words", "its", "xy zw", NULL});
    /* in "...", a backslash escapes only '"' and '\' */
    split_is("t \"a \\\"b\\\" \\\\ \\n\"",
             (const char *const[]){"t", "a \"b\" \\ \\n", NULL});
    /* in '...', nothing is special */
    split_is("t 'a\\b \"c\"'", (const char *const[]){"t", "a\\b \"c\"", NULL});
    /* outside quotes a backslash escapes any character */
    split_is("t a\\ b \\'c", (const char *const[]){"t", "a b", "'c", NULL});
    split_is("t \"\" ''", (const char *const[]){"t", "", "", NULL});
    split_fails("");
    split_fails("   ");
    split_fails("tool \"open");
    split_fails("tool 'open");
    split_fails("tool trailing\\");
}

static int parse(const char *json, long long now, struct nk_aws_creds *c,
                 struct nk_err *err)
{
    memset(c, 0, sizeof(*c));
    memset(err, 0, sizeof(*err));
    return nk_aws_process_parse(json, strlen(json), now, "test", c, err);
}

static void test_process_output(void **state)
{
    struct nk_aws_creds c;
    struct nk_err err;
    const long long now = 1796000000; /* 2026-11-30 */

    (void)state;
    assert_int_equal(parse("{\"Version\":1,\"AccessKeyId\":\"AK\","
                           "\"SecretAccessKey\":\"SK\",\"SessionToken\":"
                           "\"ST\",\"Expiration\":\"2026-12-01T00:00:00Z\"}"
                           "\n",
                           now, &c, &err),
                     0);
    assert_string_equal(c.akid, "AK");
    assert_string_equal(c.secret, "SK");
    assert_string_equal(c.token, "ST");
    assert_int_equal(c.expires, 1796083200);
    nk_aws_creds_release(&c);
    assert_int_equal(parse("{\"Version\":1,\"AccessKeyId\":\"AK\","
                           "\"SecretAccessKey\":\"SK\"}",
                           now, &c, &err),
                     0);
    assert_null(c.token);
    assert_int_equal(c.expires, 0);
    nk_aws_creds_release(&c);
    /* expired: ACCESS_DENIED */
    assert_int_equal(parse("{\"Version\":1,\"AccessKeyId\":\"AK\","
                           "\"SecretAccessKey\":\"SK\",\"Expiration\":"
                           "\"2020-01-01T00:00:00Z\"}",
                           now, &c, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_ACCESS);
    nk_aws_creds_release(&c);
    /* malformed: ERROR, never the secret in the message */
    {
        static const char *const bad[] = {
            "",
            "not json",
            "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
            "\"SK\"} trailing",
            "{\"Version\":2,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
            "\"SK\"}",
            "{\"Version\":\"1\",\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
            "\"SK\"}",
            "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\"}",
            "{\"Version\":1,\"AccessKeyId\":\"AK\"}",
            "{\"Version\":1,\"AccessKeyId\":\"\",\"SecretAccessKey\":\"SK\"}",
            "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":7}",
            "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
            "\"SK\",\"SessionToken\":5}",
            "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
            "\"SK\",\"Expiration\":\"tomorrow\"}",
            "[1]",
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(parse(bad[i], now, &c, &err), -1);
            assert_int_equal(err.code, NK_ERR_GENERIC);
            assert_null(strstr(err.msg, "SK"));
            nk_aws_creds_release(&c);
        }
    }
}

static void time_is(const char *s, long long want)
{
    long long t = 0;

    assert_int_equal(nk_aws_parse_time(s, &t), want < 0 ? -1 : 0);
    if (want >= 0)
        assert_int_equal(t, want);
}

static void test_times(void **state)
{
    (void)state;
    time_is("2026-11-29T22:00:00Z", 1795989600);
    time_is("2026-11-29T22:00:00.123456Z", 1795989600);
    time_is("2026-11-29T23:00:00+01:00", 1795989600);
    time_is("2026-11-29T21:30:00-0030", 1795989600);
    time_is("2026-11-29 22:00:00 UTC", 1795989600);
    time_is("2026-11-29T22:00:00", -1);
    time_is("2026-13-29T22:00:00Z", -1);
    time_is("2026-11-29T22:00:00Zjunk", -1);
    time_is("", -1);
}

static void test_sso_cache_key(void **state)
{
    char hex[41];

    (void)state;
    /* the SHA-1 of the session name, or of the legacy start URL */
    nk_aws_sso_cache_key("corp", hex);
    assert_string_equal(hex, "ee0bfd2552fbd840c02cc48b6e823320543c450f");
    nk_aws_sso_cache_key("https://corp.awsapps.com/start", hex);
    assert_string_equal(hex, "a51746d4aa793ae07b25e90c3a5db96fc7832bd7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_argv_split),
        cmocka_unit_test(test_process_output),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_sso_cache_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
