/* libFuzzer: AWS KMS answers. Input: one byte choosing the operation
 * (GetPublicKey, DescribeKey, Sign), the key spec and whether a request id
 * header came, one byte choosing the HTTP status, then the body. Runs the
 * answer handling of aws_call.c (errors in JSON or XML) and, for a JSON
 * object, what aws_kms.c reads from it. */
#include <stdlib.h>

#include "common.h"
#include "kms/aws_answer.h"
#include "kms/aws_call.h"

static const char *const ops[] = {"GetPublicKey", "DescribeKey", "Sign"};
static const enum nk_keyspec specs[] = {NK_RSA_2048, NK_RSA_3072, NK_RSA_4096,
                                        NK_EC_256,   NK_EC_384,   NK_EC_521};
static const long statuses[] = {200, 400, 403, 404, 429, 500, 503};

static char request_id[] = "fuzz-request-id";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_aws_target t = {.endpoint = "https://kms.fuzz.test",
                              .region = "eu-west-1",
                              .key_ref = "alias/fuzz"};
    struct nk_http_resp r;
    struct nk_kms_cached key = {0};
    struct nk_err err = {0};
    unsigned char *sig = NULL;
    cJSON *out = NULL;
    size_t siglen, op, spec;

    if (size < 2)
        return 0;
    op = (data[0] & 0x7f) % 3;
    spec = (size_t)((data[0] & 0x7f) / 3) % 6;
    fx_resp(&r, statuses[data[1] % 7], data + 2, size - 2);
    if (data[0] & 0x80)
        r.request_id = request_id;
    if (nk_aws_kms_answer(&t, ops[op], &r, &out, &err) == 0) {
        if (op == 0)
            (void)nk_aws_public_key_answer(out, t.key_ref, &key, &err);
        else if (op == 1)
            (void)nk_aws_describe_answer(out, t.key_ref, &err);
        else if (nk_aws_sign_answer(out, t.key_ref, specs[spec], &sig, &siglen,
                                    &err) == 0)
            free(sig);
    }
    fx_note("%s", err.code != NK_ERR_NONE ? err.msg : "ok");
    r.request_id = NULL;
    nk_kms_cached_release(&key);
    cJSON_Delete(out);
    nk_http_resp_release(&r);
    return 0;
}
