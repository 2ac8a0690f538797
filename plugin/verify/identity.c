/* Trusted identity: the trust policy's identities against the leaf
 * certificate subject, as notation-go's verifyX509TrustedIdentities does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/chain.h"
#include "verify/dn.h"
#include "verify/verify.h"

#define X509_SUBJECT_PREFIX "x509.subject:"

static void fail(struct nk_verdict *v, const char *msg)
{
    v->success = 0;
    snprintf(v->reason, sizeof(v->reason), "%s", msg);
}

/* The DN after "x509.subject:", or NULL for other identity kinds. */
static const char *subject_dn(const char *id)
{
    size_t n = strlen(X509_SUBJECT_PREFIX);

    if (strncmp(id, X509_SUBJECT_PREFIX, n) != 0)
        return NULL;
    id += n;
    while (*id == ' ')
        id++;
    return id;
}

/* Parses every x509.subject identity; counts them in *usable. A malformed
 * one fails the whole check, as notation rejects such a policy. */
static int match_subjects(const struct nk_dn *leaf, const char *const *ids,
                          size_t n, size_t *usable, const char **hit,
                          struct nk_verdict *v)
{
    struct nk_err err = {0};
    struct nk_dn want;
    char msg[800];
    const char *dn;
    size_t i;

    for (i = 0; i < n; i++) {
        dn = ids[i] != NULL ? subject_dn(ids[i]) : NULL;
        if (dn == NULL)
            continue;
        (*usable)++;
        if (nk_dn_parse(dn, &want, &err) != 0) {
            snprintf(msg, sizeof(msg),
                     "trusted identity \"%s\" is malformed: %s; fix the "
                     "trust policy",
                     ids[i], err.msg);
            fail(v, msg);
            return -1;
        }
        if (*hit == NULL && nk_dn_is_subset(&want, leaf))
            *hit = ids[i];
        nk_dn_release(&want);
    }
    return 0;
}

static int has_wildcard(const char *const *ids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (ids[i] != NULL && strcmp(ids[i], "*") == 0)
            return 1;
    return 0;
}

void nk_identity_check(X509 *leaf, const char *const *ids, size_t n,
                       struct nk_verdict *v)
{
    struct nk_err err = {0};
    struct nk_dn subj = {0};
    const char *hit = NULL;
    size_t usable = 0;
    char *name = nk_cert_name(leaf);
    char msg[900];

    v->success = 0;
    if (has_wildcard(ids, n)) {
        v->success = 1;
        snprintf(v->reason, sizeof(v->reason),
                 "trusted identity \"*\" accepts any signer (\"%s\")",
                 name ? name : "?");
        goto out;
    }
    if (nk_dn_from_name(X509_get_subject_name(leaf), &subj, &err) != 0) {
        snprintf(msg, sizeof(msg),
                 "leaf certificate subject \"%s\" cannot be matched: %s",
                 name ? name : "?", err.msg);
        fail(v, msg);
        goto out;
    }
    if (match_subjects(&subj, ids, n, &usable, &hit, v) != 0)
        goto out;
    if (usable == 0) {
        fail(v, "the trust policy has no trusted identity this plugin "
                "understands; use \"*\" or \"x509.subject: C=..., ST=..., "
                "O=...\"");
    } else if (hit == NULL) {
        snprintf(msg, sizeof(msg),
                 "leaf certificate subject \"%s\" matches none of the %zu "
                 "x509.subject trusted identities; add it to the trust "
                 "policy if this signer is trusted",
                 name ? name : "?", usable);
        fail(v, msg);
    } else {
        v->success = 1;
        snprintf(v->reason, sizeof(v->reason),
                 "leaf certificate subject \"%s\" matches trusted identity "
                 "\"%s\"",
                 name ? name : "?", hit);
    }
out:
    nk_dn_release(&subj);
    free(name);
}
