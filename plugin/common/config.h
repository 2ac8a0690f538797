/* pluginConfig: the string map notation passes with every request. */
#ifndef NK_CONFIG_H
#define NK_CONFIG_H

#include <stddef.h>

#include "err.h"

struct nk_config {
    size_t n;
    char **keys;
    char **vals;
};

void nk_config_init(struct nk_config *c);
/* Adds or replaces a key (copies both strings). */
void nk_config_set(struct nk_config *c, const char *key, const char *val);
/* The value, or NULL when the key is absent. Borrowed. */
const char *nk_config_get(const struct nk_config *c, const char *key);
/* Value or NULL; an empty string counts as absent. */
const char *nk_config_str(const struct nk_config *c, const char *key);
/* "true"/"false" (also 1/0, yes/no); absent gives def. */
int nk_config_bool(const struct nk_config *c, const char *key, int def,
                   int *out, struct nk_err *err) NK_MUST_CHECK;
/* Seconds, a positive decimal number (fractions allowed, e.g. "0.5"), up
 * to max; absent gives def. */
int nk_config_seconds(const struct nk_config *c, const char *key, double def,
                      double max, double *out,
                      struct nk_err *err) NK_MUST_CHECK;
void nk_config_release(struct nk_config *c);

#endif
