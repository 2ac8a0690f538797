/* get-plugin-metadata: static facts only; no token, network or file work. */
#include <string.h>

#include "commands.h"

static void add_array(cJSON *o, const char *name, const char *const *items,
                      int n)
{
    cJSON *arr = cJSON_CreateStringArray(items, n);

    cJSON_AddItemToObject(o, name, arr);
}

int nk_cmd_get_plugin_metadata(const struct nk_request *req, cJSON **resp,
                               struct nk_err *err)
{
    static const char *const contracts[] = {"1.0"};
    const char *caps[4];
    const char *mode = nk_config_str(&req->cfg, "mode");
    int n = 0;
    cJSON *o;

    *resp = NULL;
    if (mode == NULL || strcmp(mode, "raw") == 0)
        caps[n++] = "SIGNATURE_GENERATOR.RAW";
    else if (strcmp(mode, "envelope") == 0)
        caps[n++] = "SIGNATURE_GENERATOR.ENVELOPE";
    else
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig \"mode\" must be \"raw\" or "
                          "\"envelope\", not \"%.64s\"",
                          mode);
    /* The shared verifier (plugin/verify) answers verify-signature. */
    caps[n++] = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY";
    caps[n++] = "SIGNATURE_VERIFIER.REVOCATION_CHECK";
    o = cJSON_CreateObject();
    nk_json_add_string(o, "name", "keystore");
    nk_json_add_string(o, "description",
                       "Sign with keys in PKCS#11 tokens and KMS services");
    nk_json_add_string(o, "version", NK_VERSION);
    nk_json_add_string(
        o, "url", "https://github.com/notation-keystore/notation-keystore");
    add_array(o, "supportedContractVersions", contracts, 1);
    add_array(o, "capabilities", caps, n);
    *resp = o;
    return 0;
}
