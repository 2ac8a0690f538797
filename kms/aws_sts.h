/* AWS STS: AssumeRoleWithWebIdentity (unsigned, the token is the
 * credential), AssumeRole (SigV4-signed with the source credentials), and
 * the signing of an STS form request, which Vault's AWS login sends
 * unsent. Query protocol: form POST, XML answer. */
#ifndef NK_AWS_STS_H
#define NK_AWS_STS_H

#include "aws_creds.h"
#include "sigv4.h"

/* What AssumeRole is asked for (the profile's settings). */
struct nk_aws_role {
    const char *arn;
    const char *session;     /* RoleSessionName */
    const char *external_id; /* or NULL */
    long duration;           /* DurationSeconds, 0 for STS's default */
};

/* The role's credentials from STS AssumeRoleWithWebIdentity with the
 * token in token_file (read again on every call: it rotates). */
int nk_aws_sts_web_identity(const struct nk_config *cfg, const char *region,
                            const struct nk_kms_net *net,
                            const char *token_file, const char *role_arn,
                            const char *session, struct nk_aws_creds *out,
                            struct nk_err *err) NK_MUST_CHECK;

/* The role's credentials from STS AssumeRole, signed with src. */
int nk_aws_sts_assume_role(const struct nk_config *cfg, const char *region,
                           const struct nk_kms_net *net,
                           const struct nk_aws_creds *src,
                           const struct nk_aws_role *role,
                           struct nk_aws_creds *out,
                           struct nk_err *err) NK_MUST_CHECK;

/* A signed STS form request: the headers to send (Content-Type, Host,
 * the extra ones given, then X-Amz-Date, X-Amz-Security-Token and
 * Authorization), all signed. h must hold n_extra + 6 entries; the
 * strings live in host and so until nk_sigv4_out_release. */
struct nk_aws_signed {
    struct nk_http_header h[12];
    size_t n;
    char host[256];
    struct nk_sigv4_out so;
};
int nk_aws_sts_sign(const char *url, const char *region,
                    const struct nk_aws_creds *c, const char *body,
                    const struct nk_http_header *extra, size_t n_extra,
                    struct nk_aws_signed *out,
                    struct nk_err *err) NK_MUST_CHECK;

#endif
