/* AWS credentials from the metadata endpoints: the ECS/EKS container
 * endpoint and EC2 instance metadata (IMDSv2), and the region from
 * instance metadata. Never through a proxy, short timeouts. */
#ifndef NK_AWS_META_H
#define NK_AWS_META_H

#include "aws_creds.h"

/* 1 when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set. */
int nk_aws_container_configured(void);

/* Credentials from the container endpoint; the endpoint's refusal is
 * ACCESS_DENIED, a broken answer ERROR. */
int nk_aws_container_creds(const struct nk_kms_net *net,
                           struct nk_aws_creds *out,
                           struct nk_err *err) NK_MUST_CHECK;

/* Credentials of the instance's role (IMDSv2); ACCESS_DENIED saying why
 * when there are none. */
int nk_aws_imds_creds(const struct nk_kms_net *net, struct nk_aws_creds *out,
                      struct nk_err *err) NK_MUST_CHECK;

/* The region from instance metadata, malloc'd, or NULL (also when
 * AWS_EC2_METADATA_DISABLED is true). */
char *nk_aws_imds_region(const struct nk_kms_net *net);

#endif
