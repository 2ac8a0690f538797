/* libFuzzer: certificate loading (PEM or DER) and notation's chain rules on
 * whatever loads, the way signing uses them: the rules on the bundle as
 * given, then chain assembly from the first certificate and the rules on
 * the assembled chain, and the expiry check of verify. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common.h"
#include "common/certs.h"
#include "verify/chain.h"
#include "verify/verify.h"

#define AT 1700000000 /* 2023-11-14 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *sk = NULL, *chain = NULL;
    struct nk_err err = {0};
    struct nk_verdict v;

    if (nk_certs_load_mem(data, size, "fuzz", &sk, &err) == 0) {
        (void)nk_chain_check_codesigning(sk, AT, &err);
        if (nk_chain_build(sk_X509_value(sk, 0), sk, &chain, &err) == 0) {
            (void)nk_chain_check_built(chain, AT, &err);
            nk_expiry_check(chain, 0, AT, &v);
            sk_X509_pop_free(chain, X509_free);
        }
        free(nk_cert_name(sk_X509_value(sk, 0)));
    }
    sk_X509_pop_free(sk, X509_free);
    return 0;
}
