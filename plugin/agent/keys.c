/* The agent's keys: each opened once with its backend's own open (one
 * login, one KMS connection), described once, then described from memory
 * and signed with as often as clients ask, until it is removed, its
 * lifetime runs out or the agent is locked. Nothing here sends a PIN or
 * key material anywhere: replies carry public keys, certificates and
 * signatures. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/x509.h>

#include "agent/keys.h"
#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pinhook.h"
#include "common/signer.h"

struct held {
    char *id; /* the public key id clients ask for */
    const struct nk_signer_ops *ops;
    struct nk_config cfg;     /* what it was added with (no PIN source) */
    struct nk_signer *signer; /* NULL while logged out (locked) */
    struct nk_key_info info;
    double expires; /* nk_log_now_ms() deadline, 0: none */
    char *pin;      /* kept only for pin_per_sign keys */
};

struct nk_agent_keys {
    struct held *keys[NK_AGENT_MAX_KEYS];
    size_t n;
    int locked;
    unsigned ttl;
};

#define PIN_MAX 1024

struct nk_agent_keys *nk_agent_keys_new(unsigned ttl)
{
    struct nk_agent_keys *k = nk_xcalloc(1, sizeof(*k));

    k->ttl = ttl;
    return k;
}

/* A PIN the agent keeps: in memory that is never swapped (best effort)
 * and wiped when it goes. */
static char *pin_keep(const char *pin)
{
    char *p = nk_xstrdup(pin);

    (void)mlock(p, strlen(p) + 1);
    return p;
}

static void pin_drop(char **pin)
{
    size_t n;

    if (*pin == NULL)
        return;
    n = strlen(*pin) + 1;
    nk_memzero(*pin, n);
    (void)munlock(*pin, n);
    free(*pin);
    *pin = NULL;
}

/* Logs out (the backend's free closes the session) and wipes the PIN. */
static void held_close(struct held *h)
{
    if (h->signer != NULL)
        h->ops->free(h->signer);
    h->signer = NULL;
    pin_drop(&h->pin);
}

static void held_free(struct held *h)
{
    if (h == NULL)
        return;
    held_close(h);
    nk_key_info_release(&h->info);
    nk_config_release(&h->cfg);
    free(h->id);
    free(h);
}

void nk_agent_keys_free(struct nk_agent_keys *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->n; i++)
        held_free(k->keys[i]);
    free(k);
}

static struct held *find(struct nk_agent_keys *k, struct nk_agent_blob id,
                         size_t *at)
{
    size_t i;

    for (i = 0; i < k->n; i++) {
        if (nk_agent_blob_is(id, k->keys[i]->id)) {
            if (at != NULL)
                *at = i;
            return k->keys[i];
        }
    }
    return NULL;
}

static void drop_at(struct nk_agent_keys *k, size_t i)
{
    char idbuf[512];

    nk_info("agent: key %s removed",
            nk_log_keyid(k->keys[i]->id, idbuf, sizeof(idbuf)));
    held_free(k->keys[i]);
    memmove(&k->keys[i], &k->keys[i + 1], (k->n - i - 1) * sizeof(k->keys[0]));
    k->n--;
}

/* ---- replies ---- */

static void NK_PRINTF(4, 5) fail(struct nk_buf *reply, enum nk_errcode code,
                                 enum nk_agent_why why, const char *fmt, ...)
{
    struct nk_err e = {code, ""}, ignored = {NK_ERR_NONE, ""};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    /* A reply that cannot be built is none: the connection closes. */
    if (nk_agent_fail_frame(reply, &e, why, &ignored) != 0)
        reply->len = 0;
}

static void fail_err(struct nk_buf *reply, const struct nk_err *e)
{
    struct nk_err ignored = {NK_ERR_NONE, ""};

    if (nk_agent_fail_frame(reply, e, NK_AGENT_WHY_ERROR, &ignored) != 0)
        reply->len = 0;
}

static int put_der_cert(struct nk_buf *b, X509 *x, struct nk_err *err)
{
    unsigned char *der = NULL;
    int n = x != NULL ? i2d_X509(x, &der) : 0, r;

    if (n < 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode a certificate");
    r = nk_agent_put_str(b, der, (size_t)n, err);
    OPENSSL_free(der);
    return r;
}

static int key_frame(struct nk_buf *b, const struct held *h, struct nk_err *err)
{
    const struct nk_key_info *in = &h->info;
    int i, n = in->extra != NULL ? sk_X509_num(in->extra) : 0;
    unsigned char *der = NULL;
    int dlen = i2d_PUBKEY(in->pub, &der), r;

    if (dlen <= 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the public key");
    nk_agent_begin(b, NK_AGENT_KEY);
    r = nk_agent_put_str(b, h->ops->name, strlen(h->ops->name), err) != 0 ||
                nk_agent_put_str(b, nk_keyspec_name(in->spec),
                                 strlen(nk_keyspec_name(in->spec)), err) != 0 ||
                nk_agent_put_str(b, der, (size_t)dlen, err) != 0 ||
                put_der_cert(b, in->cert, err) != 0
            ? -1
            : 0;
    OPENSSL_free(der);
    if (r != 0)
        return -1;
    if (n > NK_AGENT_MAX_CERTS)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "the store keeps more than %d "
                          "certificates for the key",
                          NK_AGENT_MAX_CERTS);
    if (nk_agent_put_u32(b, (uint32_t)n, err) != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (put_der_cert(b, sk_X509_value(in->extra, i), err) != 0)
            return -1;
    if (nk_agent_put_u32(b, in->pin_per_sign ? NK_AGENT_F_PIN_PER_SIGN : 0,
                         err) != 0)
        return -1;
    return nk_agent_end(b, err);
}

static void reply_key(struct nk_buf *reply, const struct held *h)
{
    struct nk_err err = {NK_ERR_NONE, ""};

    if (key_frame(reply, h, &err) != 0)
        fail_err(reply, &err);
}

/* ---- opening ---- */

static int give_pin(void *arg, const char *token, char **pin,
                    struct nk_err *err)
{
    (void)token;
    (void)err;
    *pin = arg != NULL ? nk_xstrdup(arg) : NULL;
    return 0;
}

static void restart(struct held *h)
{
    if (h->signer != NULL && h->ops->restart != NULL)
        h->ops->restart(h->signer);
}

/* What nk_signing_open checks: a public key, and a spec that is its own. */
static int check_info(struct held *h, struct nk_err *err)
{
    enum nk_keyspec spec;

    if (h->info.pub == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "the %s backend found no public key for the key",
                          h->ops->name);
    if (nk_keyspec_of_pkey(h->info.pub, &spec, err) != 0)
        return -1;
    if (h->info.spec == NK_KEYSPEC_NONE)
        h->info.spec = spec;
    if (h->info.spec != spec)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "the key store says %s but the key is %s",
                          nk_keyspec_name(h->info.spec), nk_keyspec_name(spec));
    return 0;
}

/* Opens and describes h's key, logging in with pin (or the key's other
 * sources); keeps a copy of pin only when every signature needs it. */
static int held_open(struct held *h, const char *pin, struct nk_err *err)
{
    struct nk_key_info old = h->info;
    double t0 = nk_log_now_ms();
    int r;

    memset(&h->info, 0, sizeof(h->info));
    nk_pin_hook_set(give_pin, (void *)(uintptr_t)pin, "agent add");
    /* login before describe: a token that shows the key's public half is
     * described without one, but the agent logs in now, while it has the
     * PIN, and only the private key says whether each signature wants the
     * PIN again (pin_per_sign). */
    r = h->ops->open(h->id, &h->cfg, &h->signer, err) != 0 ||
                (h->ops->login != NULL && h->ops->login(h->signer, err) != 0) ||
                h->ops->describe(h->signer, &h->info, err) != 0 ||
                check_info(h, err) != 0
            ? -1
            : 0;
    nk_pin_hook_set(NULL, NULL, NULL);
    /* Unlocking must find the key it was: another key under the same id
     * (a token swapped meanwhile) is refused. */
    if (r == 0 && old.pub != NULL && EVP_PKEY_eq(old.pub, h->info.pub) != 1)
        r = nk_err_set(err, NK_ERR_VALIDATION,
                       "the key is not the one added before; remove it and "
                       "add it again");
    if (r != 0) {
        held_close(h);
        nk_key_info_release(&h->info);
        h->info = old;
        return -1;
    }
    nk_key_info_release(&old);
    if (h->info.pin_per_sign && pin != NULL)
        h->pin = pin_keep(pin);
    nk_info("agent: opened %s key (%s) in %.1f ms%s", h->ops->name,
            nk_keyspec_name(h->info.spec), nk_log_now_ms() - t0,
            h->pin != NULL ? "; PIN kept for every signature" : "");
    return 0;
}

/* The backend signed with a key rotated since it was described (Vault:
 * NK_SIGN_REDESCRIBE). The plugin checked its chain against the old
 * description, so this signature cannot be used; the key is described
 * again, and the next run gets the new description. */
static int held_rotated(struct held *h, struct nk_err *err)
{
    struct nk_key_info info = {0};

    if (h->ops->describe(h->signer, &info, err) != 0) {
        nk_key_info_release(&info);
        return nk_err_prefix(err, "the %s key was rotated", h->ops->name);
    }
    nk_key_info_release(&h->info);
    h->info = info;
    return nk_err_set(err, NK_ERR_GENERIC,
                      "the %s key was rotated since the agent described it; "
                      "it holds the new description now: run again",
                      h->ops->name);
}

/* ---- requests ---- */

/* The key a DESCRIBE or SIGN names, when it can be used. */
static struct held *usable(struct nk_agent_keys *k, struct nk_agent_blob id,
                           struct nk_buf *reply)
{
    struct held *h = find(k, id, NULL);

    if (h == NULL) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_NOT_HELD,
             "the agent does not hold this key");
        return NULL;
    }
    if (k->locked || h->signer == NULL) {
        fail(reply, NK_ERR_ACCESS, NK_AGENT_WHY_LOCKED, "the agent is locked");
        return NULL;
    }
    return h;
}

static void do_sign(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                    struct nk_buf *reply)
{
    struct held *h = usable(k, m->key, reply);
    struct nk_err err = {NK_ERR_NONE, ""};
    unsigned char *sig = NULL;
    size_t slen = 0;
    double t0 = nk_log_now_ms();
    int r;

    if (h == NULL)
        return;
    if (m->spec != h->info.spec) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_ERROR,
             "keySpec %s does not match the key (%s)", nk_keyspec_name(m->spec),
             nk_keyspec_name(h->info.spec));
        return;
    }
    restart(h);
    nk_pin_hook_set(give_pin, h->pin, "the agent");
    r = h->ops->sign(h->signer, m->spec, m->digest.p, m->digest.n, &sig, &slen,
                     &err);
    nk_pin_hook_set(NULL, NULL, NULL);
    if (r == NK_SIGN_REDESCRIBE)
        r = held_rotated(h, &err);
    nk_info("agent: %s signature %s in %.1f ms", h->ops->name,
            r == 0 ? "made" : "failed", nk_log_now_ms() - t0);
    if (r != 0) {
        free(sig);
        fail_err(reply, &err);
        return;
    }
    nk_agent_begin(reply, NK_AGENT_SIG);
    if (nk_agent_put_str(reply, sig, slen, &err) != 0 ||
        nk_agent_end(reply, &err) != 0)
        fail_err(reply, &err);
    free(sig);
}

static int take_config(struct held *h, const struct nk_agent_msg *m,
                       struct nk_err *err)
{
    char *key, *val;
    size_t i;
    int r = 0;

    for (i = 0; i < m->ncfg && r == 0; i++) {
        key = nk_agent_blob_str(m->cfg_key[i]);
        val = nk_agent_blob_str(m->cfg_val[i]);
        /* The client reads a PIN file itself and passes the PIN. */
        if (strcmp(key, "pin-file") == 0)
            r = nk_err_set(err, NK_ERR_VALIDATION,
                           "pluginConfig pin-file is read by agent add, not "
                           "sent to the agent");
        else
            nk_config_set(&h->cfg, key, val);
        free(key);
        nk_strfreezero(val);
    }
    return r;
}

/* A new held key for an ADD, not yet open. */
static struct held *held_new(const struct nk_agent_msg *m, struct nk_err *err)
{
    struct held *h = nk_xcalloc(1, sizeof(*h));
    char *pub = NULL;

    h->id = nk_agent_blob_str(m->key);
    nk_config_init(&h->cfg);
    h->ops = nk_signer_lookup(h->id, err);
    if (h->ops == NULL)
        goto bad;
    /* A key id that carries a PIN is never sent: the client strips it. */
    pub = nk_signer_public_id(h->ops, h->id, err);
    if (pub == NULL)
        goto bad;
    if (strcmp(pub, h->id) != 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "the key id sent to the agent holds a PIN attribute");
        goto bad;
    }
    free(pub);
    if (take_config(h, m, err) != 0)
        goto bad;
    return h;
bad:
    free(pub);
    held_free(h);
    return NULL;
}

static void do_add(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                   const char *pin, struct nk_buf *reply)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    struct held *h, *old;
    size_t at = 0;
    unsigned ttl = m->lifetime != 0 ? m->lifetime : k->ttl;

    if (k->locked) {
        fail(reply, NK_ERR_ACCESS, NK_AGENT_WHY_LOCKED,
             "the agent is locked; run \"notation-keystore agent unlock\" "
             "first");
        return;
    }
    old = find(k, m->key, &at);
    if (old == NULL && k->n >= NK_AGENT_MAX_KEYS) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_ERROR,
             "the agent holds %d keys already", NK_AGENT_MAX_KEYS);
        return;
    }
    h = held_new(m, &err);
    if (h == NULL || held_open(h, pin, &err) != 0) {
        held_free(h);
        fail_err(reply, &err);
        return;
    }
    h->expires = ttl > 0 ? nk_log_now_ms() + ttl * 1000.0 : 0;
    /* A key added again replaces the old one (a new login): the new one is
     * open before the old one goes. */
    if (old != NULL) {
        held_free(old);
        k->keys[at] = h;
    } else {
        k->keys[k->n++] = h;
    }
    reply_key(reply, h);
}

static void do_remove(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                      struct nk_buf *reply)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    size_t at;

    if (m->key.n == 0) {
        while (k->n > 0)
            drop_at(k, k->n - 1);
    } else if (find(k, m->key, &at) != NULL) {
        drop_at(k, at);
    } else {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_NOT_HELD,
             "the agent does not hold this key");
        return;
    }
    if (nk_agent_ok_frame(reply, &err) != 0)
        fail_err(reply, &err);
}

/* Seconds left of a lifetime, at least 1 while it runs; 0 for none. */
static uint32_t ttl_left(const struct held *h, double now)
{
    double left = (h->expires - now) / 1000.0;

    if (h->expires <= 0)
        return 0;
    return left < 1 ? 1 : (uint32_t)left;
}

static int put_listed(struct nk_buf *b, const struct held *h, double now,
                      struct nk_err *err)
{
    const char *spec = nk_keyspec_name(h->info.spec);

    if (nk_agent_put_str(b, h->id, strlen(h->id), err) != 0 ||
        nk_agent_put_str(b, h->ops->name, strlen(h->ops->name), err) != 0 ||
        nk_agent_put_str(b, spec, strlen(spec), err) != 0 ||
        nk_agent_put_u8(
            b, h->signer != NULL ? NK_AGENT_READY : NK_AGENT_LOGGED_OUT, err) !=
            0 ||
        nk_agent_put_u32(b, ttl_left(h, now), err) != 0)
        return -1;
    return nk_agent_put_u32(
        b, h->info.pin_per_sign ? NK_AGENT_F_PIN_PER_SIGN : 0, err);
}

static void do_list(struct nk_agent_keys *k, struct nk_buf *reply)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    double now = nk_log_now_ms();
    size_t i;
    int r;

    nk_agent_begin(reply, NK_AGENT_KEYS);
    r = nk_agent_put_u32(reply, (uint32_t)k->n, &err);
    for (i = 0; i < k->n && r == 0; i++)
        r = put_listed(reply, k->keys[i], now, &err);
    if (r != 0 || nk_agent_end(reply, &err) != 0)
        fail_err(reply, &err);
}

static void do_lock(struct nk_agent_keys *k, struct nk_buf *reply)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    size_t i;

    if (k->locked) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_LOCKED,
             "the agent is locked already");
        return;
    }
    for (i = 0; i < k->n; i++)
        held_close(k->keys[i]);
    /* KMS connections and their TLS sessions go too. */
    nk_http_cleanup();
    k->locked = 1;
    nk_info("agent: locked: %zu keys logged out", k->n);
    if (nk_agent_ok_frame(reply, &err) != 0)
        fail_err(reply, &err);
}

/* UNLOCK key: logs in to that key again (after a lock, or a failed
 * unlock); UNLOCK "": ends the lock, if there is one. */
static void do_unlock(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                      const char *pin, struct nk_buf *reply)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    struct held *h;

    if (m->key.n == 0) {
        if (k->locked)
            nk_info("agent: unlocked");
        k->locked = 0;
        if (nk_agent_ok_frame(reply, &err) != 0)
            fail_err(reply, &err);
        return;
    }
    h = find(k, m->key, NULL);
    if (h == NULL) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_NOT_HELD,
             "the agent does not hold this key");
        return;
    }
    held_close(h);
    if (held_open(h, pin, &err) != 0) {
        fail_err(reply, &err);
        return;
    }
    reply_key(reply, h);
}

void nk_agent_keys_handle(struct nk_agent_keys *k, const struct nk_agent_msg *m,
                          char *pin, struct nk_buf *reply, int *stop)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    struct held *h;

    if (pin != NULL && m->type != NK_AGENT_ADD && m->type != NK_AGENT_UNLOCK) {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_PROTOCOL,
             "a PIN may come only with ADD or UNLOCK");
    } else if (m->type == NK_AGENT_DESCRIBE) {
        h = usable(k, m->key, reply);
        if (h != NULL)
            reply_key(reply, h);
    } else if (m->type == NK_AGENT_SIGN) {
        do_sign(k, m, reply);
    } else if (m->type == NK_AGENT_ADD) {
        do_add(k, m, pin, reply);
    } else if (m->type == NK_AGENT_REMOVE) {
        do_remove(k, m, reply);
    } else if (m->type == NK_AGENT_LIST) {
        do_list(k, reply);
    } else if (m->type == NK_AGENT_LOCK) {
        do_lock(k, reply);
    } else if (m->type == NK_AGENT_UNLOCK) {
        do_unlock(k, m, pin, reply);
    } else if (m->type == NK_AGENT_STOP) {
        *stop = 1;
        if (nk_agent_ok_frame(reply, &err) != 0)
            fail_err(reply, &err);
    } else {
        fail(reply, NK_ERR_VALIDATION, NK_AGENT_WHY_PROTOCOL, "not a request");
    }
    nk_strfreezero(pin);
}

double nk_agent_keys_expire(struct nk_agent_keys *k)
{
    double now = nk_log_now_ms(), next = -1;
    size_t i = 0;

    while (i < k->n) {
        if (k->keys[i]->expires > 0 && k->keys[i]->expires <= now) {
            nk_info("agent: key lifetime ran out");
            drop_at(k, i);
            continue;
        }
        if (k->keys[i]->expires > 0 &&
            (next < 0 || k->keys[i]->expires - now < next))
            next = k->keys[i]->expires - now;
        i++;
    }
    return next;
}
