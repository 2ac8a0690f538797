/* libFuzzer: the strict envelope parser of the offline verify (JWS JSON
 * and COSE_Sign1), then the checks that read the parsed envelope. */
#include <stddef.h>
#include <stdint.h>

#include "envelope/sigenv.h"
#include "common/keyspec.h"
#include "verify/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    enum nk_keyspec spec;
    EVP_PKEY *pub;

    if (nk_sigenv_parse(data, size, &e, &err) == 0) {
        /* what verify does next with a parsed envelope */
        pub = X509_get0_pubkey(sk_X509_value(e.chain, 0));
        if (pub != NULL && nk_keyspec_of_pkey(pub, &spec, &err) == 0)
            (void)nk_chain_check_codesigning(e.chain, e.signing_time, &err);
    }
    nk_sigenv_release(&e);
    return 0;
}
