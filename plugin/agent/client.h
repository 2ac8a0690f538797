/* A client's connection to the agent: one request at a time, each answered
 * by one reply (used by the plugin's agent signer and `agent` commands). */
#ifndef NK_AGENT_CLIENT_H
#define NK_AGENT_CLIENT_H

#include "agent/wire.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/signer.h"

struct nk_agent_conn {
    int fd;
    struct nk_buf out;         /* the request, built with nk_agent_begin */
    struct nk_buf in;          /* the last reply's body */
    struct nk_agent_msg reply; /* parsed; its blobs point into in */
};

/* Connects to the agent at path with timeout seconds for each exchange.
 * *out is freed with nk_agent_close. */
int nk_agent_open(const char *path, double timeout, struct nk_agent_conn **out,
                  struct nk_err *err) NK_MUST_CHECK;

/* Sends c->out (pass_fd beside it, or -1) and reads and parses the reply
 * into c->reply. 0 for any well-formed reply, FAIL included; -1 when the
 * exchange failed (the connection is then of no further use). */
int nk_agent_call(struct nk_agent_conn *c, int pass_fd,
                  struct nk_err *err) NK_MUST_CHECK;

/* Sets err from a FAIL reply ("agent: <message>", its code); returns -1. */
int nk_agent_fail_err(const struct nk_agent_msg *m, struct nk_err *err);

/* The key description of a KEY reply. */
int nk_agent_key_info(const struct nk_agent_msg *m, struct nk_key_info *info,
                      struct nk_err *err) NK_MUST_CHECK;

/* Closes and frees; NULL is fine. */
void nk_agent_close(struct nk_agent_conn *c);

#endif
