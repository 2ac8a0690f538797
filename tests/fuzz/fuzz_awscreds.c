/* libFuzzer: answers of the AWS credential endpoints. Input: one byte
 * choosing the endpoint (STS AssumeRoleWithWebIdentity XML, instance
 * metadata or container credentials JSON), one byte choosing the HTTP
 * status, then the body. */
#include "common.h"
#include "kms/aws_creds.h"

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
    struct nk_aws_creds c = {0};
    struct nk_http_resp r;
    struct nk_err err = {0};

    if (size < 2)
        return 0;
    fx_resp(&r, statuses[data[1] % 7], data + 2, size - 2);
    if (data[0] & 0x80)
        r.request_id = request_id;
    switch (data[0] & 3) {
    case 0:
        (void)nk_aws_sts_answer(&r, &c, &err);
        break;
    case 1:
        (void)nk_aws_json_creds(&r, "instance metadata", &c);
        break;
    default:
        (void)nk_aws_container_answer(&r, &c, &err);
        break;
    }
    fx_note("%s (key id %s)", err.code != NK_ERR_NONE ? err.msg : "-",
            c.akid != NULL ? c.akid : "none");
    r.request_id = NULL;
    nk_aws_creds_release(&c);
    nk_http_resp_release(&r);
    return 0;
}
