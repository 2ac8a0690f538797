/* The AWS credential chain, in the SDKs' order (botocore's resolver, which
 * the CLI uses): environment, the profile's role, web identity, SSO, the
 * credentials file, credential_process, the config file, container, IMDS.
 * A profile's role is assumed with the credentials of its source_profile
 * (itself a role, to any depth; cycles refused) or its credential_source.
 * Each source lives in its own file; this one picks and records why. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_config.h"
#include "aws_creds.h"
#include "aws_meta.h"
#include "aws_process.h"
#include "aws_sso.h"
#include "aws_sts.h"
#include "common/log.h"
#include "common/mem.h"

#define MAX_CHAIN 64

void nk_aws_creds_release(struct nk_aws_creds *c)
{
    free(c->akid);
    nk_strfreezero(c->secret);
    nk_strfreezero(c->token);
    memset(c, 0, sizeof(*c));
}

int nk_aws_creds_set(struct nk_aws_creds *c, const char *akid,
                     const char *secret, const char *token, long long expires)
{
    if (akid == NULL || secret == NULL || akid[0] == '\0' || secret[0] == '\0')
        return -1;
    free(c->akid);
    nk_strfreezero(c->secret);
    nk_strfreezero(c->token);
    c->akid = nk_xstrdup(akid);
    c->secret = nk_xstrdup(secret);
    c->token = token != NULL && token[0] != '\0' ? nk_xstrdup(token) : NULL;
    c->expires = expires;
    return 0;
}

void nk_aws_creds_note(struct nk_aws_creds *c, const char *fmt, ...)
{
    size_t n = strlen(c->skipped);
    va_list ap;

    if (n + 3 >= sizeof(c->skipped))
        return;
    if (n > 0) {
        memcpy(c->skipped + n, "; ", 3);
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(c->skipped + n, sizeof(c->skipped) - n, fmt, ap);
    va_end(ap);
}

int nk_aws_creds_fresh(const struct nk_aws_creds *c,
                       const struct nk_kms_net *net)
{
    return c->akid != NULL &&
           (c->expires == 0 ||
            (double)c->expires > (double)time(NULL) + nk_kms_net_left(net));
}

/* "2026-11-29T22:00:00Z", "...:00.123Z", "...+01:00", "... UTC". */
int nk_aws_parse_time(const char *s, long long *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, n = 0;
    char sep;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi,
               &sec, &n) != 7 ||
        (sep != 'T' && sep != 't' && sep != ' '))
        return -1;
    s += n;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    if (*s == ' ')
        s++;
    if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0 || strcmp(s, "UTC") == 0) {
        /* UTC */
    } else if ((s[0] == '+' || s[0] == '-') &&
               (sscanf(s + 1, "%2d:%2d", &oh, &om) == 2 ||
                sscanf(s + 1, "%2d%2d", &oh, &om) == 2) &&
               strlen(s) <= 6) {
        if (s[0] == '-') {
            oh = -oh;
            om = -om;
        }
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        y < 1970)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (long long)t - oh * 3600LL - om * 60LL;
    return 0;
}

/* ---- the chain ---- */

struct chain {
    const struct nk_config *cfg;
    const char *region;
    const struct nk_kms_net *net;
    const char *visited[MAX_CHAIN]; /* the role profiles being resolved */
    size_t n_visited;
};

static int chain_role(struct chain *ch, const char *profile,
                      struct nk_aws_creds *out, struct nk_err *err);

static int from_env(struct nk_aws_creds *out)
{
    if (nk_aws_creds_set(out, getenv("AWS_ACCESS_KEY_ID"),
                         getenv("AWS_SECRET_ACCESS_KEY"),
                         getenv("AWS_SESSION_TOKEN"), 0) != 0)
        return 1;
    snprintf(out->source, sizeof(out->source),
             "environment (AWS_ACCESS_KEY_ID)");
    return 0;
}

/* The key pair of the profile in the credentials file (config 0) or the
 * config file (config 1); 1 when there is none. */
static int static_keys(const char *profile, int config,
                       struct nk_aws_creds *out)
{
    char *(*get)(const char *, const char *) =
        config ? nk_aws_config_get : nk_aws_credentials_get;
    char *ak = get(profile, "aws_access_key_id");
    char *sk = get(profile, "aws_secret_access_key");
    char *st = get(profile, "aws_session_token");
    int r = nk_aws_creds_set(out, ak, sk, st, 0) == 0 ? 0 : 1;

    if (r == 0)
        snprintf(out->source, sizeof(out->source), "%s (profile \"%.100s\")",
                 config ? "config file" : "credentials file", profile);
    free(ak);
    nk_strfreezero(sk);
    nk_strfreezero(st);
    return r;
}

static int has_static_keys(const char *profile)
{
    struct nk_aws_creds c;
    int r;

    memset(&c, 0, sizeof(c));
    r = static_keys(profile, 0, &c) == 0 || static_keys(profile, 1, &c) == 0;
    nk_aws_creds_release(&c);
    return r;
}

/* Whether the profile's role is assumed by the role provider: role_arn
 * without web_identity_token_file (that pair is web identity). */
static int has_role(const char *profile)
{
    char *arn = nk_aws_profile_get(profile, "role_arn");
    char *wf = nk_aws_profile_get(profile, "web_identity_token_file");
    int r = arn != NULL && wf == NULL;

    free(arn);
    free(wf);
    return r;
}

/* Web identity: the profile's web_identity_token_file + role_arn, else
 * (env_ok) AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN. 1 when neither. */
static int web_identity(struct chain *ch, const char *profile, int env_ok,
                        struct nk_aws_creds *out, struct nk_err *err)
{
    char *wf = nk_aws_profile_get(profile, "web_identity_token_file");
    char *arn = nk_aws_profile_get(profile, "role_arn");
    char *sess = nk_aws_profile_get(profile, "role_session_name");
    const char *ewf = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *earn = getenv("AWS_ROLE_ARN");
    int r = 1;

    if (wf != NULL && arn != NULL) {
        r = nk_aws_sts_web_identity(ch->cfg, ch->region, ch->net, wf, arn, sess,
                                    out, err);
        snprintf(out->source, sizeof(out->source),
                 "web identity of role "
                 "\"%.100s\" (profile \"%.80s\")",
                 arn, profile);
    } else if (env_ok && ewf != NULL && ewf[0] != '\0' && earn != NULL &&
               earn[0] != '\0') {
        r = nk_aws_sts_web_identity(ch->cfg, ch->region, ch->net, ewf, earn,
                                    getenv("AWS_ROLE_SESSION_NAME"), out, err);
        snprintf(out->source, sizeof(out->source),
                 "web identity of role "
                 "\"%.100s\" (AWS_WEB_IDENTITY_TOKEN_FILE)",
                 earn);
    }
    free(wf);
    free(arn);
    free(sess);
    return r;
}

/* The providers the SDKs consult for one profile after its role: web
 * identity, SSO, the credentials file, credential_process, the config
 * file. 0 found, 1 none configured, -1 a configured one failed. */
static int leaf(struct chain *ch, const char *profile, int env_ok,
                struct nk_aws_creds *out, struct nk_err *err)
{
    char *proc;
    int r = web_identity(ch, profile, env_ok, out, err);

    if (r <= 0)
        return r;
    nk_aws_creds_note(out, "web identity: not configured");
    if (nk_aws_sso_configured(profile))
        return nk_aws_sso_creds(ch->net, profile, out, err);
    nk_aws_creds_note(out,
                      "SSO: profile \"%s\" has no sso_session or "
                      "sso_start_url",
                      profile);
    if (static_keys(profile, 0, out) == 0)
        return 0;
    nk_aws_creds_note(out, "credentials file: no keys for \"%s\"", profile);
    proc = nk_aws_profile_get(profile, "credential_process");
    if (proc != NULL) {
        r = nk_aws_process_creds(profile, proc, ch->net, out, err);
        free(proc);
        return r;
    }
    nk_aws_creds_note(out, "credential_process: not set in \"%s\"", profile);
    if (static_keys(profile, 1, out) == 0)
        return 0;
    nk_aws_creds_note(out, "config file: no keys in \"%s\"", profile);
    return 1;
}

/* credential_source: where a role's source credentials come from. */
static int cred_source(struct chain *ch, const char *profile, const char *src,
                       struct nk_aws_creds *out, struct nk_err *err)
{
    if (strcmp(src, "Environment") == 0) {
        if (from_env(out) == 0)
            return 0;
        return nk_err_set(err, NK_ERR_ACCESS,
                          "profile \"%s\": "
                          "credential_source Environment, but "
                          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
                          "not set",
                          profile);
    }
    if (strcmp(src, "Ec2InstanceMetadata") == 0)
        return nk_aws_imds_creds(ch->net, out, err);
    if (strcmp(src, "EcsContainer") == 0)
        return nk_aws_container_creds(ch->net, out, err);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "profile \"%s\": "
                      "credential_source \"%s\" is not one of Environment, "
                      "Ec2InstanceMetadata, EcsContainer",
                      profile, src);
}

/* A source_profile's credentials: its own (keys, SSO, process ...) when
 * it has static keys or no role; otherwise its role, recursively. */
static int source_profile(struct chain *ch, const char *parent,
                          const char *name, struct nk_aws_creds *out,
                          struct nk_err *err)
{
    int r;

    if (!nk_aws_profile_exists(name))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\": its "
                          "source_profile \"%s\" is in neither the config "
                          "nor the credentials file",
                          parent, name);
    if (has_static_keys(name) || !has_role(name)) {
        r = leaf(ch, name, 0, out, err);
        if (r > 0)
            return nk_err_set(err, NK_ERR_ACCESS,
                              "profile \"%s\": its "
                              "source_profile \"%s\" has no credentials",
                              parent, name);
        return r;
    }
    return chain_role(ch, name, out, err);
}

/* The role settings of a profile, checked. */
struct role_cfg {
    char *arn, *sp, *cs, *mfa, *ext, *sess, *dur;
};

static void role_cfg_release(struct role_cfg *r)
{
    free(r->arn);
    free(r->sp);
    free(r->cs);
    free(r->mfa);
    free(r->ext);
    free(r->sess);
    free(r->dur);
}

static int role_cfg_load(const char *profile, struct role_cfg *r,
                         long *duration, struct nk_err *err)
{
    char *end = NULL;

    r->arn = nk_aws_profile_get(profile, "role_arn");
    r->sp = nk_aws_profile_get(profile, "source_profile");
    r->cs = nk_aws_profile_get(profile, "credential_source");
    r->mfa = nk_aws_profile_get(profile, "mfa_serial");
    r->ext = nk_aws_profile_get(profile, "external_id");
    r->sess = nk_aws_profile_get(profile, "role_session_name");
    r->dur = nk_aws_profile_get(profile, "duration_seconds");
    *duration = 0;
    if (r->mfa != NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\" sets "
                          "mfa_serial: a signing plugin cannot ask for an "
                          "MFA code; use credentials that need none (e.g. "
                          "credential_process or a session from aws sts "
                          "get-session-token)",
                          profile);
    if ((r->sp != NULL) == (r->cs != NULL))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\" has "
                          "role_arn and must have exactly one of "
                          "source_profile and credential_source",
                          profile);
    if (r->dur != NULL)
        *duration = strtol(r->dur, &end, 10);
    if (r->dur != NULL &&
        (*end != '\0' || *duration < 900 || *duration > 43200))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\": "
                          "duration_seconds must be 900 to 43200, not "
                          "\"%s\"",
                          profile, r->dur);
    return 0;
}

/* The profile's role, assumed with its source's credentials. */
static int chain_role(struct chain *ch, const char *profile,
                      struct nk_aws_creds *out, struct nk_err *err)
{
    struct role_cfg rc = {0};
    struct nk_aws_role role = {0};
    struct nk_aws_creds src;
    size_t i;
    int ret = -1;

    memset(&src, 0, sizeof(src));
    for (i = 0; i < ch->n_visited; i++)
        if (strcmp(ch->visited[i], profile) == 0)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "profile \"%s\": its "
                              "source_profile chain loops back to it",
                              profile);
    if (ch->n_visited == MAX_CHAIN)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "profile \"%s\": the "
                          "source_profile chain is longer than %d",
                          profile, MAX_CHAIN);
    ch->visited[ch->n_visited++] = profile;
    if (role_cfg_load(profile, &rc, &role.duration, err) != 0)
        goto out;
    if ((rc.sp != NULL ? source_profile(ch, profile, rc.sp, &src, err)
                       : cred_source(ch, profile, rc.cs, &src, err)) != 0)
        goto out;
    role.arn = rc.arn;
    role.session = rc.sess;
    role.external_id = rc.ext;
    nk_debug("AWS role \"%s\" of profile \"%s\" from %s", rc.arn, profile,
             src.source);
    if (nk_aws_sts_assume_role(ch->cfg, ch->region, ch->net, &src, &role, out,
                               err) != 0)
        goto out;
    snprintf(out->source, sizeof(out->source),
             "role \"%.90s\" (profile "
             "\"%.40s\") from %.160s",
             rc.arn, profile, src.source);
    ret = 0;
out:
    ch->n_visited--;
    role_cfg_release(&rc);
    nk_aws_creds_release(&src);
    return ret;
}

/* Container credentials, then instance metadata: the last sources. */
static int metadata(struct chain *ch, struct nk_aws_creds *out,
                    struct nk_err *err)
{
    if (nk_aws_container_configured())
        return nk_aws_container_creds(ch->net, out, err);
    nk_aws_creds_note(out, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
                           "and _FULL_URI not set");
    if (nk_aws_env_true("AWS_EC2_METADATA_DISABLED")) {
        nk_aws_creds_note(out, "instance metadata: off "
                               "(AWS_EC2_METADATA_DISABLED)");
        return 1;
    }
    if (nk_aws_imds_creds(ch->net, out, err) == 0)
        return 0;
    nk_aws_creds_note(out, "instance metadata: %.200s", err->msg);
    nk_err_clear(err);
    return 1;
}

/* The chosen profile: its role, then its other providers. */
static int profile_sources(struct chain *ch, const char *name, int expl,
                           struct nk_aws_creds *out, struct nk_err *err)
{
    if (!nk_aws_profile_exists(name)) {
        if (expl)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "pluginConfig "
                              "\"aws-profile\" names profile \"%s\", which "
                              "is in neither ~/.aws/config nor "
                              "~/.aws/credentials",
                              name);
        nk_aws_creds_note(out, "profile \"%s\": in neither file", name);
    } else if (has_role(name)) {
        return chain_role(ch, name, out, err);
    } else {
        nk_aws_creds_note(out, "role: profile \"%s\" has no role_arn", name);
    }
    return leaf(ch, name, !expl, out, err);
}

int nk_aws_creds_get(const struct nk_config *cfg, const char *region,
                     const struct nk_kms_net *net, struct nk_aws_creds *out,
                     struct nk_err *err)
{
    struct chain ch = {cfg, region, net, {NULL}, 0};
    const char *name = nk_aws_profile(cfg);
    int expl = nk_aws_profile_explicit(cfg), r;
    char why[256];

    memset(out, 0, sizeof(*out));
    if (expl)
        nk_aws_creds_note(out,
                          "environment: not used, pluginConfig "
                          "aws-profile chooses profile \"%s\"",
                          name);
    else if (from_env(out) == 0)
        return 0;
    else
        nk_aws_creds_note(out, "environment: AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY not set");
    r = profile_sources(&ch, name, expl, out, err);
    if (r <= 0)
        return r;
    r = metadata(&ch, out, err);
    if (r <= 0)
        return r;
    snprintf(why, sizeof(why), "%.200s",
             strrchr(out->skipped, ';') != NULL ? strrchr(out->skipped, ';') + 2
                                                : out->skipped);
    return nk_err_set(err, NK_ERR_ACCESS,
                      "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, configure profile \"%s\" "
                      "(keys, role, SSO or credential_process) in "
                      "~/.aws/config, or run where a container or instance "
                      "role is served (%s)",
                      name, why);
}
