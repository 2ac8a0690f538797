/* Which PKCS#11 module to load, and loading it far enough to hold its
 * function list. */
#ifndef NK_P11_MODULE_H
#define NK_P11_MODULE_H

#include "ck.h"
#include "config.h"
#include "err.h"
#include "uri.h"

/* The module for a key, first found of: URI module-path, URI module-name,
 * pluginConfig "pkcs11-module", environment NOTATION_KEYSTORE_PKCS11_MODULE
 * (each but module-name read by nk_p11_module_value), the p11-kit proxy
 * module. *path is malloc'd and absolute; *from names the source for
 * messages. VALIDATION_ERROR when nothing names a module, a name is not
 * found or a path is relative. */
int nk_p11_module_resolve(const struct nk_p11_uri *u,
                          const struct nk_config *cfg, char **path,
                          const char **from, struct nk_err *err) NK_MUST_CHECK;

/* A module given by the user (from names where, for messages): an absolute
 * path, taken as it is, or a bare name (no '/') searched like module-name.
 * A relative path holding a '/' is a VALIDATION_ERROR: the current
 * directory never supplies a module. *path is malloc'd. */
int nk_p11_module_value(const char *v, const char *from, char **path,
                        struct nk_err *err) NK_MUST_CHECK;

/* Searches the standard directories (nk_p11_module_dirs) for a bare module
 * name: "softhsm2", "libsofthsm2.so" and "opensc-pkcs11" all work. */
int nk_p11_module_find(const char *name, char **path,
                       struct nk_err *err) NK_MUST_CHECK;

/* The search directories, in order, NULL-terminated. */
const char *const *nk_p11_module_dirs(void);

/* dlopens path (which must be absolute) and gets its CK_FUNCTION_LIST.
 * VALIDATION_ERROR saying which path (and from where) and why when it is
 * relative, missing or cannot load.
 * *dl is released with dlclose. */
int nk_p11_module_open(const char *path, const char *from, void **dl,
                       CK_FUNCTION_LIST **fl, struct nk_err *err) NK_MUST_CHECK;

#endif
