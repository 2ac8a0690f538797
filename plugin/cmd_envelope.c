/* generate-envelope: check the request, build the JWS or COSE envelope
 * around notation's payload, sign it with the key (the same operation and
 * pre-sign checks as generate-signature) and timestamp it when asked. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64.h"
#include "common/mem.h"
#include "commands.h"
#include "envelope/attrs.h"
#include "envelope/cose.h"
#include "envelope/jws.h"
#include "envelope/payload.h"
#include "envelope/tsa.h"
#include "signing.h"

/* Expiry beyond this many seconds (100 years) is refused. */
#define MAX_EXPIRY 3155760000LL

struct format {
    const char *type;
    int (*tbs)(struct nk_envelope *e, struct nk_err *err);
    int (*build)(const struct nk_envelope *e, unsigned char **out,
                 size_t *outlen, struct nk_err *err);
};

static const struct format formats[] = {
    {NK_JWS_TYPE, nk_jws_tbs, nk_jws_build},
    {NK_COSE_TYPE, nk_cose_tbs, nk_cose_build},
};

/* Everything taken from the request, checked before the key is touched. */
struct env_req {
    struct nk_mask key_id;
    const char *env_type;
    const struct format *fmt;
    unsigned char *payload;
    size_t payload_len;
    long long expiry; /* seconds; 0 means no expiry */
    int vplugin;
    struct nk_tsa tsa;
};

static int parse_types(const struct nk_request *req, struct env_req *r,
                       struct nk_err *err)
{
    const char *ptype = NULL;
    size_t i;

    if (nk_proto_string(req->json, "payloadType", &ptype, err) != 0 ||
        nk_proto_string(req->json, "signatureEnvelopeType", &r->env_type,
                        err) != 0)
        return -1;
    if (strcmp(ptype, NK_PAYLOAD_TYPE) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported payloadType \"%.64s\": only \"%s\"",
                          ptype, NK_PAYLOAD_TYPE);
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(r->env_type, formats[i].type) == 0)
            r->fmt = &formats[i];
    if (r->fmt == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported signatureEnvelopeType \"%.64s\": "
                          "expected \"%s\" or \"%s\"",
                          r->env_type, NK_JWS_TYPE, NK_COSE_TYPE);
    return 0;
}

/* expiryDurationInSeconds: absent/null, or a positive whole number. */
static int parse_expiry(const struct nk_request *req, struct env_req *r,
                        struct nk_err *err)
{
    const cJSON *x =
        cJSON_GetObjectItemCaseSensitive(req->json, "expiryDurationInSeconds");

    r->expiry = 0;
    if (x == NULL || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsNumber(x) || x->valuedouble < 1 ||
        x->valuedouble > (double)MAX_EXPIRY ||
        (double)(long long)x->valuedouble != x->valuedouble)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"expiryDurationInSeconds\" must be a positive "
                          "whole number of seconds (at most %lld)",
                          MAX_EXPIRY);
    r->expiry = (long long)x->valuedouble;
    return 0;
}

/* The same rule as get-plugin-metadata: "raw" (default) or "envelope". */
static int check_mode(const struct nk_config *cfg, struct nk_err *err)
{
    const char *mode = nk_config_str(cfg, "mode");

    if (mode == NULL || strcmp(mode, "raw") == 0 ||
        strcmp(mode, "envelope") == 0)
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "pluginConfig \"mode\" must be \"raw\" or "
                      "\"envelope\", not \"%.64s\"",
                      mode);
}

static int parse_request(const struct nk_request *req, struct env_req *r,
                         struct nk_err *err)
{
    if (check_mode(&req->cfg, err) != 0 || nk_proto_contract(req, err) != 0 ||
        nk_proto_take_key_id(req, &r->key_id, err) != 0 ||
        parse_types(req, r, err) != 0 ||
        nk_proto_bytes(req->json, "payload", &r->payload, &r->payload_len,
                       err) != 0 ||
        nk_payload_check(r->payload, r->payload_len, err) != 0 ||
        parse_expiry(req, r, err) != 0 ||
        nk_config_bool(&req->cfg, "verification-plugin", 1, &r->vplugin, err) !=
            0 ||
        nk_tsa_config(&req->cfg, &r->tsa, err) != 0)
        return -1;
    return 0;
}

/* Encode, sign, timestamp the raw signature, encode again. */
static int sign_envelope(struct env_req *r, struct nk_signing *sg,
                         struct nk_envelope *e, unsigned char **out,
                         size_t *outlen, struct nk_err *err)
{
    nk_attrs_decide(e, sg->info.spec, time(NULL), r->expiry, r->vplugin);
    e->payload = r->payload;
    e->payload_len = r->payload_len;
    e->chain = sg->chain;
    if (r->fmt->tbs(e, err) != 0 ||
        nk_signing_sign(sg, e->tbs, e->tbs_len, &e->sig, &e->sig_len, err) != 0)
        return -1;
    if (r->tsa.url != NULL &&
        nk_tsa_stamp(&r->tsa, nk_keyspec_hash(e->spec), e->sig, e->sig_len,
                     &e->tst, &e->tst_len, err) != 0)
        return nk_err_prefix(err, "cannot timestamp the signature");
    return r->fmt->build(e, out, outlen, err);
}

int nk_cmd_generate_envelope(const struct nk_request *req, cJSON **resp,
                             struct nk_err *err)
{
    struct env_req r = {0};
    struct nk_signing sg = {0};
    struct nk_envelope e = {0};
    unsigned char *env = NULL;
    size_t envlen = 0;
    char *b64 = NULL;
    int ret = -1;

    *resp = NULL;
    if (parse_request(req, &r, err) != 0 ||
        nk_signing_open(&sg, r.key_id.s, &req->cfg, err) != 0)
        goto out;
    /* The envelope response carries no key id: once logged in, a pin-value
     * in it is not needed again. */
    nk_mask_release(&r.key_id);
    if (nk_signing_prepare(&sg, &req->cfg, err) != 0 ||
        sign_envelope(&r, &sg, &e, &env, &envlen, err) != 0)
        goto out;
    b64 = nk_b64_encode(env, envlen);
    *resp = cJSON_CreateObject();
    nk_json_add_string(*resp, "signatureEnvelope", b64);
    nk_json_add_string(*resp, "signatureEnvelopeType", r.env_type);
    ret = 0;
out:
    free(b64);
    free(env);
    nk_attrs_release(&e);
    nk_signing_release(&sg);
    nk_tsa_release(&r.tsa);
    nk_freezero(r.payload, r.payload_len);
    nk_mask_release(&r.key_id);
    return ret;
}
