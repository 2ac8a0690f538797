/* Verifier options from pluginConfig and the environment: HTTP timeouts
 * and where the CRL cache lives. */
#include <stdlib.h>

#include "common/mem.h"
#include "verify/verify.h"

/* Upper bound for both timeouts: a verify must not hang a pipeline. */
#define MAX_TIMEOUT 120.0

/* $XDG_CACHE_HOME/notation-keystore/crl, else ~/.cache/...; NULL when
 * neither is usable (the cache is then off). */
static char *default_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    /* The XDG spec says relative values are to be ignored. */
    if (xdg != NULL && xdg[0] == '/')
        return nk_xasprintf("%s/notation-keystore/crl", xdg);
    if (home != NULL && home[0] == '/')
        return nk_xasprintf("%s/.cache/notation-keystore/crl", home);
    return NULL;
}

int nk_verify_opts_init(struct nk_verify_opts *o, const struct nk_config *cfg,
                        struct nk_err *err)
{
    o->cache_dir = NULL;
    o->now = time(NULL);
    o->signing_time = 0;
    o->crl_cache = 1;
    if (nk_config_seconds(cfg, "ocsp-timeout", 2.0, MAX_TIMEOUT,
                          &o->ocsp_timeout, err) != 0 ||
        nk_config_seconds(cfg, "crl-timeout", 5.0, MAX_TIMEOUT, &o->crl_timeout,
                          err) != 0 ||
        nk_config_bool(cfg, "crl-cache", 1, &o->crl_cache, err) != 0)
        return -1;
    if (o->crl_cache)
        o->cache_dir = default_cache_dir();
    if (o->cache_dir == NULL)
        o->crl_cache = 0;
    return 0;
}

void nk_verify_opts_release(struct nk_verify_opts *o)
{
    free(o->cache_dir);
    o->cache_dir = NULL;
}
