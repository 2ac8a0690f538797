/* The keys an agent holds, open through their own backends, and the
 * answer to each request on them. Single-threaded: one request at a time,
 * so a token sees one operation at a time. */
#ifndef NK_AGENT_KEYS_H
#define NK_AGENT_KEYS_H

#include "agent/wire.h"
#include "common/buf.h"

struct nk_agent_keys;

/* ttl: the default lifetime of an added key in seconds, 0 for none. */
struct nk_agent_keys *nk_agent_keys_new(unsigned ttl);
/* Logs out of every token, wipes kept PINs, frees. NULL is fine. */
void nk_agent_keys_free(struct nk_agent_keys *k);

/* Answers one parsed request: reply gets one whole frame (KEY, SIG, KEYS,
 * OK or FAIL). pin is the PIN passed beside an ADD or UNLOCK (or NULL); it
 * is taken over and wiped. *stop is set by STOP. */
void nk_agent_keys_handle(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                          char *pin, struct nk_buf *reply, int *stop);

/* Removes the keys whose lifetime has run out; returns the milliseconds
 * until the next one does, or -1 when no key has a lifetime. */
double nk_agent_keys_expire(struct nk_agent_keys *k);

#endif
