/* The awskms:// signer: key URI and region, GetPublicKey + DescribeKey
 * (cached on disk), and Sign of a local digest (MessageType DIGEST). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws_answer.h"
#include "aws_call.h"
#include "aws_config.h"
#include "aws_creds.h"
#include "aws_meta.h"
#include "common/b64.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "kms.h"
#include "kms_key.h"
#include "kms_util.h"
#include "kms_uri.h"

#define SCHEME "awskms://"

struct nk_aws {
    struct nk_signer base; /* ops = &nk_awskms_ops */
    char *key_ref;         /* as in the URI: id, ARN, alias/name, alias ARN */
    char *region;
    char *endpoint;
    const struct nk_config *cfg;
    struct nk_kms_net net;
    struct nk_aws_creds creds; /* fetched on first call */
    struct nk_kms_key key;     /* described key (key.d.id = key ARN) */
};

static struct nk_aws *aws_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_aws);
}

static int aws_handles(const char *key_id)
{
    return strncmp(key_id, SCHEME, strlen(SCHEME)) == 0;
}

static int pick_region(struct nk_aws *s, struct nk_err *err)
{
    static const char *const envs[] = {"AWS_REGION", "AWS_DEFAULT_REGION",
                                       NULL};
    const char *v;

    s->region = nk_aws_arn_region(s->key_ref);
    if (s->region != NULL)
        return 0;
    v = nk_config_str(s->cfg, "aws-region");
    if (v == NULL)
        v = nk_kms_getenv(envs);
    if (v != NULL) {
        s->region = nk_xstrdup(v);
        return 0;
    }
    s->region = nk_aws_config_get(nk_aws_profile(s->cfg), "region");
    if (s->region == NULL)
        s->region = nk_aws_imds_region(&s->net);
    if (s->region == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "no AWS region for \"%s\": set AWS_REGION, "
                          "pluginConfig \"aws-region\", a profile region, or "
                          "use a key ARN",
                          s->key_ref);
    return 0;
}

static void aws_free(struct nk_aws *s)
{
    if (s == NULL)
        return;
    free(s->key_ref);
    free(s->region);
    free(s->endpoint);
    nk_kms_net_release(&s->net);
    nk_aws_creds_release(&s->creds);
    nk_kms_key_release(&s->key);
    free(s);
}

static int parse_uri(struct nk_aws *s, const char *key_id, struct nk_err *err)
{
    struct nk_awskms_uri u;

    if (nk_awskms_uri_parse(key_id, &u, err) != 0)
        return -1;
    /* Ownership of both strings moves to s. */
    s->key_ref = u.key_ref;
    s->endpoint = u.endpoint;
    return 0;
}

static int aws_open(const char *key_id, const struct nk_config *cfg,
                    struct nk_signer **out, struct nk_err *err)
{
    static const char *const ca_envs[] = {"AWS_CA_BUNDLE", NULL};
    struct nk_aws *s = nk_xcalloc(1, sizeof(*s));
    char shown[512];
    int ret = -1;

    *out = NULL;
    s->base.ops = &nk_awskms_ops;
    s->cfg = cfg;
    if (parse_uri(s, key_id, err) != 0 ||
        nk_kms_net_init(&s->net, cfg, ca_envs, err) != 0)
        goto out;
    if (nk_config_str(cfg, "key-version") != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "pluginConfig \"key-version\" "
                   "does not apply to AWS KMS keys");
        goto out;
    }
    if (pick_region(s, err) != 0)
        goto out;
    if (s->endpoint == NULL)
        s->endpoint = nk_aws_endpoint(cfg, "KMS", "kms", s->region);
    /* Logged and stored in the cache file: no credentials from the URL. */
    nk_kms_key_init(
        &s->key, cfg,
        nk_xasprintf("awskms\n%s\n%s\n%s",
                     nk_http_url_loggable(s->endpoint, shown, sizeof(shown)),
                     s->region, s->key_ref));
    *out = &s->base;
    s = NULL;
    ret = 0;
out:
    aws_free(s);
    return ret;
}

static int call(struct nk_aws *s, const char *op, const cJSON *body,
                cJSON **out, struct nk_err *err)
{
    struct nk_aws_target t = {s->endpoint, s->region, &s->net, &s->creds,
                              s->key_ref};

    /* Resolved once per process and kept in memory only; fetched again
     * when they would expire before the command's deadline. */
    if (!nk_aws_creds_fresh(&s->creds, &s->net)) {
        if (s->creds.akid != NULL)
            nk_info("AWS credentials from %s expire before the deadline: "
                    "fetching them again",
                    s->creds.source);
        nk_aws_creds_release(&s->creds);
        if (nk_aws_creds_get(s->cfg, s->region, &s->net, &s->creds, err) != 0)
            return -1;
        nk_info("AWS credentials from %s", s->creds.source);
    }
    return nk_aws_kms_call(&t, op, body, out, err);
}

/* KeyState and KeyUsage from DescribeKey; tolerated when the caller may
 * not call DescribeKey (GetPublicKey alone is enough to sign). */
static int check_state(struct nk_aws *s, struct nk_err *err)
{
    cJSON *req = cJSON_CreateObject(), *resp = NULL;
    int ret = -1;

    cJSON_AddStringToObject(req, "KeyId", s->key_ref);
    if (call(s, "DescribeKey", req, &resp, err) != 0) {
        if (err->code == NK_ERR_ACCESS && s->creds.akid != NULL) {
            nk_info("DescribeKey not allowed, skipping state check: %s",
                    err->msg);
            nk_err_clear(err);
            ret = 0;
        }
        goto out;
    }
    if (nk_aws_describe_answer(resp, s->key_ref, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(req);
    cJSON_Delete(resp);
    return ret;
}

/* GetPublicKey, then DescribeKey for the key's state. */
static int fetch(struct nk_signer *base, struct nk_err *err)
{
    struct nk_aws *s = aws_of(base);
    cJSON *req = cJSON_CreateObject(), *resp = NULL;
    int ret = -1;

    cJSON_AddStringToObject(req, "KeyId", s->key_ref);
    if (call(s, "GetPublicKey", req, &resp, err) != 0 ||
        nk_aws_public_key_answer(resp, s->key_ref, &s->key.d, err) != 0 ||
        check_state(s, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(req);
    cJSON_Delete(resp);
    return ret;
}

static int aws_describe(struct nk_signer *base, struct nk_key_info *info,
                        struct nk_err *err)
{
    struct nk_aws *s = aws_of(base);

    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0)
        return -1;
    return nk_kms_key_info(&s->key, info, err);
}

static int aws_sign(struct nk_signer *base, enum nk_keyspec spec,
                    const unsigned char *digest, size_t dlen,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    struct nk_aws *s = aws_of(base);
    cJSON *req = NULL, *resp = NULL;
    const char *alg = nk_aws_alg_of(spec);
    char *msg = NULL, what[300];
    int ret = -1;

    *sig = NULL;
    *siglen = 0;
    snprintf(what, sizeof(what), "AWS KMS key \"%s\"", s->key_ref);
    if (nk_kms_key_load(&s->key, s->cfg, NULL, fetch, &s->base, err) != 0 ||
        nk_kms_key_check_spec(&s->key, alg != NULL ? spec : NK_KEYSPEC_NONE,
                              what, err) != 0)
        goto out;
    msg = nk_b64_encode(digest, dlen);
    req = cJSON_CreateObject();
    /* Sign with the key the description came from, even for an alias. */
    cJSON_AddStringToObject(req, "KeyId",
                            s->key.d.id ? s->key.d.id : s->key_ref);
    cJSON_AddStringToObject(req, "Message", msg);
    cJSON_AddStringToObject(req, "MessageType", "DIGEST");
    cJSON_AddStringToObject(req, "SigningAlgorithm", alg);
    if (call(s, "Sign", req, &resp, err) != 0 ||
        nk_aws_sign_answer(resp, s->key_ref, spec, sig, siglen, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0)
        nk_signer_sig_clear(sig, siglen);
    cJSON_Delete(req);
    cJSON_Delete(resp);
    free(msg);
    return ret;
}

/* A signature failed its check against the certificate: forget the
 * cached description so the next run fetches the key again. */
static void aws_stale(struct nk_signer *s)
{
    nk_kms_key_stale(&aws_of(s)->key);
}

static void aws_restart(struct nk_signer *s)
{
    nk_kms_net_restart(&aws_of(s)->net);
}

static void aws_free_op(struct nk_signer *s)
{
    if (s != NULL)
        aws_free(aws_of(s));
}

static int aws_credentials(struct nk_signer *sg, char *buf, size_t n)
{
    struct nk_aws *s = aws_of(sg);
    const char *skipped = s->creds.skipped[0] ? s->creds.skipped : "-";

    if (s->creds.akid != NULL) {
        snprintf(buf, n, "from %s; skipped before it: %s", s->creds.source,
                 skipped);
        return 1;
    }
    if (s->creds.skipped[0] == '\0')
        return -1;
    snprintf(buf, n, "none used; tried: %s", skipped);
    return 0;
}

const struct nk_signer_ops nk_awskms_ops = {
    .name = "awskms",
    .handles = aws_handles,
    .open = aws_open,
    .describe = aws_describe,
    .sign = aws_sign,
    .free = aws_free_op,
    .stale = aws_stale,
    .credential_report = aws_credentials,
    .restart = aws_restart,
};
