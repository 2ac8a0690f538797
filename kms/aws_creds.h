/* AWS credentials, resolved in the AWS SDKs' order: environment, the
 * profile's role (AssumeRole from a source profile or credential_source),
 * web identity (STS AssumeRoleWithWebIdentity), IAM Identity Center (SSO),
 * the credentials file, credential_process, the config file, container
 * credentials, then EC2 instance metadata (IMDSv2). docs/aws-kms.md lists
 * what each reads. */
#ifndef NK_AWS_CREDS_H
#define NK_AWS_CREDS_H

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

struct nk_aws_creds {
    char *akid;
    char *secret;      /* wiped on release */
    char *token;       /* session token or NULL; wiped on release */
    long long expires; /* Unix time they expire, or 0 when not known */
    char source[320];  /* where they came from, for the log and doctor */
    char skipped[768]; /* the sources tried before, and why they gave
                        * nothing ("; "-separated) */
};

/* Fills out from the first source that has credentials. A source that is
 * configured but fails (an expired SSO token, a failing credential_process,
 * STS refusing a role) is the error; ACCESS_DENIED when no source has
 * credentials. out->skipped is filled either way. region is used for STS.
 * Nothing is written to disk. */
int nk_aws_creds_get(const struct nk_config *cfg, const char *region,
                     const struct nk_kms_net *net, struct nk_aws_creds *out,
                     struct nk_err *err) NK_MUST_CHECK;
void nk_aws_creds_release(struct nk_aws_creds *c);

/* 1 when c holds credentials that are still good for the rest of the
 * command (they do not expire before net's deadline). */
int nk_aws_creds_fresh(const struct nk_aws_creds *c,
                       const struct nk_kms_net *net);

/* Reading answers (apart from the HTTP calls, for the fuzz harnesses):
 * STS AssumeRoleWithWebIdentity's answer r (aws_sts.c): on HTTP 200 the
 * XML's credentials into out, else the STS error mapped to a notation
 * code. */
int nk_aws_sts_answer(const struct nk_http_resp *r, struct nk_aws_creds *out,
                      struct nk_err *err) NK_MUST_CHECK;

/* AccessKeyId, SecretAccessKey, Token (and Expiration) of a JSON
 * credentials answer (aws_meta.c); r's body and the parsed strings are
 * wiped. -1 when the JSON or a key is missing. */
int nk_aws_json_creds(const struct nk_http_resp *r, const char *source,
                      struct nk_aws_creds *out) NK_MUST_CHECK;

/* The container credentials endpoint's answer r (aws_meta.c): on HTTP
 * 200 its JSON's credentials into out (a body that is not JSON is ERROR,
 * JSON without the keys ACCESS_DENIED), else the status mapped. */
int nk_aws_container_answer(const struct nk_http_resp *r,
                            struct nk_aws_creds *out,
                            struct nk_err *err) NK_MUST_CHECK;

/* ---- for the sources (aws_sts.c, aws_sso.c, aws_meta.c ...) ---- */

/* Copies the keys into c (token may be NULL or ""); -1 when akid or secret
 * is missing or empty. Keeps c's source and skipped. */
int nk_aws_creds_set(struct nk_aws_creds *c, const char *akid,
                     const char *secret, const char *token, long long expires);

/* Appends "; " and a printf'd note to c->skipped (cut when full). */
void nk_aws_creds_note(struct nk_aws_creds *c, const char *fmt, ...)
    NK_PRINTF(2, 3);

/* An RFC 3339 / ISO 8601 UTC time ("2026-11-29T22:00:00Z", fractions,
 * "+00:00" or "UTC" allowed) as Unix time; -1 when it is not one. */
int nk_aws_parse_time(const char *s, long long *out);

#endif
