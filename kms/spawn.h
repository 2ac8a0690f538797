/* Running a helper program (credential_process) safely: no shell, stdin
 * from /dev/null, stdout and stderr captured with caps, every other
 * descriptor closed, and killed when its time runs out. */
#ifndef NK_SPAWN_H
#define NK_SPAWN_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

struct nk_spawn {
    int status;           /* waitpid status; meaningful unless timed_out */
    int timed_out;        /* killed at the deadline */
    int out_too_big;      /* killed: stdout passed its cap */
    struct nk_buf out;    /* stdout, up to the cap */
    struct nk_buf errout; /* stderr: its first bytes only, the rest is
                           * read and dropped */
};

/* Runs argv (argv[0] searched on PATH as execvp does; NULL-terminated)
 * for at most timeout seconds. Returns 0 when the program ran, whatever
 * its exit; -1 when it could not be started (VALIDATION_ERROR naming
 * argv[0] and why). Release r with nk_spawn_release either way. */
int nk_spawn_run(char *const *argv, double timeout, size_t max_out,
                 size_t max_err, struct nk_spawn *r,
                 struct nk_err *err) NK_MUST_CHECK;

/* Wipes and frees what was captured. */
void nk_spawn_release(struct nk_spawn *r);

#endif
