/* OAuth 2.0 token endpoints (RFC 6749 section 5, RFC 8693 token
 * exchange): a form POST answered by {"access_token", "expires_in", ...}
 * or by {"error", "error_description"}. Shared by the cloud credential
 * chains (Google's JWT-bearer and refresh-token grants and its STS; meant
 * for Entra ID too). Tokens are secrets: answers are wiped. */
#ifndef NK_OAUTH_H
#define NK_OAUTH_H

#include "common/buf.h"
#include "common/err.h"
#include "common/http.h"
#include "kms_util.h"

struct nk_oauth_token {
    char *access_token; /* secret */
    double expires;     /* Unix time; now when the answer gave no
                         * expires_in (the token is not worth caching) */
};

/* Wipes and frees the token; t may be zeroed or released. */
void nk_oauth_token_release(struct nk_oauth_token *t);

/* POSTs form (application/x-www-form-urlencoded) to url, with extra
 * headers (may be NULL), retrying 429, 5xx and broken connections within
 * net's deadline. A 4xx answer is ACCESS_DENIED (the credentials were
 * refused) with the endpoint's error code and description; what names the
 * call ("Google OAuth JWT-bearer grant"). The form is wiped afterwards
 * (it holds a secret). */
int nk_oauth_post(const struct nk_kms_net *net, const char *url,
                  struct nk_buf *form, const struct nk_http_header *extra,
                  size_t n_extra, const char *what, struct nk_oauth_token *out,
                  struct nk_err *err) NK_MUST_CHECK;

/* Takes access_token and expires_in (a number or a decimal string) from a
 * 200 answer into out, then wipes the body; ERROR naming what when the
 * answer has no token. */
int nk_oauth_parse(struct nk_http_resp *resp, const char *what,
                   struct nk_oauth_token *out,
                   struct nk_err *err) NK_MUST_CHECK;

/* "<error>: <error_description>" (or Google's {"error":{"status",
 * "message"}}) of an error answer into buf, with the request id when the
 * answer has one; "no error details" when the body says nothing. */
void nk_oauth_error_text(const struct nk_http_resp *resp, char *buf, size_t n);

#endif
