/* The agent signer: describe comes from the agent's memory, sign is one
 * request. Should the agent stop holding the key between the two (it was
 * removed, its lifetime ran out, the agent was locked or stopped), the key
 * is opened directly, as it would have been without the agent, and must be
 * the key the agent described. */
#include <stdlib.h>
#include <string.h>

#include "agent/client.h"
#include "agent/signer.h"
#include "agent/sock.h"
#include "common/log.h"
#include "common/mem.h"

/* Seconds one exchange may take: the agent answers one request at a time,
 * and a busy one may have a queue of signatures on a slow token first. */
#define AGENT_TIMEOUT 30.0

struct nk_agent_signer {
    struct nk_signer base; /* ops = &agent_ops */
    struct nk_agent_conn *conn;
    const struct nk_signer_ops *backend;
    char *public_id;
    struct nk_mask key_id; /* for a direct open; masked meanwhile */
    const struct nk_config *cfg;
    struct nk_key_info info;  /* as the agent described it */
    struct nk_signer *direct; /* opened when the agent let go */
};

static const struct nk_signer_ops agent_ops;

static struct nk_agent_signer *agent_of(struct nk_signer *s)
{
    return NK_SIGNER_OF(s, struct nk_agent_signer);
}

static void agent_free(struct nk_signer *base)
{
    struct nk_agent_signer *s;

    if (base == NULL)
        return;
    s = agent_of(base);
    nk_agent_close(s->conn);
    if (s->direct != NULL)
        s->direct->ops->free(s->direct);
    nk_key_info_release(&s->info);
    nk_mask_release(&s->key_id);
    free(s->public_id);
    free(s);
}

static int share_info(const struct nk_key_info *from, struct nk_key_info *to,
                      struct nk_err *err)
{
    int i;

    if (EVP_PKEY_up_ref(from->pub) != 1)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot share the public key");
    to->pub = from->pub;
    to->spec = from->spec;
    to->pin_per_sign = from->pin_per_sign;
    if (from->cert != NULL && X509_up_ref(from->cert) == 1)
        to->cert = from->cert;
    if (from->extra != NULL) {
        to->extra = sk_X509_new_null();
        for (i = 0; i < sk_X509_num(from->extra); i++)
            if (X509_up_ref(sk_X509_value(from->extra, i)) == 1)
                sk_X509_push(to->extra, sk_X509_value(from->extra, i));
    }
    return 0;
}

static int agent_describe(struct nk_signer *base, struct nk_key_info *info,
                          struct nk_err *err)
{
    return share_info(&agent_of(base)->info, info, err);
}

/* The agent no longer signs with the key: open it here, check it is the
 * one the agent described, and sign with it from now on. */
static int open_direct(struct nk_agent_signer *s, struct nk_err *err)
{
    struct nk_key_info info = {0};
    int r;

    nk_mask_show(&s->key_id);
    r = s->backend->open(s->key_id.s, s->cfg, &s->direct, err);
    nk_mask_hide(&s->key_id);
    if (r != 0 || s->direct->ops->describe(s->direct, &info, err) != 0) {
        nk_key_info_release(&info);
        return -1;
    }
    r = EVP_PKEY_eq(info.pub, s->info.pub) == 1
            ? 0
            : nk_err_set(err, NK_ERR_VALIDATION,
                         "the key the agent described is not the key "
                         "found now; run again");
    nk_key_info_release(&info);
    return r;
}

static int agent_sign(struct nk_signer *base, enum nk_keyspec spec,
                      const unsigned char *digest, size_t dlen,
                      unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    struct nk_agent_signer *s = agent_of(base);
    struct nk_err e = {NK_ERR_NONE, ""};
    const struct nk_agent_msg *m = &s->conn->reply;
    const char *name;
    int r;

    *sig = NULL;
    *siglen = 0;
    if (s->direct != NULL)
        return s->direct->ops->sign(s->direct, spec, digest, dlen, sig, siglen,
                                    err);
    name = nk_keyspec_name(spec);
    nk_agent_begin(&s->conn->out, NK_AGENT_SIGN);
    r = nk_agent_put_str(&s->conn->out, s->public_id, strlen(s->public_id),
                         &e) != 0 ||
                nk_agent_put_str(&s->conn->out, name, strlen(name), &e) != 0 ||
                nk_agent_put_str(&s->conn->out, digest, dlen, &e) != 0 ||
                nk_agent_call(s->conn, -1, &e) != 0
            ? -1
            : 0;
    if (r == 0 && m->type == NK_AGENT_SIG) {
        *sig = nk_xmalloc(m->sig.n);
        memcpy(*sig, m->sig.p, m->sig.n);
        *siglen = m->sig.n;
        return 0;
    }
    if (r == 0 && m->type == NK_AGENT_FAIL && m->why == NK_AGENT_WHY_ERROR)
        return nk_agent_fail_err(m, err);
    if (r == 0)
        nk_err_set(&e, NK_ERR_GENERIC, "%.*s", (int)m->text.n,
                   (const char *)m->text.p);
    nk_info("agent: signing through the agent failed (%s); opening the key "
            "directly",
            e.msg);
    if (open_direct(s, err) != 0)
        return -1;
    return s->direct->ops->sign(s->direct, spec, digest, dlen, sig, siglen,
                                err);
}

static void agent_stale(struct nk_signer *base)
{
    struct nk_agent_signer *s = agent_of(base);

    if (s->direct != NULL && s->direct->ops->stale != NULL)
        s->direct->ops->stale(s->direct);
}

static const struct nk_signer_ops agent_ops = {
    .name = "agent",
    .free = agent_free,
    .describe = agent_describe,
    .sign = agent_sign,
    .stale = agent_stale,
};

/* Asks the agent to describe the key; 0 when it holds it. */
static int ask(struct nk_agent_signer *s, const char *path, struct nk_err *e)
{
    const struct nk_agent_msg *m;

    if (nk_agent_open(path, AGENT_TIMEOUT, &s->conn, e) != 0)
        return -1;
    m = &s->conn->reply;
    nk_agent_begin(&s->conn->out, NK_AGENT_DESCRIBE);
    if (nk_agent_put_str(&s->conn->out, s->public_id, strlen(s->public_id),
                         e) != 0 ||
        nk_agent_call(s->conn, -1, e) != 0)
        return -1;
    if (m->type == NK_AGENT_FAIL)
        return nk_err_set(e, m->code, "%.*s", (int)m->text.n,
                          (const char *)m->text.p);
    if (m->type != NK_AGENT_KEY)
        return nk_err_set(e, NK_ERR_GENERIC, "unexpected answer");
    return nk_agent_key_info(m, &s->info, e);
}

int nk_agent_signer_open(const struct nk_signer_ops *backend,
                         const char *key_id, const struct nk_config *cfg,
                         struct nk_signer **out)
{
    const char *path = getenv("NOTATION_KEYSTORE_AGENT");
    struct nk_err e = {NK_ERR_NONE, ""};
    struct nk_agent_signer *s;
    double t0;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return 1;
    t0 = nk_log_now_ms();
    s = nk_xcalloc(1, sizeof(*s));
    s->base.ops = &agent_ops;
    s->backend = backend;
    s->cfg = cfg;
    s->public_id = nk_signer_public_id(backend, key_id, &e);
    if (s->public_id == NULL || ask(s, path, &e) != 0) {
        nk_info("agent: not used (%s); opening the key directly", e.msg);
        agent_free(&s->base);
        return 1;
    }
    nk_mask_init(&s->key_id, nk_xstrdup(key_id));
    nk_mask_hide(&s->key_id);
    nk_info("agent: the agent holds the key (%s, %.1f ms)",
            nk_keyspec_name(s->info.spec), nk_log_now_ms() - t0);
    *out = &s->base;
    return 0;
}
