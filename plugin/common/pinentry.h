/* Asking for a PIN through a pinentry program (GnuPG's pinentry-curses,
 * -tty, -gnome3 ...), which speaks the Assuan protocol on its stdin and
 * stdout. */
#ifndef NK_PINENTRY_H
#define NK_PINENTRY_H

#include "err.h"

/* What to show. desc and prompt are plain text (escaped here); tty is the
 * terminal a text-mode pinentry should use (OPTION ttyname), or NULL. */
struct nk_pinentry_ask {
    const char *prog; /* a path, or a name searched in PATH by execvp */
    const char *tty;
    const char *desc;
    const char *prompt;
};

/* Runs q->prog and asks it for a PIN. 0 with *pin (malloc'd, the caller
 * wipes it with nk_strfreezero); 1 when the program cannot be started (no
 * such program: the caller may ask another way); -1 with err set when the
 * person cancelled or gave nothing (ACCESS_DENIED) or the program broke
 * the protocol or took longer than five minutes (ERROR). */
int nk_pinentry_getpin(const struct nk_pinentry_ask *q, char **pin,
                       struct nk_err *err) NK_MUST_CHECK;

#endif
