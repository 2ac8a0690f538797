/* Capped, wiped byte buffers and whole-file/whole-fd reads. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

void nk_buf_init(struct nk_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

int nk_buf_append(struct nk_buf *b, const void *p, size_t n, struct nk_err *err)
{
    size_t want, ncap;
    unsigned char *nd;

    if (n > b->max - b->len)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "input exceeds the limit of %zu bytes", b->max);
    want = b->len + n + 1;
    if (want > b->cap) {
        ncap = b->cap ? b->cap : 256;
        while (ncap < want)
            ncap *= 2;
        /* Once doubling reaches the limit, room for the limit and its
         * NUL at once: a buffer of exactly the limit, filled, would be
         * copied again for the terminator alone, holding twice the limit
         * (8 MiB for a request refused at the 4 MiB cap). */
        if (ncap >= b->max) /* then b->max + 1 cannot overflow */
            ncap = b->max + 1;
        /* Grow by copy so no stale copy of a secret is left behind. */
        nd = nk_xmalloc(ncap);
        if (b->len > 0)
            memcpy(nd, b->data, b->len);
        nk_freezero(b->data, b->cap);
        b->data = nd;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int nk_buf_appendstr(struct nk_buf *b, const char *s, struct nk_err *err)
{
    return nk_buf_append(b, s, strlen(s), err);
}

int nk_buf_read_fd(struct nk_buf *b, int fd, const char *what,
                   struct nk_err *err)
{
    unsigned char chunk[8192];
    ssize_t n;

    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            nk_memzero(chunk, sizeof(chunk));
            return nk_err_set(err, NK_ERR_GENERIC, "cannot read %s: %s", what,
                              strerror(errno));
        }
        if (n == 0)
            break;
        if (nk_buf_append(b, chunk, (size_t)n, err) != 0) {
            nk_memzero(chunk, sizeof(chunk));
            return nk_err_prefix(err, "%s", what);
        }
    }
    nk_memzero(chunk, sizeof(chunk));
    if (b->data == NULL)
        return nk_buf_append(b, "", 0, err);
    return 0;
}

int nk_buf_read_file(struct nk_buf *b, const char *path, struct nk_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int r;

    if (fd < 0)
        return nk_err_set(err, NK_ERR_VALIDATION, "cannot open \"%s\": %s",
                          path, strerror(errno));
    r = nk_buf_read_fd(b, fd, path, err);
    close(fd);
    return r;
}

unsigned char *nk_buf_take(struct nk_buf *b, size_t *len)
{
    unsigned char *p = b->data;

    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void nk_buf_release(struct nk_buf *b)
{
    nk_freezero(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}
