/* The agent's Unix socket: where it lives (a fresh 0700 directory under
 * $XDG_RUNTIME_DIR, else /tmp), the peer's uid (SO_PEERCRED), and the
 * blocking frame exchange a client does. */
#ifndef NK_AGENT_SOCK_H
#define NK_AGENT_SOCK_H

#include <sys/types.h>

#include "agent/wire.h"
#include "common/buf.h"
#include "common/err.h"

/* The variable that names the socket. */
#define NK_AGENT_ENV "NOTATION_KEYSTORE_AGENT"

/* Makes a fresh directory <base>/notation-keystore-XXXXXX (mode 0700) and
 * a listening socket "agent.<pid>" in it (mode 0600), non-blocking and
 * close-on-exec. *dir and *path are malloc'd. */
int nk_agent_listen(char **dir, char **path, int *fd,
                    struct nk_err *err) NK_MUST_CHECK;

/* Removes the socket and its directory (best effort). */
void nk_agent_unlink(const char *dir, const char *path);

/* The uid of the process at the other end of a connected socket; -1 when
 * the kernel does not say. */
int nk_agent_peer_uid(int fd, uid_t *uid);

/* Connects to the agent at path, with send and receive timeouts, and
 * checks that the agent runs as our uid. ERROR naming the path otherwise. */
int nk_agent_connect(const char *path, double timeout, int *fd,
                     struct nk_err *err) NK_MUST_CHECK;

/* Sends a whole frame; pass_fd (or -1) goes beside its first byte. */
int nk_agent_send(int fd, const struct nk_buf *frame, int pass_fd,
                  struct nk_err *err) NK_MUST_CHECK;

/* Receives one frame's body (at most max bytes) into body. TIMEOUT when the
 * receive timeout runs out, ERROR when the agent closed the connection. */
int nk_agent_recv(int fd, struct nk_buf *body, size_t max,
                  struct nk_err *err) NK_MUST_CHECK;

#endif
