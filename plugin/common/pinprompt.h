/* Asking the person at the desk for a PIN when no PIN source is set:
 * through pinentry, else on the terminal with echo off, never on the
 * plugin's stdin or stdout (notation's protocol). Backend-neutral, so a
 * PKCS#11 login and a signing agent can both ask the same way. */
#ifndef NK_PINPROMPT_H
#define NK_PINPROMPT_H

#include "err.h"

/* What the prompt names. */
struct nk_pinprompt {
    const char *token;    /* the token's label */
    const char *key;      /* what the key id names, or NULL */
    int tries_low;        /* the token reports few PIN tries left
                             (CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY) */
    const char *pinentry; /* pluginConfig "pinentry", or NULL */
};

/* Asks for the PIN: through q->pinentry when set; else, when the process
 * has a controlling terminal, through "pinentry" found in PATH, and when
 * there is none, on /dev/tty with echo off. 0 with *pin (malloc'd, wipe
 * with nk_strfreezero) and *from ("pinentry" or "the terminal"); 0 with
 * *pin NULL when there is nobody to ask (no terminal, no pinentry set);
 * -1 with err set (cancelled, nothing entered: ACCESS_DENIED). */
int nk_pinprompt_ask(const struct nk_pinprompt *q, char **pin,
                     const char **from, struct nk_err *err) NK_MUST_CHECK;

/* From now on nk_pinprompt_ask finds nobody to ask: for the signing
 * agent, which has no terminal and must never start pinentry itself (its
 * PINs come from `agent add`). */
void nk_pinprompt_disable(void);

/* For a PIN pad: tells the person at the terminal, if there is one, to
 * enter the PIN on the reader. */
void nk_pinprompt_pad(const struct nk_pinprompt *q);

#endif
