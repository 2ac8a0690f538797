/* Google REST calls (Cloud KMS, IAM Credentials): a JSON body, a Bearer
 * access token, retries for 429, 5xx and broken connections, and Google's
 * error model ({"error":{"code","message","status","details"}}) mapped to
 * notation's error codes, naming the IAM permission a 403 lacks. */
#ifndef NK_GCP_CALL_H
#define NK_GCP_CALL_H

#include <cjson/cJSON.h>

#include "common/err.h"
#include "kms_util.h"

struct nk_gcp_req {
    const struct nk_kms_net *net;
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *token;         /* Bearer access token (secret) */
    const char *quota_project; /* x-goog-user-project, or NULL */
    const cJSON *body;         /* or NULL */
    const char *what;          /* "Google Cloud KMS asymmetricSign" */
    const char *permission;    /* the IAM permission the call needs */
    const char *caller;        /* whose token, for 401/403 messages */
    long status;               /* out: HTTP status of the answer, or 0 */
    char gstatus[40];          /* out: Google's status of an error answer
                                * ("FAILED_PRECONDITION"), or "" */
    char gmessage[200];        /* out: Google's message of an error answer */
};

/* Makes the call and parses a 2xx answer into *out. An error answer is
 * 401/403 ACCESS_DENIED (with the permission lacking, a role that grants
 * it, and the caller), 400/404 VALIDATION_ERROR, else by status; messages
 * carry Google's status, message and request id, never the token. */
int nk_gcp_call(struct nk_gcp_req *r, cJSON **out,
                struct nk_err *err) NK_MUST_CHECK;

/* A predefined role granting permission ("roles/cloudkms.signer"), or
 * NULL when we know none. */
const char *nk_gcp_role_for(const char *permission);

#endif
