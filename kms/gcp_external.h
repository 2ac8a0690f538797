/* Google credentials obtained through another token: workload identity
 * federation (an "external_account" file: a subject token from a file or
 * a URL, exchanged at Google's STS) and service account impersonation
 * (IAM Credentials generateAccessToken). Used by gcp_creds.c. */
#ifndef NK_GCP_EXTERNAL_H
#define NK_GCP_EXTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "kms_util.h"
#include "oauth.h"

/* The token cache identity of the external_account file f (malloc'd into
 * *ident): token URL, audience, impersonation URL and a digest of what
 * proves the caller (the subject token of a file source, the URL and
 * headers of a URL source), so a cached token never serves a caller with
 * another subject token. Also a description for messages into source.
 * VALIDATION_ERROR for a file that lacks what the exchange needs or uses a
 * credential source not supported here (environment_id, executable). */
int nk_gcp_external_ident(const cJSON *f, char **ident, char *source, size_t n,
                          struct nk_err *err) NK_MUST_CHECK;

/* The access token of the external_account file f: subject token, STS
 * token exchange at token_url, then service account impersonation when
 * service_account_impersonation_url is set. */
int nk_gcp_external_token(const cJSON *f, const struct nk_kms_net *net,
                          struct nk_oauth_token *out,
                          struct nk_err *err) NK_MUST_CHECK;

/* The credentials an impersonation call is made with: the source's
 * access token (secret), whose it is (for a 403) and the quota project
 * its file names (user credentials need one), or NULL. */
struct nk_gcp_source {
    const char *token;
    const char *caller;
    const char *quota_project;
};

/* POSTs {"scope":[cloud-platform],"lifetime":"<lifetime_s>s"[,"delegates"]}
 * to url (a ...:generateAccessToken URL) as src. */
int nk_gcp_impersonate(const struct nk_kms_net *net, const char *url,
                       long lifetime_s, const cJSON *delegates,
                       const struct nk_gcp_source *src,
                       struct nk_oauth_token *out,
                       struct nk_err *err) NK_MUST_CHECK;

/* The service account email in an impersonation URL (".../serviceAccounts/
 * <email>:generateAccessToken") into buf, or "?" . */
const char *nk_gcp_impersonated_email(const char *url, char *buf, size_t n);

/* Unix time of an RFC 3339 timestamp as Google writes them
 * ("2026-05-01T12:34:56.789Z", or with a +hh:mm offset); -1 if not one. */
double nk_gcp_parse_time(const char *s);

#endif
