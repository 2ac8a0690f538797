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

/* The region from instance metadata (IMDSv2), malloc'd, or NULL. */
char *nk_aws_imds_region(const struct nk_kms_net *net);

#endif
