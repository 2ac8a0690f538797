/* PKCS#11 module resolution: explicit path, bare name searched in the
 * standard directories, configuration, environment, p11-kit proxy. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "mem.h"
#include "module.h"

/* The Debian/Ubuntu multiarch triplet of this process. It is the ABI of
 * the running binary, not the kernel's, that decides which .so dlopen can
 * load, so the compiler's target is the right source. */
#if defined(__x86_64__) && defined(__ILP32__)
#define MA "x86_64-linux-gnux32"
#elif defined(__x86_64__)
#define MA "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MA "aarch64-linux-gnu"
#elif defined(__i386__)
#define MA "i386-linux-gnu"
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
#define MA "arm-linux-gnueabihf"
#elif defined(__arm__)
#define MA "arm-linux-gnueabi"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define MA "powerpc64le-linux-gnu"
#elif defined(__s390x__)
#define MA "s390x-linux-gnu"
#elif defined(__riscv)
#define MA "riscv64-linux-gnu"
#endif

#ifdef MA
#define MA_DIRS                                                                \
    "/usr/lib/" MA "/pkcs11", "/usr/lib/" MA, "/usr/lib/" MA "/softhsm",
#define MA_LOCAL "/usr/local/lib/" MA,
#define MA_PROXY "/usr/lib/" MA "/p11-kit-proxy.so",
#else
#define MA_DIRS
#define MA_LOCAL
#define MA_PROXY
#endif

static const char *const dirs[] = {
    MA_DIRS "/usr/lib/softhsm",
    "/usr/lib/pkcs11",
    "/usr/lib",
    "/usr/lib64/pkcs11",
    "/usr/lib64",
    "/usr/local/lib/pkcs11",
    MA_LOCAL "/usr/local/lib",
    NULL,
};

static const char *const proxies[] = {
    MA_PROXY "/usr/lib64/p11-kit-proxy.so",
    "/usr/lib/p11-kit-proxy.so",
    NULL,
};

const char *const *nk_p11_module_dirs(void)
{
    return dirs;
}

static int is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);

    return (n > 3 && strcmp(name + n - 3, ".so") == 0) ||
           strstr(name, ".so.") != NULL;
}

int nk_p11_module_find(const char *name, char **path, struct nk_err *err)
{
    char *cand[2] = {NULL, NULL};
    char *p;
    size_t i, j;
    int ret = -1;

    *path = NULL;
    if (name[0] == '\0' || strchr(name, '/') != NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "PKCS#11 module name \"%s\" must be a bare file "
                          "name; use module-path for a path",
                          name);
    if (has_so_suffix(name)) {
        cand[0] = nk_xstrdup(name);
    } else {
        cand[0] = nk_xasprintf("%s.so", name);
        if (strncmp(name, "lib", 3) != 0)
            cand[1] = nk_xasprintf("lib%s.so", name);
    }
    for (i = 0; dirs[i] != NULL && *path == NULL; i++) {
        for (j = 0; j < 2 && cand[j] != NULL; j++) {
            p = nk_xasprintf("%s/%s", dirs[i], cand[j]);
            if (is_file(p)) {
                *path = p;
                break;
            }
            free(p);
        }
    }
    if (*path == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "PKCS#11 module \"%s\" not found in /usr/lib/<multiarch>"
                   "/pkcs11, /usr/lib/<multiarch>, /usr/lib/softhsm, "
                   "/usr/lib/pkcs11, /usr/lib, /usr/lib64[/pkcs11] or "
                   "/usr/local/lib; give module-path instead",
                   name);
        goto out;
    }
    ret = 0;
out:
    free(cand[0]);
    free(cand[1]);
    return ret;
}

int nk_p11_module_value(const char *v, const char *from, char **path,
                        struct nk_err *err)
{
    *path = NULL;
    if (v[0] == '/') {
        *path = nk_xstrdup(v);
        return 0;
    }
    /* dlopen would take "lib/x.so" from the current directory, and look
     * for a bare "x.so" in the loader's own path, not the module dirs. */
    if (strchr(v, '/') != NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "PKCS#11 module path \"%s\" (from %s) must be "
                          "absolute, or a bare module name searched in the "
                          "system module directories",
                          v, from);
    return nk_p11_module_find(v, path, err);
}

int nk_p11_module_resolve(const struct nk_p11_uri *u,
                          const struct nk_config *cfg, char **path,
                          const char **from, struct nk_err *err)
{
    const char *v;
    size_t i;

    *path = NULL;
    *from = NULL;
    if (u->module_path != NULL) {
        *from = "module-path";
        if (u->module_path[0] == '\0')
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "module-path in the key id is empty");
        return nk_p11_module_value(u->module_path, *from, path, err);
    }
    if (u->module_name != NULL) {
        *from = "module-name";
        return nk_p11_module_find(u->module_name, path, err);
    }
    v = nk_config_str(cfg, "pkcs11-module");
    if (v != NULL) {
        *from = "pluginConfig pkcs11-module";
        return nk_p11_module_value(v, *from, path, err);
    }
    v = getenv("NOTATION_KEYSTORE_PKCS11_MODULE");
    if (v != NULL && v[0] != '\0') {
        *from = "NOTATION_KEYSTORE_PKCS11_MODULE";
        return nk_p11_module_value(v, *from, path, err);
    }
    for (i = 0; proxies[i] != NULL; i++) {
        if (is_file(proxies[i])) {
            *from = "the p11-kit proxy default";
            *path = nk_xstrdup(proxies[i]);
            return 0;
        }
    }
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "no PKCS#11 module: add module-path=/path/to/module.so "
                      "to the key id, or set pluginConfig pkcs11-module or "
                      "NOTATION_KEYSTORE_PKCS11_MODULE (p11-kit-proxy.so is "
                      "not installed either)");
}

int nk_p11_module_open(const char *path, const char *from, void **dl,
                       CK_FUNCTION_LIST **fl, struct nk_err *err)
{
    struct stat st;
    CK_C_GetFunctionList get;
    CK_RV rv;
    void *h = NULL;
    const char *why;
    int ret = -1;

    *dl = NULL;
    *fl = NULL;
    if (path[0] != '/')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "PKCS#11 module path \"%s\" (from %s) must be "
                          "absolute",
                          path, from);
    if (stat(path, &st) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "PKCS#11 module \"%s\" (from %s) cannot be used: "
                          "%s",
                          path, from, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "PKCS#11 module \"%s\" (from %s) is not a file", path,
                          from);
    /* libp11 prints dlopen failures to stdout, so we load it first and
     * report the reason ourselves; its own dlopen then shares our handle. */
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        why = dlerror();
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot load PKCS#11 module \"%s\" (from %s): %s",
                          path, from, why ? why : "unknown reason");
    }
    *(void **)(&get) = dlsym(h, "C_GetFunctionList");
    if (get == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "\"%s\" (from %s) is not a PKCS#11 module: it has no "
                   "C_GetFunctionList",
                   path, from);
        goto out;
    }
    rv = get(fl);
    if (rv != CKR_OK || *fl == NULL) {
        nk_p11_rv_err(err, rv == CKR_OK ? CKR_GENERAL_ERROR : rv,
                      "C_GetFunctionList of PKCS#11 module \"%s\" failed",
                      path);
        *fl = NULL;
        goto out;
    }
    nk_debug("pkcs11: module %s (from %s)", path, from);
    *dl = h;
    h = NULL;
    ret = 0;
out:
    if (h != NULL)
        dlclose(h);
    return ret;
}
