/* One AWS KMS JSON 1.1 API call: SigV4-signed POST with retries, and the
 * service's errors mapped to notation error codes. */
#ifndef NK_AWS_CALL_H
#define NK_AWS_CALL_H

#include <cjson/cJSON.h>

#include "aws_creds.h"
#include "common/err.h"
#include "kms_util.h"

struct nk_aws_target {
    const char *endpoint; /* "https://kms.eu-west-1.amazonaws.com[/path]" */
    const char *region;
    const struct nk_kms_net *net;
    const struct nk_aws_creds *creds;
    const char *key_ref; /* named in error messages */
};

/* Calls TrentService.<op> with body; *out is the parsed answer. Errors
 * carry the service's code, message and request id. */
int nk_aws_kms_call(const struct nk_aws_target *t, const char *op,
                    const cJSON *body, cJSON **out,
                    struct nk_err *err) NK_MUST_CHECK;

/* The answer r to TrentService.<op>: *out the JSON object of a 200, else
 * the service's error (code after '#', message, request id) mapped to a
 * notation code. t->key_ref names the key in messages. */
int nk_aws_kms_answer(const struct nk_aws_target *t, const char *op,
                      const struct nk_http_resp *r, cJSON **out,
                      struct nk_err *err) NK_MUST_CHECK;

/* The retry policy of AWS calls: 429 and the throttling error codes (JSON
 * or XML answers) are retried, and THROTTLED names the service's code. */
const struct nk_http_retry *nk_aws_retry_policy(void);

#endif
