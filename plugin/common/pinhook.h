/* A PIN source of last resort, asked for a token's PIN when none of the
 * configured sources (key id, environment, pluginConfig) has one. The agent
 * sets it to hand the token the PIN `agent add` passed it; nothing else sets
 * it yet (an interactive prompt would fit here). */
#ifndef NK_PINHOOK_H
#define NK_PINHOOK_H

#include "err.h"

/* Sets *pin to a malloc'd copy of the PIN for token (wiped by the caller
 * with nk_strfreezero), or leaves it NULL when it has none. */
typedef int (*nk_pin_hook_fn)(void *arg, const char *token, char **pin,
                              struct nk_err *err);

/* Installs fn (NULL removes it); name says where its PINs come from in
 * messages ("the agent"). */
void nk_pin_hook_set(nk_pin_hook_fn fn, void *arg, const char *name);

/* Asks the hook: 0 with *pin NULL when there is none or it has no PIN;
 * *from is set to the hook's name when it has one. */
int nk_pin_hook_ask(const char *token, char **pin, const char **from,
                    struct nk_err *err) NK_MUST_CHECK;

#endif
