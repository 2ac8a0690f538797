/* The revocation check before signing (pluginConfig
 * revocation-check-before-sign=true): never sign with a revoked chain. */
#include "common/log.h"
#include "verify/verify.h"

int nk_verify_presign(STACK_OF(X509) * chain, const struct nk_config *cfg,
                      struct nk_err *err)
{
    struct nk_verify_opts o;
    struct nk_revocation_result r = {0};
    struct nk_verdict v;
    int on = 0, ret = -1;

    if (nk_config_bool(cfg, "revocation-check-before-sign", 0, &on, err))
        return -1;
    if (!on)
        return 0;
    if (nk_verify_opts_init(&o, cfg, err) != 0)
        return -1;
    if (nk_revocation_check_chain(chain, &o, &r, err) != 0)
        goto out;
    nk_revocation_verdict(&r, &v);
    if (!v.success) {
        nk_err_set(err, NK_ERR_VALIDATION, "refusing to sign: %s", v.reason);
        goto out;
    }
    nk_debug("pre-sign revocation check: %s", v.reason);
    ret = 0;
out:
    nk_revocation_result_release(&r);
    nk_verify_opts_release(&o);
    return ret;
}
