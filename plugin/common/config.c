/* pluginConfig storage and typed lookups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"

void nk_config_init(struct nk_config *c)
{
    c->n = 0;
    c->keys = NULL;
    c->vals = NULL;
}

void nk_config_set(struct nk_config *c, const char *key, const char *val)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (strcmp(c->keys[i], key) == 0) {
            nk_strfreezero(c->vals[i]);
            c->vals[i] = nk_xstrdup(val);
            return;
        }
    }
    c->keys = nk_xrealloc(c->keys, (c->n + 1) * sizeof(*c->keys));
    c->vals = nk_xrealloc(c->vals, (c->n + 1) * sizeof(*c->vals));
    c->keys[c->n] = nk_xstrdup(key);
    c->vals[c->n] = nk_xstrdup(val);
    c->n++;
}

const char *nk_config_get(const struct nk_config *c, const char *key)
{
    size_t i;

    if (c == NULL)
        return NULL;
    for (i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->vals[i];
    return NULL;
}

const char *nk_config_str(const struct nk_config *c, const char *key)
{
    const char *v = nk_config_get(c, key);

    return (v != NULL && v[0] != '\0') ? v : NULL;
}

int nk_config_bool(const struct nk_config *c, const char *key, int def,
                   int *out, struct nk_err *err)
{
    const char *v = nk_config_str(c, key);

    *out = def;
    if (v == NULL)
        return 0;
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
        *out = 1;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
        *out = 0;
    else
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig \"%s\" must be true or false, not "
                          "\"%s\"",
                          key, v);
    return 0;
}

int nk_config_seconds(const struct nk_config *c, const char *key, double def,
                      double max, double *out, struct nk_err *err)
{
    const char *v = nk_config_str(c, key);
    char *end = NULL;
    double d;

    *out = def;
    if (v == NULL)
        return 0;
    d = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(d) || d <= 0 || d > max)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pluginConfig \"%s\" must be a number of seconds "
                          "between 0 and %g, not \"%s\"",
                          key, max, v);
    *out = d;
    return 0;
}

void nk_config_release(struct nk_config *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        nk_strfreezero(c->keys[i]);
        nk_strfreezero(c->vals[i]);
    }
    free(c->keys);
    free(c->vals);
    nk_config_init(c);
}
