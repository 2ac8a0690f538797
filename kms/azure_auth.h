/* Inside the Azure credential chain (azure_creds.c): one function per way
 * of getting a token. Each fills t->value and t->expires; "unavailable"
 * (return 1, the reason in why) lets the chain go on, -1 is final. */
#ifndef NK_AZURE_AUTH_H
#define NK_AZURE_AUTH_H

#include <cjson/cJSON.h>

#include "azure_creds.h"

/* The Entra ID v2.0 token endpoint of tenant:
 * <AZURE_AUTHORITY_HOST or the cloud's>/<tenant>/oauth2/v2.0/token
 * (malloc'd). VALIDATION_ERROR for a tenant that is no GUID or domain. */
char *nk_azure_token_url(const struct nk_azure_auth *a, const char *tenant,
                         struct nk_err *err);

/* client_credentials grant at url with a client secret or a client
 * assertion (exactly one is set). what names the credential. */
int nk_azure_entra_post(const struct nk_azure_auth *a, const char *url,
                        const char *client, const char *secret,
                        const char *assertion, const char *what,
                        struct nk_azure_token *t,
                        struct nk_err *err) NK_MUST_CHECK;

/* A client assertion for url signed with the certificate credential in
 * path (PEM with key and certificate, or PKCS#12; password may be NULL):
 * PS256, header x5t#S256 (and x5c when send_chain), claims aud, iss, sub,
 * jti, iat, nbf, exp. */
int nk_azure_cert_assertion(const char *url, const char *client,
                            const char *path, const char *password,
                            int send_chain, char **jwt,
                            struct nk_err *err) NK_MUST_CHECK;

/* Takes access_token and its expiry (expires_on as Unix time, else
 * expires_in seconds; numbers or strings) from a token answer. */
int nk_azure_token_json(const cJSON *o, const char *what,
                        struct nk_azure_token *t,
                        struct nk_err *err) NK_MUST_CHECK;

/* Managed identity: App Service / Functions / Container Apps
 * (IDENTITY_ENDPOINT with IDENTITY_HEADER) or the instance metadata
 * service (AZURE_POD_IDENTITY_AUTHORITY_HOST or 169.254.169.254), never
 * through a proxy; a user-assigned identity by AZURE_CLIENT_ID. The
 * endpoint is written into where (for the cache identity). */
int nk_azure_mi_where(char *where, size_t n);
int nk_azure_mi_token(const struct nk_azure_auth *a, struct nk_azure_token *t,
                      char *why, size_t n, struct nk_err *err) NK_MUST_CHECK;

/* The Azure CLI: az account get-access-token, run without a shell within
 * the deadline. */
int nk_azure_cli_token(const struct nk_azure_auth *a, struct nk_azure_token *t,
                       char *why, size_t n, struct nk_err *err) NK_MUST_CHECK;

/* What az printed on stdout (len bytes at out): accessToken and its
 * expiry (expires_on, else expiresOn in local time) into t. ERROR when
 * there is no token or no expiry in the future. */
int nk_azure_cli_answer(const char *out, size_t len, struct nk_azure_token *t,
                        struct nk_err *err) NK_MUST_CHECK;

/* The first "ERROR:" line of what az printed on stderr (s, NUL-terminated;
 * else its first line), cut to 200 bytes of valid UTF-8, into buf. */
void nk_azure_cli_error(const char *s, char *buf, size_t n);

#endif
