/* libFuzzer: a timestamp authority's reply (DER TimeStampResp) to the
 * fixed request of fixtures.h, through every check of tsa_check.c against
 * the fixed TSA root. */
#include <stdlib.h>

#include <openssl/ts.h>

#include "common.h"
#include "envelope/tsa.h"
#include "fixtures.h"

static TS_REQ *req;
static X509 *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const unsigned char *p = FX_TSA_REQ;

    (void)argc;
    (void)argv;
    req = d2i_TS_REQ(NULL, &p, (long)sizeof(FX_TSA_REQ));
    root = fx_cert(FX_TSA_ROOT_PEM);
    if (req == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_err err = {0};
    unsigned char *tst = NULL;
    size_t n;

    if (nk_tsa_check(req, root, data, size, &tst, &n, &err) == 0)
        fx_note("accepted: token of %zu bytes", n);
    else
        fx_note("%s", err.msg);
    free(tst);
    return 0;
}
