/* A growable byte buffer with a hard size cap. Always NUL-terminated so a
 * text body can be used as a C string. Wiped on release. */
#ifndef NK_BUF_H
#define NK_BUF_H

#include <stddef.h>

#include "err.h"

struct nk_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t max; /* appending past this many bytes fails */
};

void nk_buf_init(struct nk_buf *b, size_t max);
/* Appends n bytes; VALIDATION_ERROR "... exceeds N bytes" past the cap. */
int nk_buf_append(struct nk_buf *b, const void *p, size_t n,
                  struct nk_err *err) NK_MUST_CHECK;
int nk_buf_appendstr(struct nk_buf *b, const char *s,
                     struct nk_err *err) NK_MUST_CHECK;
/* Reads fd to EOF (retrying EINTR). what names the input in errors. */
int nk_buf_read_fd(struct nk_buf *b, int fd, const char *what,
                   struct nk_err *err) NK_MUST_CHECK;
/* Reads a whole file, capped at b->max. */
int nk_buf_read_file(struct nk_buf *b, const char *path,
                     struct nk_err *err) NK_MUST_CHECK;
/* Hands the data to the caller (who frees it) and empties b. */
unsigned char *nk_buf_take(struct nk_buf *b, size_t *len);
/* Wipes and frees; the buffer may be reused after nk_buf_init. */
void nk_buf_release(struct nk_buf *b);

#endif
