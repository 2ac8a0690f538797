/* generate-envelope: not built yet. */
#include "commands.h"

int nk_cmd_generate_envelope(const struct nk_request *req, cJSON **resp,
                             struct nk_err *err)
{
    (void)req;
    *resp = NULL;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "generate-envelope is not supported by this version: "
                      "use the default pluginConfig mode \"raw\"");
}
