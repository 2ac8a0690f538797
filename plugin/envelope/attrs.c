/* Header attribute decisions shared by the JWS and COSE encoders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"

static void add(struct nk_envelope *e, const char *name, enum nk_attr_type type,
                const char *text, long long t, int critical)
{
    struct nk_attr *a;

    if (e->n_prot >= NK_ATTRS_MAX)
        abort(); /* NK_ATTRS_MAX is too small: a programming error */
    a = &e->prot[e->n_prot++];

    a->name = name;
    a->type = type;
    a->text = text;
    a->time = t;
    a->critical = critical;
}

void nk_attrs_decide(struct nk_envelope *e, enum nk_keyspec spec, time_t now,
                     long long expiry_secs, int vplugin)
{
    size_t i;

    memset(e, 0, sizeof(*e));
    e->spec = spec;
    e->agent = "notation-keystore/" NK_VERSION;
    add(e, NK_HDR_SCHEME, NK_ATTR_TEXT, "notary.x509", 0, 1);
    /* time_t is whole seconds already: the truncation notation does. */
    add(e, NK_HDR_TIME, NK_ATTR_TIME, NULL, (long long)now, 0);
    if (expiry_secs > 0)
        add(e, NK_HDR_EXPIRY, NK_ATTR_TIME, NULL, (long long)now + expiry_secs,
            1);
    if (vplugin) {
        add(e, NK_HDR_VPLUGIN, NK_ATTR_TEXT, NK_VERIFIER_NAME, 0, 1);
        add(e, NK_HDR_VPLUGIN_MIN, NK_ATTR_TEXT, NK_VERIFIER_MIN_VERSION, 0, 1);
    }
    /* crit in notation's order: the scheme, critical extended attributes,
     * then expiry (notation-core-go appends expiry last). */
    e->crit[e->n_crit++] = NK_HDR_SCHEME;
    for (i = 0; i < e->n_prot; i++)
        if (e->prot[i].critical &&
            strcmp(e->prot[i].name, NK_HDR_SCHEME) != 0 &&
            strcmp(e->prot[i].name, NK_HDR_EXPIRY) != 0)
            e->crit[e->n_crit++] = e->prot[i].name;
    if (expiry_secs > 0)
        e->crit[e->n_crit++] = NK_HDR_EXPIRY;
}

const struct nk_attr *nk_attrs_find(const struct nk_envelope *e,
                                    const char *name)
{
    size_t i;

    for (i = 0; i < e->n_prot; i++)
        if (strcmp(e->prot[i].name, name) == 0)
            return &e->prot[i];
    return NULL;
}

void nk_attrs_rfc3339(long long t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

void nk_attrs_release(struct nk_envelope *e)
{
    free(e->prot_enc);
    free(e->tbs);
    free(e->sig);
    free(e->tst);
    e->prot_enc = e->tbs = e->sig = e->tst = NULL;
    e->prot_len = e->tbs_len = e->sig_len = e->tst_len = 0;
}
