/* verify-signature: validates the request as the plugin contract says,
 * runs the shared verifier (plugin/verify) for exactly the capabilities
 * notation asks for, and answers one result per capability. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/b64.h"
#include "common/log.h"
#include "common/mem.h"
#include "verify/verify.h"

#define CAP_IDENTITY "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
#define CAP_REVOCATION "SIGNATURE_VERIFIER.REVOCATION_CHECK"

/* Extended attributes this plugin understands and checks. None yet: every
 * attribute notation passes stays unprocessed, so an unknown critical
 * attribute fails closed in notation. */
static const char *const understood_attrs[] = {NULL};

struct vreq {
    time_t expiry;       /* 0: none */
    time_t signing_time; /* authentic signing time, 0: none */
    STACK_OF(X509) * chain;
    const char **ids; /* trustedIdentities (borrowed strings) */
    size_t n_ids;
    const char **caps; /* signatureVerification */
    size_t n_caps;
    const char **unprocessed;
    size_t n_unprocessed;
};

static int get_object(const cJSON *o, const char *field, const cJSON **out,
                      struct nk_err *err)
{
    *out = cJSON_GetObjectItemCaseSensitive(o, field);
    if (!cJSON_IsObject(*out))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" is required and must be an object", field);
    return 0;
}

/* An array of strings (null or absent allowed unless required). */
static int get_strings(const cJSON *o, const char *field, int required,
                       const char ***out, size_t *n, struct nk_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, field), *it;

    *out = NULL;
    *n = 0;
    if ((arr == NULL || cJSON_IsNull(arr)) && !required)
        return 0;
    if (!cJSON_IsArray(arr) || (required && cJSON_GetArraySize(arr) == 0))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" must be a%s array of strings", field,
                          required ? " non-empty" : "n");
    *out = nk_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "\"%s\" must hold strings only", field);
        (*out)[(*n)++] = it->valuestring;
    }
    return 0;
}

/* An optional RFC 3339 time field; Go's zero time means "none". */
static int get_time(const cJSON *o, const char *field, time_t *out,
                    struct nk_err *err)
{
    const char *s = NULL;
    int zero = 0;

    *out = 0;
    if (nk_proto_opt_string(o, field, &s, err) != 0)
        return -1;
    if (s == NULL)
        return 0;
    if (nk_time_parse_rfc3339(s, out, &zero, err) != 0)
        return nk_err_prefix(err, "\"%s\"", field);
    return 0;
}

/* certificateChain: non-empty, standard base64 DER certificates. */
static int get_chain(const cJSON *sig, STACK_OF(X509) * *out,
                     struct nk_err *err)
{
    const char **items = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t n = 0, i, len;
    X509 *x;
    int ret = -1;

    *out = sk_X509_new_null();
    if (get_strings(sig, "certificateChain", 1, &items, &n, err) != 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (nk_b64_decode(items[i], "certificateChain", &der, &len, err))
            goto out;
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
        if (x == NULL || p != der + len) {
            X509_free(x);
            nk_err_ssl(err, NK_ERR_VALIDATION,
                       "certificateChain[%zu] is "
                       "not a DER X.509 certificate",
                       i);
            goto out;
        }
        sk_X509_push(*out, x);
        free(der);
        der = NULL;
    }
    ret = 0;
out:
    free(der);
    free(items);
    return ret;
}

static int parse_signature(const cJSON *sig, struct vreq *v, struct nk_err *err)
{
    const cJSON *crit;
    const char *ctype, *scheme;

    if (get_object(sig, "criticalAttributes", &crit, err) != 0 ||
        nk_proto_string(crit, "contentType", &ctype, err) != 0 ||
        nk_proto_string(crit, "signingScheme", &scheme, err) != 0)
        return -1;
    if (strcmp(scheme, "notary.x509") != 0 &&
        strcmp(scheme, "notary.x509.signingAuthority") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported signingScheme \"%.64s\"", scheme);
    if (get_time(crit, "expiry", &v->expiry, err) != 0 ||
        get_time(crit, "authenticSigningTime", &v->signing_time, err) != 0)
        return -1;
    /* notation only sends it for signingAuthority; never trust it else. */
    if (strcmp(scheme, "notary.x509.signingAuthority") != 0)
        v->signing_time = 0;
    return get_strings(sig, "unprocessedAttributes", 0, &v->unprocessed,
                       &v->n_unprocessed, err) ||
           get_chain(sig, &v->chain, err);
}

static int parse_request(const struct nk_request *req, struct vreq *v,
                         struct nk_err *err)
{
    const cJSON *sig, *pol;

    if (nk_proto_contract(req, err) != 0 ||
        get_object(req->json, "signature", &sig, err) != 0 ||
        parse_signature(sig, v, err) != 0 ||
        get_object(req->json, "trustPolicy", &pol, err) != 0 ||
        get_strings(pol, "signatureVerification", 1, &v->caps, &v->n_caps,
                    err) != 0 ||
        get_strings(pol, "trustedIdentities", 0, &v->ids, &v->n_ids, err))
        return -1;
    return 0;
}

static void vreq_release(struct vreq *v)
{
    sk_X509_pop_free(v->chain, X509_free);
    free(v->ids);
    free(v->caps);
    free(v->unprocessed);
}

/* Notation enforces expiry itself; we only say so in the reason. */
static void add_result(cJSON *results, const char *cap,
                       const struct nk_verdict *vd, const struct vreq *v,
                       time_t now)
{
    cJSON *r = cJSON_CreateObject();
    char when[32], *reason;

    cJSON_AddBoolToObject(r, "success", vd->success ? 1 : 0);
    if (v->expiry != 0 && now >= v->expiry) {
        nk_time_format(v->expiry, when, sizeof(when));
        reason = nk_xasprintf("%s (note: the signature expired on %s)",
                              vd->reason, when);
    } else {
        reason = nk_xstrdup(vd->reason);
    }
    nk_json_add_string(r, "reason", reason);
    free(reason);
    cJSON_AddItemToObject(results, cap, r);
}

static int revocation(const struct vreq *v, const struct nk_verify_opts *o,
                      struct nk_verdict *vd, struct nk_err *err)
{
    struct nk_revocation_result rr = {0};

    if (nk_revocation_check_chain(v->chain, o, &rr, err) != 0)
        return -1;
    nk_revocation_verdict(&rr, vd);
    nk_revocation_result_release(&rr);
    return 0;
}

/* One result per requested capability (each once), in request order. */
static int answer(const struct vreq *v, const struct nk_verify_opts *o,
                  cJSON *results, struct nk_err *err)
{
    struct nk_verdict vd;
    const char *cap;
    size_t i;

    for (i = 0; i < v->n_caps; i++) {
        cap = v->caps[i];
        if (cJSON_HasObjectItem(results, cap))
            continue;
        if (strcmp(cap, CAP_IDENTITY) == 0) {
            nk_identity_check(sk_X509_value(v->chain, 0), v->ids, v->n_ids,
                              &vd);
        } else if (strcmp(cap, CAP_REVOCATION) == 0) {
            if (revocation(v, o, &vd, err) != 0)
                return -1;
        } else {
            vd.success = 0;
            snprintf(vd.reason, sizeof(vd.reason),
                     "capability \"%.200s\" is not supported by this plugin",
                     cap);
        }
        nk_info("verify-signature %s: %s: %s", cap,
                vd.success ? "success" : "failure", vd.reason);
        add_result(results, cap, &vd, v, o->now);
    }
    return 0;
}

static int understood(const char *attr)
{
    size_t i;

    for (i = 0; understood_attrs[i] != NULL; i++)
        if (strcmp(understood_attrs[i], attr) == 0)
            return 1;
    return 0;
}

int nk_cmd_verify_signature(const struct nk_request *req, cJSON **resp,
                            struct nk_err *err)
{
    struct vreq v = {0};
    struct nk_verify_opts o = {0};
    cJSON *out = NULL, *processed;
    size_t i;
    int ret = -1;

    *resp = NULL;
    if (parse_request(req, &v, err) != 0 ||
        nk_verify_opts_init(&o, &req->cfg, err) != 0)
        goto out;
    o.signing_time = v.signing_time;
    out = cJSON_CreateObject();
    if (answer(&v, &o, cJSON_AddObjectToObject(out, "verificationResults"),
               err) != 0)
        goto out;
    processed = cJSON_AddArrayToObject(out, "processedAttributes");
    for (i = 0; i < v.n_unprocessed; i++)
        if (understood(v.unprocessed[i]))
            cJSON_AddItemToArray(processed,
                                 cJSON_CreateString(v.unprocessed[i]));
    *resp = out;
    out = NULL;
    ret = 0;
out:
    cJSON_Delete(out);
    nk_verify_opts_release(&o);
    vreq_release(&v);
    return ret;
}
