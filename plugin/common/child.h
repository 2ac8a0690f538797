/* Running a helper program (the Azure CLI for a token ...): found on PATH
 * and started without a shell, stdin from /dev/null, no descriptor of ours
 * but the two pipes, its own process group killed when time runs out, and
 * both outputs captured up to a cap. */
#ifndef NK_CHILD_H
#define NK_CHILD_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct nk_child {
    int not_found;     /* the program is not on PATH (nothing ran) */
    int status;        /* exit status, or 128 + signal number */
    struct nk_buf out; /* stdout, NUL-terminated (wiped on release) */
    struct nk_buf err; /* stderr, NUL-terminated */
};

/* Runs argv (argv[0] looked up on PATH) for at most timeout seconds.
 * 0 when it ran to its end (see status) or was not found (not_found);
 * -1 with TIMEOUT when it had to be killed, ERROR when it could not be
 * started or wrote more than the caps. what names it in messages. The
 * caller releases c with nk_child_release in every case. */
int nk_child_run(const char *const argv[], double timeout, size_t out_max,
                 size_t err_max, const char *what, struct nk_child *c,
                 struct nk_err *err) NK_MUST_CHECK;
void nk_child_release(struct nk_child *c);

#endif
