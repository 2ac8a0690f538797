/* The login body of Vault's AWS auth method (iam): a SigV4-signed
 * sts:GetCallerIdentity request that is never sent by us; Vault replays it
 * to STS and maps the caller's ARN to the role. */
#ifndef NK_VAULT_AWS_H
#define NK_VAULT_AWS_H

#include <cjson/cJSON.h>

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

/* {"role", "iam_http_request_method", "iam_request_url",
 * "iam_request_body", "iam_request_headers"} signed with the AWS
 * credential chain (aws_creds.h); server_id (or NULL) is sent and signed
 * as X-Vault-AWS-IAM-Server-ID. *source names the AWS credential source
 * (at least 320 bytes). */
int nk_vault_aws_login_body(const struct nk_config *cfg,
                            const struct nk_kms_net *net, const char *role,
                            const char *server_id, cJSON **body, char *source,
                            size_t source_len,
                            struct nk_err *err) NK_MUST_CHECK;

#endif
