/* AWS shared configuration: profile selection, the shared config and
 * credentials files (INI, read as the SDKs read them), region resolution
 * and service endpoints. */
#ifndef NK_AWS_CONFIG_H
#define NK_AWS_CONFIG_H

#include "common/config.h"
#include "common/err.h"

/* pluginConfig "aws-profile", else AWS_PROFILE, else "default". */
const char *nk_aws_profile(const struct nk_config *cfg);

/* 1 when pluginConfig "aws-profile" chose the profile: like the CLI's
 * --profile, it then wins over credentials in the environment. */
int nk_aws_profile_explicit(const struct nk_config *cfg);

/* A value from the profile's section of ~/.aws/config (AWS_CONFIG_FILE;
 * "[profile NAME]" or "[default]") or of ~/.aws/credentials
 * (AWS_SHARED_CREDENTIALS_FILE; "[NAME]"). Malloc'd, or NULL. Keys are
 * matched without regard to case; indented continuation lines (nested
 * settings such as "s3 =") are not keys of the profile. */
char *nk_aws_config_get(const char *profile, const char *key);
char *nk_aws_credentials_get(const char *profile, const char *key);

/* The last value of key in the section whose header is exactly sect
 * ("profile dev", "default", "sso-session corp") of INI text
 * (NUL-terminated, cut into pieces in place), read as above. Malloc'd, or
 * NULL. */
char *nk_aws_ini_value(char *text, const char *sect, const char *key);

/* A setting of the profile as the SDKs merge the two files: the
 * credentials file's value, else the config file's. */
char *nk_aws_profile_get(const char *profile, const char *key);

/* 1 when either file has a section for the profile. */
int nk_aws_profile_exists(const char *profile);

/* A value of "[sso-session NAME]" in the config file, or NULL; and whether
 * that section exists. */
char *nk_aws_sso_session_get(const char *name, const char *key);
int nk_aws_sso_session_exists(const char *name);

/* AWS_ENDPOINT_URL_<ID>, else AWS_ENDPOINT_URL, without trailing slashes
 * (malloc'd); NULL when neither is set. */
char *nk_aws_endpoint_override(const char *id);

/* The service endpoint base URL (no trailing slash): the override above
 * (ID "KMS", "STS"), else the public endpoint for region (FIPS with
 * AWS_USE_FIPS_ENDPOINT=true or pluginConfig "aws-fips"). Malloc'd. */
char *nk_aws_endpoint(const struct nk_config *cfg, const char *id,
                      const char *service, const char *region);

/* "amazonaws.com", or "amazonaws.com.cn" for the China regions. */
const char *nk_aws_dns_suffix(const char *region);

/* 1 when a boolean variable is "true" (case-insensitive) or "1". */
int nk_aws_env_true(const char *name);

#endif
