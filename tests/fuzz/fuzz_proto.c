/* libFuzzer: the protocol request parser and the command field checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"keyId", "keySpec", "hashAlgorithm",
                                         "payloadType",
                                         "signatureEnvelopeType"};
    struct nk_request req = {0};
    struct nk_err err = {0};
    unsigned char *bytes = NULL;
    const char *s;
    size_t i, n;

    if (nk_proto_parse((const char *)data, size, &req, &err) == 0) {
        (void)nk_proto_contract(&req, &err);
        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            (void)nk_proto_string(req.json, fields[i], &s, &err);
            (void)nk_proto_opt_string(req.json, fields[i], &s, &err);
        }
        if (nk_proto_bytes(req.json, "payload", &bytes, &n, &err) == 0)
            free(bytes);
        (void)nk_config_get(&req.cfg, "certificate-chain");
    }
    free(nk_proto_error_json(&err));
    nk_request_release(&req);
    return 0;
}
