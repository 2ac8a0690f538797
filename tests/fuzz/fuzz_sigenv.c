/* libFuzzer: the strict envelope parser of the offline verify (JWS JSON
 * and COSE_Sign1; a leading '{' picks JWS), then what verify does with a
 * parsed envelope: the leaf key's spec, the signature over the signing
 * input, the payload rules and the chain rules at the signing time. */
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "common/keyspec.h"
#include "common/sigcheck.h"
#include "envelope/payload.h"
#include "envelope/sigenv.h"
#include "verify/chain.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_sigenv e;
    struct nk_err err = {0};
    enum nk_keyspec spec;
    unsigned char digest[64];
    size_t dlen;
    EVP_PKEY *pub;

    if (nk_sigenv_parse(data, size, &e, &err) == 0) {
        pub = X509_get0_pubkey(sk_X509_value(e.chain, 0));
        if (pub != NULL && nk_keyspec_of_pkey(pub, &spec, &err) == 0) {
            dlen =
                nk_hash_digest(nk_keyspec_hash(spec), e.tbs, e.tbs_len, digest);
            (void)nk_sig_check(pub, spec, digest, dlen, e.sig, e.sig_len, &err);
        }
        (void)nk_payload_check(e.payload, e.payload_len, &err);
        (void)nk_chain_check_codesigning(e.chain, e.signing_time, &err);
        fx_note("%s envelope, %d certificates, timestamp %zu bytes: %s",
                e.cose ? "COSE" : "JWS", sk_X509_num(e.chain), e.tst_len,
                err.code != NK_ERR_NONE ? err.msg : "ok");
    } else {
        fx_note("refused: %s", err.msg);
    }
    nk_sigenv_release(&e);
    return 0;
}
