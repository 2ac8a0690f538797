/* describe-key: the key spec of the key named by keyId. */
#include "commands.h"
#include "signing.h"

int nk_cmd_describe_key(const struct nk_request *req, cJSON **resp,
                        struct nk_err *err)
{
    struct nk_signing sg = {0};
    struct nk_mask key_id = {0};
    int ret = -1;

    *resp = NULL;
    if (nk_proto_contract(req, err) != 0 ||
        nk_proto_take_key_id(req, &key_id, err) != 0 ||
        nk_signing_open(&sg, key_id.s, &req->cfg, err) != 0)
        goto out;
    *resp = cJSON_CreateObject();
    nk_json_add_string(*resp, "keyId", key_id.s);
    nk_json_add_string(*resp, "keySpec", nk_keyspec_name(sg.info.spec));
    ret = 0;
out:
    nk_signing_release(&sg);
    nk_mask_release(&key_id);
    return ret;
}
