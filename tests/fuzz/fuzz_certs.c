/* libFuzzer: certificate loading (PEM or DER) and notation's chain rules
 * on whatever loads. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/certs.h"
#include "verify/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *sk = NULL, *chain = NULL;
    struct nk_err err = {0};

    if (nk_certs_load_mem(data, size, "fuzz", &sk, &err) == 0) {
        (void)nk_chain_check_codesigning(sk, 1700000000, &err);
        if (nk_chain_build(sk_X509_value(sk, 0), sk, &chain, &err) == 0)
            sk_X509_pop_free(chain, X509_free);
        free(nk_cert_name(sk_X509_value(sk, 0)));
    }
    sk_X509_pop_free(sk, X509_free);
    return 0;
}
