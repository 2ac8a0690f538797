/* The plugin's side of the agent: a signer whose describe and sign are
 * requests to the agent named by NOTATION_KEYSTORE_AGENT. The signing core
 * tries it first and, when it is not there, opens the key itself. */
#ifndef NK_AGENT_SIGNER_H
#define NK_AGENT_SIGNER_H

#include "common/config.h"
#include "common/signer.h"

/* 0 with *out an open key when NOTATION_KEYSTORE_AGENT is set and the
 * agent there holds key_id (matched by backend->public_id); 1 when the
 * variable is not set, or the agent cannot be reached, does not hold the
 * key or is locked (the reason goes to the log): the caller opens the key
 * itself. With the variable unset, nothing but one getenv happens. cfg must
 * outlive *out (a direct open needs it if the agent goes away). */
int nk_agent_signer_open(const struct nk_signer_ops *backend,
                         const char *key_id, const struct nk_config *cfg,
                         struct nk_signer **out);

#endif
