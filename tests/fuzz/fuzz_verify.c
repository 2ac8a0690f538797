/* libFuzzer: the verify-signature command on a fuzzed request: the request
 * fields, the certificate chain, the times, the trusted identities and the
 * answer. The revocation capability is taken out of the request first:
 * its certificates name OCSP and CRL URLs, and harnesses never touch the
 * network (fuzz_ocsp and fuzz_crl cover those answers). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

static void drop_revocation(cJSON *json)
{
    cJSON *caps = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(json, "trustPolicy"),
        "signatureVerification");
    int i;

    if (!cJSON_IsArray(caps))
        return;
    for (i = cJSON_GetArraySize(caps) - 1; i >= 0; i--) {
        cJSON *c = cJSON_GetArrayItem(caps, i);

        if (cJSON_IsString(c) &&
            strcmp(c->valuestring, "SIGNATURE_VERIFIER.REVOCATION_CHECK") == 0)
            cJSON_DeleteItemFromArray(caps, i);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_request req = {0};
    struct nk_err err = {0};
    cJSON *resp = NULL;

    if (nk_proto_parse((const char *)data, size, &req, &err) == 0) {
        drop_revocation(req.json);
        if (nk_cmd_verify_signature(&req, &resp, &err) == 0) {
            char *text = cJSON_PrintUnformatted(resp);

            fx_note("%s", text);
            free(text);
        }
    }
    if (err.code != NK_ERR_NONE)
        fx_note("error: %s", err.msg);
    free(nk_proto_error_json(&err));
    cJSON_Delete(resp);
    nk_request_release(&req);
    return 0;
}
