/* libFuzzer: distinguished names. The input is read three ways: as an
 * RFC 4514 string (nk_dn_parse, compared with the fixed leaf's subject),
 * as trust policy identities one per line (nk_identity_check against the
 * leaf), and as a DER X.509 name (nk_dn_from_name). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fixtures.h"
#include "verify/dn.h"
#include "verify/verify.h"

#define MAX_IDS 16

static X509 *leaf;
static struct nk_dn leaf_dn;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct nk_err err = {0};

    (void)argc;
    (void)argv;
    leaf = fx_cert(FX_LEAF_PEM);
    if (nk_dn_from_name(X509_get_subject_name(leaf), &leaf_dn, &err) != 0)
        abort();
    return 0;
}

static void identities(char *s)
{
    const char *ids[MAX_IDS];
    struct nk_verdict v;
    size_t n = 0;
    char *nl;

    while (n < MAX_IDS) {
        ids[n++] = s;
        nl = strchr(s, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    nk_identity_check(leaf, ids, n, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_dn dn = {0}, name_dn = {0};
    struct nk_err err = {0};
    const unsigned char *p = data;
    X509_NAME *name;
    char *s = fx_str(data, size);

    if (nk_dn_parse(s, &dn, &err) == 0)
        (void)nk_dn_is_subset(&dn, &leaf_dn);
    nk_dn_release(&dn);
    identities(s);
    free(s);
    name = d2i_X509_NAME(NULL, &p, (long)size);
    if (name != NULL && nk_dn_from_name(name, &name_dn, &err) == 0)
        (void)nk_dn_is_subset(&leaf_dn, &name_dn);
    nk_dn_release(&name_dn);
    X509_NAME_free(name);
    return 0;
}
