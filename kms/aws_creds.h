/* AWS credentials, resolved the way AWS SDKs do: environment, web identity
 * (STS AssumeRoleWithWebIdentity), shared files with a profile, container
 * credentials, then EC2 instance metadata (IMDSv2). */
#ifndef NK_AWS_CREDS_H
#define NK_AWS_CREDS_H

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

struct nk_aws_creds {
    char *akid;
    char *secret; /* wiped on release */
    char *token;  /* session token or NULL; wiped on release */
    const char *source; /* "environment", "web identity" ... for messages */
};

/* Fills out from the first source that has credentials; ACCESS_DENIED when
 * none does, naming what was tried. region is used for STS. */
int nk_aws_creds_get(const struct nk_config *cfg, const char *region,
                     const struct nk_kms_net *net, struct nk_aws_creds *out,
                     struct nk_err *err) NK_MUST_CHECK;
void nk_aws_creds_release(struct nk_aws_creds *c);

/* The answer r of STS AssumeRoleWithWebIdentity: on HTTP 200 the XML's
 * AccessKeyId, SecretAccessKey and SessionToken into out, else the STS
 * error (Code, Message, RequestId) mapped to a notation code. */
int nk_aws_sts_answer(const struct nk_http_resp *r, struct nk_aws_creds *out,
                      struct nk_err *err) NK_MUST_CHECK;

/* AccessKeyId, SecretAccessKey and Token of a JSON credentials answer
 * (instance metadata) into out; r's body and the
 * parsed strings are wiped. -1 when the JSON or a key is missing. */
int nk_aws_json_creds(const struct nk_http_resp *r, const char *source,
                      struct nk_aws_creds *out) NK_MUST_CHECK;

/* The container credentials endpoint's answer r: on HTTP 200 its JSON's
 * credentials into out (nk_aws_json_creds' rules; a body that is not
 * JSON is ERROR, JSON without the keys ACCESS_DENIED), else the status
 * mapped to a notation code. */
int nk_aws_container_answer(const struct nk_http_resp *r,
                            struct nk_aws_creds *out,
                            struct nk_err *err) NK_MUST_CHECK;

/* The region from instance metadata (IMDSv2), malloc'd, or NULL. */
char *nk_aws_imds_region(const struct nk_kms_net *net);

#endif
