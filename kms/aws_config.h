/* AWS shared configuration: profile selection, the shared config and
 * credentials files (INI), region resolution and service endpoints. */
#ifndef NK_AWS_CONFIG_H
#define NK_AWS_CONFIG_H

#include "common/config.h"
#include "common/err.h"

/* pluginConfig "aws-profile", else AWS_PROFILE, else "default". */
const char *nk_aws_profile(const struct nk_config *cfg);

/* A value from the profile's section of ~/.aws/config (AWS_CONFIG_FILE;
 * "[profile NAME]" or "[default]") or of ~/.aws/credentials
 * (AWS_SHARED_CREDENTIALS_FILE; "[NAME]"). Malloc'd, or NULL. */
char *nk_aws_config_get(const char *profile, const char *key);
char *nk_aws_credentials_get(const char *profile, const char *key);

/* The last value of key in section sect of INI text (NUL-terminated,
 * cut into pieces in place): "key = value" lines, '#' and ';' comments.
 * Malloc'd, or NULL. */
char *nk_aws_ini_value(char *text, const char *sect, const char *key);

/* The service endpoint base URL (no trailing slash): AWS_ENDPOINT_URL_<ID>
 * (ID "KMS", "STS"), else AWS_ENDPOINT_URL, else the public endpoint for
 * region (FIPS with AWS_USE_FIPS_ENDPOINT=true or pluginConfig
 * "aws-fips"). Malloc'd. */
char *nk_aws_endpoint(const struct nk_config *cfg, const char *id,
                      const char *service, const char *region);

/* 1 when a boolean variable is "true" (case-insensitive) or "1". */
int nk_aws_env_true(const char *name);

#endif
