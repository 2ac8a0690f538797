/* The agent's frames: a strict parser that never allocates and the
 * builders (see wire.h for the layout). */
#include <string.h>

#include "agent/wire.h"
#include "common/mem.h"

/* A read position in a body. */
struct cur {
    const unsigned char *p;
    size_t n, off;
    const char *field; /* the field being read, for the message */
};

#define BACKEND_MAX 32
#define SPEC_MAX 16
#define PUB_MAX 16384
#define CERT_MAX 65536
#define SIG_MAX 1024
#define CFG_KEY_MAX 64

static int short_of(struct cur *c, struct nk_err *err)
{
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "agent message ends inside field \"%s\"", c->field);
}

static int get_u8(struct cur *c, const char *field, unsigned *v,
                  struct nk_err *err)
{
    c->field = field;
    if (c->n - c->off < 1)
        return short_of(c, err);
    *v = c->p[c->off++];
    return 0;
}

static int get_u32(struct cur *c, const char *field, uint32_t *v,
                   struct nk_err *err)
{
    const unsigned char *q = c->p + c->off;

    c->field = field;
    if (c->n - c->off < 4)
        return short_of(c, err);
    *v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
         (uint32_t)q[3];
    c->off += 4;
    return 0;
}

/* A string of min..max bytes; text ones may not hold a NUL byte. */
static int get_str(struct cur *c, const char *field, size_t min, size_t max,
                   int text, struct nk_agent_blob *b, struct nk_err *err)
{
    uint32_t len;

    if (get_u32(c, field, &len, err) != 0)
        return -1;
    if (len > c->n - c->off)
        return short_of(c, err);
    if (len < min || len > max)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent message field \"%s\" has %u bytes "
                          "(allowed %zu to %zu)",
                          field, (unsigned)len, min, max);
    b->p = c->p + c->off;
    b->n = len;
    c->off += len;
    if (text && memchr(b->p, '\0', b->n) != NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent message field \"%s\" holds a NUL byte", field);
    return 0;
}

static int get_spec(struct cur *c, enum nk_keyspec *spec, struct nk_err *err)
{
    struct nk_agent_blob b;
    char s[SPEC_MAX + 1];

    if (get_str(c, "keySpec", 1, SPEC_MAX, 1, &b, err) != 0)
        return -1;
    memcpy(s, b.p, b.n);
    s[b.n] = '\0';
    *spec = nk_keyspec_parse(s);
    if (*spec == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent message has an unknown key spec");
    return 0;
}

static int get_key(struct cur *c, size_t min, struct nk_agent_blob *b,
                   struct nk_err *err)
{
    return get_str(c, "key", min, NK_AGENT_MAX_KEY_ID, 1, b, err);
}

static int parse_sign(struct cur *c, struct nk_agent_msg *m, struct nk_err *err)
{
    if (get_key(c, 1, &m->key, err) != 0 || get_spec(c, &m->spec, err) != 0 ||
        get_str(c, "digest", 1, 64, 0, &m->digest, err) != 0)
        return -1;
    if (m->digest.n != nk_hash_len(nk_keyspec_hash(m->spec)))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent SIGN digest of %zu bytes does not fit %s",
                          m->digest.n, nk_keyspec_name(m->spec));
    return 0;
}

static int parse_add(struct cur *c, struct nk_agent_msg *m, struct nk_err *err)
{
    uint32_t n, i;

    if (get_key(c, 1, &m->key, err) != 0 ||
        get_u32(c, "lifetime", &m->lifetime, err) != 0 ||
        get_u32(c, "config count", &n, err) != 0)
        return -1;
    if (m->lifetime > NK_AGENT_MAX_LIFETIME)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent ADD lifetime over %u seconds",
                          NK_AGENT_MAX_LIFETIME);
    if (n > NK_AGENT_MAX_CONFIG)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent ADD has more than %d config entries",
                          NK_AGENT_MAX_CONFIG);
    for (i = 0; i < n; i++)
        if (get_str(c, "config key", 1, CFG_KEY_MAX, 1, &m->cfg_key[i], err) !=
                0 ||
            get_str(c, "config value", 0, NK_AGENT_MAX_TEXT, 1, &m->cfg_val[i],
                    err) != 0)
            return -1;
    m->ncfg = n;
    return 0;
}

static int parse_fail(struct cur *c, struct nk_agent_msg *m, struct nk_err *err)
{
    unsigned code = 0, why = 0;

    if (get_u8(c, "errorCode", &code, err) != 0 ||
        get_u8(c, "why", &why, err) != 0 ||
        get_str(c, "message", 0, NK_AGENT_MAX_TEXT, 1, &m->text, err) != 0)
        return -1;
    if (code < NK_ERR_VALIDATION || code > NK_ERR_GENERIC ||
        why > NK_AGENT_WHY_PROTOCOL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent FAIL has an unknown code");
    m->code = (enum nk_errcode)code;
    m->why = (enum nk_agent_why)why;
    return 0;
}

static int parse_key_reply(struct cur *c, struct nk_agent_msg *m,
                           struct nk_err *err)
{
    uint32_t n, i;

    if (get_str(c, "backend", 1, BACKEND_MAX, 1, &m->backend, err) != 0 ||
        get_spec(c, &m->spec, err) != 0 ||
        get_str(c, "public key", 1, PUB_MAX, 0, &m->pub, err) != 0 ||
        get_str(c, "certificate", 0, CERT_MAX, 0, &m->cert, err) != 0 ||
        get_u32(c, "certificate count", &n, err) != 0)
        return -1;
    if (n > NK_AGENT_MAX_CERTS)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent KEY has more than %d certificates",
                          NK_AGENT_MAX_CERTS);
    for (i = 0; i < n; i++)
        if (get_str(c, "certificate", 1, CERT_MAX, 0, &m->extra[i], err) != 0)
            return -1;
    m->nextra = n;
    return get_u32(c, "flags", &m->flags, err);
}

static int parse_keys(struct cur *c, struct nk_agent_msg *m, struct nk_err *err)
{
    struct nk_agent_listed *k;
    unsigned state = 0;
    uint32_t n, i;

    if (get_u32(c, "key count", &n, err) != 0)
        return -1;
    if (n > NK_AGENT_MAX_KEYS)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent KEYS lists more than %d keys",
                          NK_AGENT_MAX_KEYS);
    for (i = 0; i < n; i++) {
        k = &m->keys[i];
        if (get_key(c, 1, &k->key, err) != 0 ||
            get_str(c, "backend", 1, BACKEND_MAX, 1, &k->backend, err) != 0 ||
            get_spec(c, &k->spec, err) != 0 ||
            get_u8(c, "state", &state, err) != 0 ||
            get_u32(c, "ttl", &k->ttl, err) != 0 ||
            get_u32(c, "flags", &k->flags, err) != 0)
            return -1;
        if (state > NK_AGENT_LOGGED_OUT)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "agent KEYS has an unknown key state");
        k->state = (enum nk_agent_state)state;
    }
    m->nkeys = n;
    return 0;
}

static int parse_body(struct cur *c, struct nk_agent_msg *m, struct nk_err *err)
{
    switch (m->type) {
    case NK_AGENT_DESCRIBE:
        return get_key(c, 1, &m->key, err);
    case NK_AGENT_SIGN:
        return parse_sign(c, m, err);
    case NK_AGENT_ADD:
        return parse_add(c, m, err);
    case NK_AGENT_REMOVE:
    case NK_AGENT_UNLOCK:
        return get_key(c, 0, &m->key, err);
    case NK_AGENT_LIST:
    case NK_AGENT_LOCK:
    case NK_AGENT_STOP:
    case NK_AGENT_OK:
        return 0;
    case NK_AGENT_FAIL:
        return parse_fail(c, m, err);
    case NK_AGENT_KEY:
        return parse_key_reply(c, m, err);
    case NK_AGENT_SIG:
        return get_str(c, "signature", 1, SIG_MAX, 0, &m->sig, err);
    case NK_AGENT_KEYS:
        return parse_keys(c, m, err);
    }
    return nk_err_set(err, NK_ERR_VALIDATION, "unknown agent message type");
}

static int is_request(unsigned t)
{
    return t >= NK_AGENT_DESCRIBE && t <= NK_AGENT_STOP;
}

static int is_reply(unsigned t)
{
    return t >= NK_AGENT_FAIL && t <= NK_AGENT_KEYS;
}

int nk_agent_parse(const unsigned char *p, size_t n, int requests,
                   struct nk_agent_msg *m, struct nk_err *err)
{
    struct cur c = {p, n, 0, "version"};
    unsigned version = 0, type = 0;

    memset(m, 0, sizeof(*m));
    if (get_u8(&c, "version", &version, err) != 0 ||
        get_u8(&c, "type", &type, err) != 0)
        return -1;
    if (version != NK_AGENT_VERSION)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent protocol version %u, not %d", version,
                          NK_AGENT_VERSION);
    if (requests ? !is_request(type) : !is_reply(type))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent message type %u is not a %s", type,
                          requests ? "request" : "reply");
    m->type = (enum nk_agent_type)type;
    if (parse_body(&c, m, err) != 0)
        return -1;
    if (c.off != c.n)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent message has %zu bytes after its last field",
                          c.n - c.off);
    return 0;
}

int nk_agent_frame_len(const unsigned char hdr[4], size_t max, size_t *len,
                       struct nk_err *err)
{
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                 (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];

    *len = 0;
    if (n < 2 || n > max)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "agent frame of %u bytes (allowed 2 to %zu)",
                          (unsigned)n, max);
    *len = n;
    return 0;
}

void nk_agent_begin(struct nk_buf *b, enum nk_agent_type type)
{
    unsigned char head[6] = {0, 0, 0, 0, NK_AGENT_VERSION, (unsigned char)type};
    struct nk_err e = {NK_ERR_NONE, ""};

    b->len = 0;
    /* Six bytes fit every frame buffer; should they not, end() fails. */
    if (nk_buf_append(b, head, sizeof(head), &e) != 0)
        b->len = 0;
}

int nk_agent_put_u8(struct nk_buf *b, unsigned v, struct nk_err *err)
{
    unsigned char c = (unsigned char)v;

    return nk_buf_append(b, &c, 1, err);
}

int nk_agent_put_u32(struct nk_buf *b, uint32_t v, struct nk_err *err)
{
    unsigned char q[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};

    return nk_buf_append(b, q, 4, err);
}

int nk_agent_put_str(struct nk_buf *b, const void *p, size_t n,
                     struct nk_err *err)
{
    if (n > UINT32_MAX)
        return nk_err_set(err, NK_ERR_GENERIC, "agent field too long");
    if (nk_agent_put_u32(b, (uint32_t)n, err) != 0)
        return -1;
    return n == 0 ? 0 : nk_buf_append(b, p, n, err);
}

int nk_agent_end(struct nk_buf *b, struct nk_err *err)
{
    size_t n;

    if (b->len < 6)
        return nk_err_set(err, NK_ERR_GENERIC, "agent frame not begun");
    n = b->len - 4;
    b->data[0] = (unsigned char)(n >> 24);
    b->data[1] = (unsigned char)(n >> 16);
    b->data[2] = (unsigned char)(n >> 8);
    b->data[3] = (unsigned char)n;
    return 0;
}

int nk_agent_fail_frame(struct nk_buf *b, const struct nk_err *e,
                        enum nk_agent_why why, struct nk_err *err)
{
    size_t n = strnlen(e->msg, sizeof(e->msg));
    enum nk_errcode code = e->code != NK_ERR_NONE ? e->code : NK_ERR_GENERIC;

    nk_agent_begin(b, NK_AGENT_FAIL);
    if (nk_agent_put_u8(b, code, err) != 0 ||
        nk_agent_put_u8(b, why, err) != 0 ||
        nk_agent_put_str(b, e->msg, n, err) != 0)
        return -1;
    return nk_agent_end(b, err);
}

int nk_agent_ok_frame(struct nk_buf *b, struct nk_err *err)
{
    nk_agent_begin(b, NK_AGENT_OK);
    return nk_agent_end(b, err);
}

char *nk_agent_blob_str(struct nk_agent_blob b)
{
    return nk_xstrndup(b.p != NULL ? (const char *)b.p : "", b.n);
}

int nk_agent_blob_is(struct nk_agent_blob b, const char *s)
{
    return strlen(s) == b.n && (b.n == 0 || memcmp(b.p, s, b.n) == 0);
}
