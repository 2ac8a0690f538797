/* Google credentials in Application Default Credentials' order: the file
 * GOOGLE_APPLICATION_CREDENTIALS names, else gcloud's ADC file
 * ($CLOUDSDK_CONFIG or ~/.config/gcloud/application_default_credentials.
 * json), of type service_account (a JWT-bearer grant signed by us),
 * authorized_user (refresh token), external_account (workload identity
 * federation) or impersonated_service_account; else the metadata server
 * (GCE_METADATA_HOST, default 169.254.169.254, never through a proxy).
 * Access tokens are kept in the token cache (token_cache.h) until shortly
 * before they expire; they are never logged and are wiped after use. */
#ifndef NK_GCP_CREDS_H
#define NK_GCP_CREDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/config.h"
#include "common/err.h"
#include "kms_util.h"

/* The scope asked for everywhere: Cloud KMS accepts it, and STS and
 * impersonation need it. */
#define NK_GCP_SCOPE "https://www.googleapis.com/auth/cloud-platform"

struct nk_gcp_creds {
    char *token;         /* Bearer access token (secret), or NULL */
    double expires;      /* Unix time */
    char *ident;         /* the token cache identity, or NULL */
    int from_cache;      /* token came from the token cache */
    char *quota_project; /* the file's quota_project_id, or NULL */
    char source[240];    /* who the token is for and where it came from,
                          * for messages and doctor (never a secret) */
};

/* What the credentials file f (a JSON object, found through from, e.g.
 * "GOOGLE_APPLICATION_CREDENTIALS") describes: the token cache identity
 * (malloc'd into *ident) and who the token is for, for messages, into
 * source. VALIDATION_ERROR for a type not supported or a field missing;
 * an external_account file with a file source reads the subject token
 * file it names (the identity holds a digest of it). */
int nk_gcp_adc_plan(const cJSON *f, const char *from, char **ident,
                    char *source, size_t n, struct nk_err *err) NK_MUST_CHECK;

/* Fills c with an access token (from the token cache when pluginConfig
 * token-cache allows and a fresh one is there). No credentials at all, or
 * credentials the token endpoint refuses, are ACCESS_DENIED; a credentials
 * file that is unreadable or malformed is VALIDATION_ERROR naming it. */
int nk_gcp_creds_get(struct nk_gcp_creds *c, const struct nk_config *cfg,
                     const struct nk_kms_net *net,
                     struct nk_err *err) NK_MUST_CHECK;

/* The service refused c->token (HTTP 401): forgets it and drops its cache
 * entry. Nonzero when it had come from the cache, so that a fresh token is
 * worth one more try. */
int nk_gcp_creds_refused(struct nk_gcp_creds *c);

void nk_gcp_creds_release(struct nk_gcp_creds *c);

#endif
