/* libFuzzer: the RFC 7512 pkcs11: URI parser and the key rules. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_p11_uri *u = NULL;
    struct nk_err err = {0};
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (nk_p11_uri_parse(s, &u, &err) == 0) {
        (void)nk_p11_uri_check_key(u, &err);
        free(nk_p11_uri_describe(u));
    }
    nk_p11_uri_free(u);
    free(s);
    return 0;
}
