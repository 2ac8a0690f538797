/* verify-signature: not built yet. */
#include "commands.h"

int nk_cmd_verify_signature(const struct nk_request *req, cJSON **resp,
                            struct nk_err *err)
{
    (void)req;
    *resp = NULL;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "verify-signature is not supported by this version");
}
