/* JWS encoder: protected header, signing input and the flattened JSON
 * envelope, from the decisions in attrs.c. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/b64.h"
#include "common/json.h"
#include "common/mem.h"
#include "jws.h"

struct member {
    const char *name;
    cJSON *value;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->name,
                  ((const struct member *)b)->name);
}

static cJSON *attr_value(const struct nk_attr *a)
{
    char t[32];

    if (a->type == NK_ATTR_TEXT)
        return cJSON_CreateString(a->text);
    nk_attrs_rfc3339(a->time, t, sizeof(t));
    return cJSON_CreateString(t);
}

/* The protected header as compact JSON, members sorted by name like the
 * Go map notation serialises (not required by verifiers, but it makes our
 * headers look like notation's). */
static char *protected_json(const struct nk_envelope *e)
{
    struct member m[NK_ATTRS_MAX + 3];
    size_t n = 0, i;
    cJSON *o = cJSON_CreateObject(), *crit = cJSON_CreateArray();
    char *s;

    for (i = 0; i < e->n_crit; i++)
        cJSON_AddItemToArray(crit, cJSON_CreateString(e->crit[i]));
    m[n++] =
        (struct member){"alg", cJSON_CreateString(nk_keyspec_jws_alg(e->spec))};
    m[n++] = (struct member){"crit", crit};
    m[n++] = (struct member){"cty", cJSON_CreateString(NK_PAYLOAD_TYPE)};
    for (i = 0; i < e->n_prot; i++)
        m[n++] = (struct member){e->prot[i].name, attr_value(&e->prot[i])};
    qsort(m, n, sizeof(m[0]), by_name);
    for (i = 0; i < n; i++)
        cJSON_AddItemToObject(o, m[i].name, m[i].value);
    s = nk_json_print(o);
    cJSON_Delete(o);
    return s;
}

int nk_jws_tbs(struct nk_envelope *e, struct nk_err *err)
{
    char *json = protected_json(e);
    char *prot = nk_b64url_encode((const unsigned char *)json, strlen(json));
    char *pay = nk_b64url_encode(e->payload, e->payload_len);
    size_t pl = strlen(prot), yl = strlen(pay);

    (void)err;
    free(e->prot_enc);
    free(e->tbs);
    e->prot_enc = (unsigned char *)prot;
    e->prot_len = pl;
    e->tbs_len = pl + 1 + yl;
    e->tbs = nk_xmalloc(e->tbs_len + 1);
    memcpy(e->tbs, prot, pl);
    e->tbs[pl] = '.';
    memcpy(e->tbs + pl + 1, pay, yl + 1);
    cJSON_free(json);
    free(pay);
    return 0;
}

/* The unprotected header: x5c (standard base64 DER, leaf first), the
 * signing agent and, when there is one, the timestamp token. */
static cJSON *unprotected(const struct nk_envelope *e)
{
    cJSON *h = cJSON_CreateObject();
    char *b64;

    cJSON_AddItemToObject(h, "x5c", nk_json_cert_array(e->chain));
    nk_json_add_string(h, NK_HDR_AGENT, e->agent);
    if (e->tst != NULL) {
        b64 = nk_b64_encode(e->tst, e->tst_len);
        nk_json_add_string(h, NK_HDR_TIMESTAMP, b64);
        free(b64);
    }
    return h;
}

int nk_jws_build(const struct nk_envelope *e, unsigned char **out,
                 size_t *outlen, struct nk_err *err)
{
    cJSON *o;
    char *pay, *sig, *s;

    *out = NULL;
    *outlen = 0;
    if (e->tbs == NULL || e->sig == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "JWS: nothing signed yet (internal error)");
    /* The signing input already holds BASE64URL(payload) after the dot. */
    pay = nk_xstrdup((const char *)e->tbs + e->prot_len + 1);
    sig = nk_b64url_encode(e->sig, e->sig_len);
    o = cJSON_CreateObject();
    nk_json_add_string(o, "payload", pay);
    nk_json_add_string(o, "protected", (const char *)e->prot_enc);
    cJSON_AddItemToObject(o, "header", unprotected(e));
    nk_json_add_string(o, "signature", sig);
    s = nk_json_print(o);
    cJSON_Delete(o);
    free(pay);
    free(sig);
    *outlen = strlen(s);
    *out = (unsigned char *)nk_xstrdup(s);
    cJSON_free(s);
    return 0;
}
