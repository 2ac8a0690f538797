/* Opt-in trace log: NOTATION_KEYSTORE_LOG=debug|info together with
 * NOTATION_KEYSTORE_LOG_FILE=<path>. Nothing is written otherwise, and never
 * to stdout or stderr. The file is appended to only when it is a regular
 * file (not a symbolic link) of the user's with mode 0600, or is created
 * so. Callers must never pass a secret. */
#ifndef NK_LOG_H
#define NK_LOG_H

enum nk_log_level { NK_LOG_OFF = 0, NK_LOG_INFO, NK_LOG_DEBUG };

/* Reads the environment; cheap, and safe to call more than once. */
void nk_log_init(void);
int nk_log_enabled(enum nk_log_level level);
/* Why nk_log_init refused the log file (one line naming the path), or
 * NULL. Only commands for people may show it: protocol commands keep
 * stderr for the error JSON. */
const char *nk_log_refusal(void);
void nk_log(enum nk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A key id fit for the log: the URI query (pin-value, pin-source ...) and
 * any user:password@ are cut off. Writes into buf and returns it. */
const char *nk_log_keyid(const char *id, char *buf, unsigned long len);
/* Milliseconds on a monotonic clock, for durations in log lines. */
double nk_log_now_ms(void);
void nk_log_close(void);

#define nk_info(...) nk_log(NK_LOG_INFO, __VA_ARGS__)
#define nk_debug(...) nk_log(NK_LOG_DEBUG, __VA_ARGS__)

#endif
