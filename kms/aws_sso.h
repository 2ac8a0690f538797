/* AWS IAM Identity Center (SSO): the profile's sso_* settings (or its
 * [sso-session]), the token `aws sso login` cached under
 * ~/.aws/sso/cache/, and the portal's GetRoleCredentials. No login flow is
 * ever started here. */
#ifndef NK_AWS_SSO_H
#define NK_AWS_SSO_H

#include "aws_creds.h"

/* 1 when the profile has SSO settings (sso_session or sso_start_url ...). */
int nk_aws_sso_configured(const char *profile);

/* The role credentials of the profile's sso_account_id / sso_role_name.
 * VALIDATION_ERROR for incomplete or contradicting settings;
 * ACCESS_DENIED when no token is cached, it expired or the portal refuses
 * it, the message saying to run `aws sso login --profile <profile>`. */
int nk_aws_sso_creds(const struct nk_kms_net *net, const char *profile,
                     struct nk_aws_creds *out,
                     struct nk_err *err) NK_MUST_CHECK;

/* The cache file name's stem: the SHA-1 (hex) of the sso-session name, or
 * of the start URL for the legacy form. hex holds 41 bytes. */
void nk_aws_sso_cache_key(const char *text, char *hex);

#endif
