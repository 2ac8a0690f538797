/* Where the user PIN comes from. Each function hands back a malloc'd PIN
 * the caller wipes with nk_strfreezero. */
#ifndef NK_P11_PIN_H
#define NK_P11_PIN_H

#include "config.h"
#include "err.h"
#include "uri.h"

/* Reads a PIN file: the whole content minus exactly one trailing "\n" or
 * "\r\n". Refuses empty files, NUL bytes and files over 1 KiB. Errors are
 * ACCESS_DENIED and name the file and where it came from, never the PIN. */
int nk_p11_pin_read_file(const char *path, const char *from, char **pin,
                         struct nk_err *err) NK_MUST_CHECK;

/* A pin-source value: a path or a file: URI ("file:/p", "file:///p",
 * "file://localhost/p"). */
int nk_p11_pin_source(const char *src, char **pin,
                      struct nk_err *err) NK_MUST_CHECK;

/* The PIN, first found of: URI pin-source, URI pin-value, environment
 * NOTATION_KEYSTORE_PIN, pluginConfig "pin-file", the process's PIN hook
 * (common/pinhook.h). *pin is NULL when none is configured; *from names
 * the source for messages. */
int nk_p11_pin_resolve(const struct nk_p11_uri *u, const struct nk_config *cfg,
                       char **pin, const char **from,
                       struct nk_err *err) NK_MUST_CHECK;

/* ACCESS_DENIED: token needs a PIN and no source has one (nor could the
 * person at the desk be asked); says where a PIN can be set. Returns -1. */
int nk_p11_pin_missing(const char *token, struct nk_err *err);

#endif
