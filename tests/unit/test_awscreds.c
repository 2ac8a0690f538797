/* The AWS credential chain's pure parts: the shared files read as
 * configparser reads them (sections, "key: value", case, continuation
 * lines, sso-session). */
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
    write_file("config",
               "# comment\n"
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
    write_file("credentials",
               "[dev]\n"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
