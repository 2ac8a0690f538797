/* The client end of the agent protocol: connect, one exchange at a time,
 * and the key description of a KEY reply. */
#include <stdlib.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "agent/client.h"
#include "agent/sock.h"
#include "common/mem.h"

int nk_agent_open(const char *path, double timeout, struct nk_agent_conn **out,
                  struct nk_err *err)
{
    struct nk_agent_conn *c;
    int fd;

    *out = NULL;
    if (nk_agent_connect(path, timeout, &fd, err) != 0)
        return -1;
    c = nk_xcalloc(1, sizeof(*c));
    c->fd = fd;
    nk_buf_init(&c->out, NK_AGENT_MAX_REQUEST + 4);
    nk_buf_init(&c->in, NK_AGENT_MAX_REPLY);
    *out = c;
    return 0;
}

int nk_agent_call(struct nk_agent_conn *c, int pass_fd, struct nk_err *err)
{
    if (nk_agent_end(&c->out, err) != 0 ||
        nk_agent_send(c->fd, &c->out, pass_fd, err) != 0 ||
        nk_agent_recv(c->fd, &c->in, NK_AGENT_MAX_REPLY, err) != 0)
        return -1;
    if (nk_agent_parse(c->in.data, c->in.len, 0, &c->reply, err) != 0)
        return nk_err_prefix(err, "bad answer from the agent");
    return 0;
}

int nk_agent_fail_err(const struct nk_agent_msg *m, struct nk_err *err)
{
    return nk_err_set(err, m->code, "agent: %.*s", (int)m->text.n,
                      (const char *)m->text.p);
}

static X509 *der_cert(struct nk_agent_blob b)
{
    const unsigned char *p = b.p;
    X509 *x = d2i_X509(NULL, &p, (long)b.n);

    if (x != NULL && p != b.p + b.n) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int nk_agent_key_info(const struct nk_agent_msg *m, struct nk_key_info *info,
                      struct nk_err *err)
{
    const unsigned char *p = m->pub.p;
    X509 *x;
    size_t i;

    info->spec = m->spec;
    info->pin_per_sign = (m->flags & NK_AGENT_F_PIN_PER_SIGN) != 0;
    info->pub = d2i_PUBKEY(NULL, &p, (long)m->pub.n);
    if (info->pub == NULL || p != m->pub.p + m->pub.n)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "the agent sent a bad public key");
    if (m->cert.n > 0) {
        info->cert = der_cert(m->cert);
        if (info->cert == NULL)
            return nk_err_ssl(err, NK_ERR_GENERIC,
                              "the agent sent a bad certificate");
    }
    for (i = 0; i < m->nextra; i++) {
        x = der_cert(m->extra[i]);
        if (x == NULL)
            return nk_err_ssl(err, NK_ERR_GENERIC,
                              "the agent sent a bad certificate");
        if (info->extra == NULL)
            info->extra = sk_X509_new_null();
        sk_X509_push(info->extra, x);
    }
    return 0;
}

void nk_agent_close(struct nk_agent_conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    nk_buf_release(&c->out);
    nk_buf_release(&c->in);
    free(c);
}
