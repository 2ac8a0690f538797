/* The PKCS#11 modules this process has loaded, one per module path and
 * shared by every key opened from it. A plugin process opens one key; the
 * agent holds several, often on one token, and two libp11 contexts on one
 * module would finalize each other's sessions (C_Finalize is per process).
 * The module stays loaded until its last key is freed, or, in a process
 * that holds modules (the agent), until it ends. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "module.h"
#include "p11.h"
#include "pkcs11.h"

struct nk_p11_mod {
    char *path;
    void *dl; /* our dlopen handle on the module */
    CK_FUNCTION_LIST *fl;
    int own_init; /* fl needed our C_Initialize: finalize */
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    unsigned int refs;
    struct nk_p11_mod *next;
};

static struct nk_p11_mod *loaded;
/* Set by nk_p11_hold_modules: a module whose last key goes stays loaded. */
static int hold;

static void mod_unload(struct nk_p11_mod *m)
{
    if (m->own_init)
        m->fl->C_Finalize(NULL);
    /* libp11's order: slots, then the module, then the context. */
    if (m->slots != NULL)
        PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
    if (m->ctx != NULL) {
        PKCS11_CTX_unload(m->ctx);
        PKCS11_CTX_free(m->ctx);
    }
    if (m->dl != NULL)
        dlclose(m->dl);
    free(m->path);
    free(m);
}

/* dlopen, libp11 context, our own C_Initialize when needed, slots. */
static int mod_load(struct nk_p11_mod *m, const char *from, struct nk_err *err)
{
    double t0 = nk_log_now_ms();
    CK_RV rv;

    if (nk_p11_module_open(m->path, from, &m->dl, &m->fl, err) != 0)
        return -1;
    m->ctx = PKCS11_CTX_new();
    if (m->ctx == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot create libp11 context");
    if (PKCS11_CTX_load(m->ctx, m->path) != 0) {
        rv = nk_p11_libp11_rv();
        PKCS11_CTX_free(m->ctx);
        m->ctx = NULL;
        return nk_p11_rv_err(err, rv,
                             "cannot initialise PKCS#11 module \"%s\" (from "
                             "%s)",
                             m->path, from);
    }
    /* Normally the same instance libp11 initialised (ALREADY_INITIALIZED);
     * a module that hands out separate instances needs its own init. */
    rv = m->fl->C_Initialize(NULL);
    if (rv == CKR_OK)
        m->own_init = 1;
    else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return nk_p11_rv_err(err, rv, "C_Initialize of \"%s\" failed", m->path);
    if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) != 0) {
        m->slots = NULL;
        m->nslots = 0;
        return nk_p11_rv_err(err, nk_p11_libp11_rv(),
                             "cannot list the slots of PKCS#11 module \"%s\"",
                             m->path);
    }
    nk_info("pkcs11: loaded module \"%s\" (%.1f ms, %u slots)", m->path,
            nk_log_now_ms() - t0, m->nslots);
    return 0;
}

int nk_p11_mod_get(const char *path, const char *from, struct nk_p11_mod **out,
                   struct nk_err *err)
{
    struct nk_p11_mod *m;

    *out = NULL;
    for (m = loaded; m != NULL; m = m->next) {
        if (strcmp(m->path, path) == 0) {
            m->refs++;
            nk_debug("pkcs11: module \"%s\" already loaded (%u keys)", path,
                     m->refs);
            *out = m;
            return 0;
        }
    }
    m = nk_xcalloc(1, sizeof(*m));
    m->path = nk_xstrdup(path);
    if (mod_load(m, from, err) != 0) {
        mod_unload(m);
        return -1;
    }
    m->refs = 1;
    m->next = loaded;
    loaded = m;
    *out = m;
    return 0;
}

void nk_p11_mod_put(struct nk_p11_mod *m)
{
    struct nk_p11_mod **p;

    if (m == NULL || --m->refs > 0 || hold)
        return;
    for (p = &loaded; *p != NULL; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    mod_unload(m);
}

void nk_p11_mod_use(const struct nk_p11_mod *m, CK_FUNCTION_LIST **fl,
                    PKCS11_CTX **ctx, PKCS11_SLOT **slots, unsigned int *nslots)
{
    *fl = m->fl;
    *ctx = m->ctx;
    *slots = m->slots;
    *nslots = m->nslots;
}

void nk_p11_hold_modules(void)
{
    hold = 1;
}

void nk_p11_release_modules(void)
{
    struct nk_p11_mod *m;

    while (loaded != NULL) {
        m = loaded;
        loaded = m->next;
        mod_unload(m);
    }
}
