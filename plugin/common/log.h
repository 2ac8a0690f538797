/* Opt-in trace log: NOTATION_KEYSTORE_LOG=debug|info together with
 * NOTATION_KEYSTORE_LOG_FILE=<path>. Nothing is written otherwise, and never
 * to stdout or stderr. Callers must never pass a secret. */
#ifndef NK_LOG_H
#define NK_LOG_H

enum nk_log_level { NK_LOG_OFF = 0, NK_LOG_INFO, NK_LOG_DEBUG };

/* Reads the environment; cheap, and safe to call more than once. */
void nk_log_init(void);
int nk_log_enabled(enum nk_log_level level);
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
