/* Strict parsing of notation's JWS envelope: flattened JSON with payload,
 * protected, header {x5c, signingAgent, timestampSignature} and signature. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "envelope/sigenv.h"
#include "common/b64.h"
#include "common/mem.h"
#include "verify/verify.h"

/* 0 when obj is an object of at most NK_SIGENV_MAX_HEADERS members whose
 * names are unique and all listed in allowed (NULL: any name). */
static int members_ok(const cJSON *obj, const char *const *allowed,
                      const char *what, struct nk_err *err)
{
    const cJSON *a, *b;
    size_t i, n = 0;

    if (!cJSON_IsObject(obj))
        return nk_err_set(err, NK_ERR_VALIDATION, "%s must be a JSON object",
                          what);
    for (a = obj->child; a != NULL; a = a->next)
        n++;
    if (n > NK_SIGENV_MAX_HEADERS)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s has %zu members, more than %d", what, n,
                          NK_SIGENV_MAX_HEADERS);
    for (a = obj->child; a != NULL; a = a->next) {
        for (b = a->next; b != NULL; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  "%s has member "
                                  "\"%.64s\" twice",
                                  what, a->string);
        for (i = 0; allowed != NULL && allowed[i] != NULL; i++)
            if (strcmp(a->string, allowed[i]) == 0)
                break;
        if (allowed != NULL && allowed[i] == NULL)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "%s has unknown member "
                              "\"%.64s\"",
                              what, a->string);
    }
    return 0;
}

/* Parses exactly n bytes of JSON text. */
static cJSON *parse_all(const char *p, size_t n, const char *what,
                        struct nk_err *err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(p, n, &end, 0);

    while (j != NULL && end < p + n &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (j == NULL || end != p + n) {
        cJSON_Delete(j);
        nk_err_set(err, NK_ERR_VALIDATION, "%s is not one JSON object", what);
        return NULL;
    }
    return j;
}

static int opt_str(const cJSON *o, const char *name, char **out,
                   struct nk_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (v == NULL)
        return 0;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "header \"%s\" must be a "
                          "non-empty string",
                          name);
    *out = nk_xstrdup(v->valuestring);
    return 0;
}

static int opt_time(const cJSON *o, const char *name, time_t *out,
                    struct nk_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    int zero = 0;

    if (v == NULL)
        return 0;
    if (!cJSON_IsString(v) ||
        nk_time_parse_rfc3339(v->valuestring, out, &zero, err) != 0 || zero)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "header \"%s\" must be an "
                          "RFC 3339 time",
                          name);
    return 0;
}

static int read_crit(const cJSON *o, struct nk_sigenv *e, struct nk_err *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "crit"), *it;

    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "protected header needs a "
                          "non-empty \"crit\" array");
    cJSON_ArrayForEach(it, c)
    {
        if (!cJSON_IsString(it) || e->n_crit == NK_SIGENV_MAX_CRIT)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "\"crit\" must hold at "
                              "most %d strings",
                              NK_SIGENV_MAX_CRIT);
        if (cJSON_GetObjectItemCaseSensitive(o, it->valuestring) == NULL)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "critical header "
                              "\"%.64s\" is missing",
                              it->valuestring);
        e->crit[e->n_crit++] = nk_xstrdup(it->valuestring);
    }
    return 0;
}

static int read_protected(const char *b64, struct nk_sigenv *e,
                          struct nk_err *err)
{
    static const char *const algs[] = {"PS256", "PS384", "PS512", "ES256",
                                       "ES384", "ES512", NULL};
    unsigned char *raw = NULL;
    size_t n = 0, i;
    cJSON *h = NULL;
    const cJSON *alg;
    int ret = -1;

    if (nk_b64url_decode(b64, "protected", &raw, &n, err) != 0 ||
        (h = parse_all((const char *)raw, n, "protected header", err)) ==
            NULL ||
        members_ok(h, NULL, "protected header", err) != 0)
        goto out;
    alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    for (i = 0; cJSON_IsString(alg) && algs[i] != NULL; i++)
        if (strcmp(alg->valuestring, algs[i]) == 0)
            memcpy(e->alg, algs[i], 6);
    if (opt_str(h, "cty", &e->cty, err) != 0 ||
        opt_str(h, "io.cncf.notary.signingScheme", &e->scheme, err) != 0 ||
        opt_str(h, "io.cncf.notary.verificationPlugin", &e->vplugin, err) !=
            0 ||
        opt_str(h, "io.cncf.notary.verificationPluginMinVersion",
                &e->vplugin_min, err) != 0 ||
        opt_time(h, "io.cncf.notary.signingTime", &e->signing_time, err) != 0 ||
        opt_time(h, "io.cncf.notary.expiry", &e->expiry, err) != 0 ||
        read_crit(h, e, err) != 0)
        goto out;
    if (e->scheme != NULL &&
        strcmp(e->scheme, "notary.x509.signingAuthority") == 0 &&
        opt_time(h, "io.cncf.notary.authenticSigningTime", &e->signing_time,
                 err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(h);
    free(raw);
    return ret;
}

static int read_unprotected(const cJSON *hdr, struct nk_sigenv *e,
                            struct nk_err *err)
{
    static const char *const allowed[] = {"x5c", "io.cncf.notary.signingAgent",
                                          "io.cncf.notary.timestampSignature",
                                          NULL};
    const cJSON *x5c = cJSON_GetObjectItemCaseSensitive(hdr, "x5c"), *it;
    const cJSON *tst;
    unsigned char *der;
    size_t n;
    int r;

    if (members_ok(hdr, allowed, "unprotected header", err) != 0 ||
        opt_str(hdr, "io.cncf.notary.signingAgent", &e->agent, err) != 0)
        return -1;
    if (!cJSON_IsArray(x5c) || cJSON_GetArraySize(x5c) == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unprotected header needs "
                          "a non-empty \"x5c\" array");
    cJSON_ArrayForEach(it, x5c)
    {
        if (!cJSON_IsString(it) ||
            nk_b64_decode(it->valuestring, "x5c", &der, &n, err) != 0)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "\"x5c\" entries must "
                              "be base64 DER certificates");
        r = nk_sigenv_add_cert(e, der, n, err);
        free(der);
        if (r != 0)
            return -1;
    }
    tst = cJSON_GetObjectItemCaseSensitive(hdr,
                                           "io.cncf.notary.timestampSignature");
    if (tst != NULL && (!cJSON_IsString(tst) ||
                        nk_b64_decode(tst->valuestring, "timestampSignature",
                                      &e->tst, &e->tst_len, err) != 0))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"io.cncf.notary."
                          "timestampSignature\" must be base64");
    return 0;
}

int nk_sigenv_parse_jws(const unsigned char *p, size_t n, struct nk_sigenv *e,
                        struct nk_err *err)
{
    static const char *const top[] = {"payload", "protected", "header",
                                      "signature", NULL};
    cJSON *j = parse_all((const char *)p, n, "JWS envelope", err);
    const cJSON *pl, *pr, *sg;
    int ret = -1;

    if (j == NULL || members_ok(j, top, "JWS envelope", err) != 0)
        goto out;
    pl = cJSON_GetObjectItemCaseSensitive(j, "payload");
    pr = cJSON_GetObjectItemCaseSensitive(j, "protected");
    sg = cJSON_GetObjectItemCaseSensitive(j, "signature");
    if (!cJSON_IsString(pl) || !cJSON_IsString(pr) || !cJSON_IsString(sg) ||
        pr->valuestring[0] == '\0') {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "JWS envelope needs string "
                   "\"payload\", \"protected\" and \"signature\"");
        goto out;
    }
    if (read_protected(pr->valuestring, e, err) != 0 ||
        read_unprotected(cJSON_GetObjectItemCaseSensitive(j, "header"), e,
                         err) != 0 ||
        nk_b64url_decode(pl->valuestring, "payload", &e->payload,
                         &e->payload_len, err) != 0 ||
        nk_b64url_decode(sg->valuestring, "signature", &e->sig, &e->sig_len,
                         err) != 0)
        goto out;
    e->tbs = (unsigned char *)nk_xasprintf("%s.%s", pr->valuestring,
                                           pl->valuestring);
    e->tbs_len = strlen((char *)e->tbs);
    ret = nk_sigenv_check_headers(e, err);
out:
    cJSON_Delete(j);
    return ret;
}
