/* Helpers shared by the harnesses, and the guard that keeps them off the
 * network: the only way to the network is libcurl, which http.c loads
 * with dlopen; the harnesses link with -Wl,--wrap=dlopen, so that call
 * lands here and stops the run. They link with
 * -Wl,--wrap=nk_buf_read_file too, so that a harness whose input names
 * files (fx_files) serves them from memory. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "common.h"
#include "common/buf.h"

void *__real_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode);
int __real_nk_buf_read_file(struct nk_buf *b, const char *path,
                            struct nk_err *err);
int __wrap_nk_buf_read_file(struct nk_buf *b, const char *path,
                            struct nk_err *err);

static struct {
    int on;
    const uint8_t *data;
    size_t n;
} files;

void *__wrap_dlopen(const char *file, int mode)
{
    if (file != NULL && strstr(file, "libcurl") != NULL) {
        fprintf(stderr, "fuzz harness reached the HTTP layer (%s)\n", file);
        abort();
    }
    return __real_dlopen(file, mode);
}

void fx_files(const uint8_t *data, size_t n)
{
    files.on = data != NULL;
    files.data = data;
    files.n = n;
}

/* As nk_buf_read_file reads a file: appended up to the buffer's cap,
 * the buffer NUL-terminated even when empty. */
int __wrap_nk_buf_read_file(struct nk_buf *b, const char *path,
                            struct nk_err *err)
{
    if (!files.on)
        return __real_nk_buf_read_file(b, path, err);
    if (nk_buf_append(b, files.data, files.n, err) != 0)
        return nk_err_prefix(err, "%s", path);
    return b->data == NULL ? nk_buf_append(b, "", 0, err) : 0;
}

X509 *fx_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (x == NULL) {
        fprintf(stderr, "fixture certificate does not load\n");
        abort();
    }
    return x;
}

EVP_PKEY *fx_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k =
        b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (k == NULL) {
        fprintf(stderr, "fixture key does not load\n");
        abort();
    }
    return k;
}

void fx_resp(struct nk_http_resp *r, long status, const uint8_t *body, size_t n)
{
    struct nk_err err = {0};

    memset(r, 0, sizeof(*r));
    r->status = status;
    r->retry_after = -1;
    nk_buf_init(&r->body, n + 1);
    if (nk_buf_append(&r->body, body, n, &err) != 0)
        abort();
}

char *fx_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fx_note(const char *fmt, ...)
{
    static int on = -1;
    va_list ap;

    if (on < 0)
        on = getenv("NK_FUZZ_DEBUG") != NULL;
    if (!on)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
