/* generate-signature: sign notation's to-be-signed bytes with the key and
 * return the raw signature with the certificate chain. */
#include <stdlib.h>

#include "common/b64.h"
#include "common/mem.h"
#include "commands.h"
#include "signing.h"

/* keySpec and hashAlgorithm must be the ones the key implies: notation
 * sends back what describe-key said, so a mismatch means a changed key. */
static int check_request_spec(const struct nk_request *req,
                              enum nk_keyspec actual, struct nk_err *err)
{
    const char *spec_s = NULL, *hash_s = NULL;
    enum nk_keyspec spec;
    enum nk_hash hash;

    if (nk_proto_string(req->json, "keySpec", &spec_s, err) != 0 ||
        nk_proto_string(req->json, "hashAlgorithm", &hash_s, err) != 0)
        return -1;
    spec = nk_keyspec_parse(spec_s);
    if (spec == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported keySpec \"%.32s\"", spec_s);
    hash = nk_hash_parse(hash_s);
    if (hash == NK_HASH_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported hashAlgorithm \"%.32s\"", hash_s);
    if (spec != actual)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "keySpec \"%s\" does not match the key, which is "
                          "\"%s\"",
                          spec_s, nk_keyspec_name(actual));
    if (hash != nk_keyspec_hash(spec))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "hashAlgorithm \"%s\" does not go with keySpec "
                          "\"%s\" (expected \"%s\")",
                          hash_s, spec_s, nk_hash_name(nk_keyspec_hash(spec)));
    return 0;
}

int nk_cmd_generate_signature(const struct nk_request *req, cJSON **resp,
                              struct nk_err *err)
{
    struct nk_signing sg = {0};
    struct nk_mask key_id = {0};
    unsigned char *payload = NULL, *sig = NULL;
    size_t plen = 0, slen = 0;
    char *sig_b64 = NULL;
    int ret = -1;

    *resp = NULL;
    if (nk_proto_contract(req, err) != 0 ||
        nk_proto_take_key_id(req, &key_id, err) != 0 ||
        nk_proto_bytes(req->json, "payload", &payload, &plen, err) != 0 ||
        nk_signing_open(&sg, key_id.s, &req->cfg, err) != 0)
        goto out;
    /* Logged in: the key id (and a pin-value in it) is needed again only
     * for the response. */
    nk_mask_hide(&key_id);
    if (check_request_spec(req, sg.info.spec, err) != 0 ||
        nk_signing_prepare(&sg, &req->cfg, err) != 0 ||
        nk_signing_sign(&sg, payload, plen, &sig, &slen, err) != 0)
        goto out;
    nk_mask_show(&key_id);
    sig_b64 = nk_b64_encode(sig, slen);
    *resp = cJSON_CreateObject();
    nk_json_add_string(*resp, "keyId", key_id.s);
    nk_json_add_string(*resp, "signature", sig_b64);
    nk_json_add_string(*resp, "signingAlgorithm",
                       nk_keyspec_signing_alg(sg.info.spec));
    cJSON_AddItemToObject(*resp, "certificateChain",
                          nk_json_cert_array(sg.chain));
    ret = 0;
out:
    free(sig_b64);
    free(sig);
    nk_freezero(payload, plen);
    nk_signing_release(&sg);
    nk_mask_release(&key_id);
    return ret;
}
