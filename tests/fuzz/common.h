/* Helpers shared by the libFuzzer harnesses (linked into each one with
 * -Wl,--wrap=dlopen,--wrap=nk_buf_read_file; see common.c). */
#ifndef NK_FUZZ_COMMON_H
#define NK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A certificate or private key from a fixture PEM; aborts when it does
 * not load (a broken fixtures.h must not look like a clean run). */
X509 *fx_cert(const char *pem);
EVP_PKEY *fx_key(const char *pem);

/* An HTTP answer as plugin/common/http.c hands it over: status, and the
 * body in a capped buffer that is always NUL-terminated. */
void fx_resp(struct nk_http_resp *r, long status, const uint8_t *body,
             size_t n);

/* With NK_FUZZ_DEBUG set, prints what became of an input to stderr (to
 * see which paths a seed reaches: NK_FUZZ_DEBUG=1 fuzz_x -runs=0 DIR). */
void fx_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A malloc'd NUL-terminated copy of the input (NUL bytes kept inside). */
char *fx_str(const uint8_t *data, size_t size);

/* From now on every file the code under test reads (nk_buf_read_file)
 * holds the n bytes at data instead, whatever its name: a path taken from
 * the input never reaches the file system. fx_files(NULL, 0) gives the
 * real files back. data must stay valid until then. */
void fx_files(const uint8_t *data, size_t n);

#endif
