/* Access tokens cached across the processes of one notation run (and the
 * runs that follow until shortly before each token expires), so a warm
 * generate-signature spends no round trip on a login. A token is a
 * secret: the cache lives in a private per-user directory, preferably
 * $XDG_RUNTIME_DIR/notation-keystore (a tmpfs that dies with the session),
 * else $XDG_CACHE_HOME/notation-keystore/tokens; the directory must be the
 * user's, mode 0700 and not a symbolic link, each entry a regular file of
 * the user's that nobody else may read or write, written atomically.
 * pluginConfig "token-cache" = false turns it off. Tokens are never
 * logged. */
#ifndef NK_TOKEN_CACHE_H
#define NK_TOKEN_CACHE_H

#include "common/config.h"

/* Nonzero unless pluginConfig "token-cache" is false (or not a boolean,
 * which the caller reports elsewhere: off is the safe reading). */
int nk_token_cache_enabled(const struct nk_config *cfg);

/* The token cached for ident (names the token completely: service,
 * authority, tenant or project, client, scope) when it is still valid
 * margin seconds from now: 0, *token (wipe with nk_strfreezero) and
 * *expires (Unix time). -1 on a miss, never an error. */
int nk_token_cache_get(const char *ident, double margin, char **token,
                       double *expires);

/* Best effort: a failure to write is logged, never reported. */
void nk_token_cache_put(const char *ident, const char *token, double expires);

/* Removes the entry (the service refused the token). */
void nk_token_cache_drop(const char *ident);

#endif
