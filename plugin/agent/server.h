/* The agent's event loop: one thread, poll() over the listening socket and
 * every connection, each connection with its own deadline, so a client
 * that stalls, floods or breaks the protocol loses its own connection and
 * nobody else waits on it. */
#ifndef NK_AGENT_SERVER_H
#define NK_AGENT_SERVER_H

#include <sys/types.h>

struct nk_agent_serve_opts {
    unsigned ttl; /* default key lifetime in seconds, 0: none */
    pid_t child;  /* > 0: serve until this child exits (agent -- cmd) */
};

/* Serves on listen_fd until a STOP request, SIGTERM/SIGINT/SIGHUP (in
 * child mode these go to the child instead), or the child's exit. Returns
 * the child's exit status as a shell shows it (128 + signal when killed),
 * else 0. Every key is logged out and wiped before it returns. */
int nk_agent_serve(int listen_fd, const struct nk_agent_serve_opts *o);

#endif
