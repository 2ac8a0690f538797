/* The envelope being built, and every header decision about it: which
 * protected attributes it carries, which are critical and in what order.
 * JWS (jws.c) and COSE (cose.c) only encode what nk_attrs_decide chose, so
 * the two formats cannot drift apart. */
#ifndef NK_ATTRS_H
#define NK_ATTRS_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/keyspec.h"

/* The content type of the one payload notation signs. */
#define NK_PAYLOAD_TYPE "application/vnd.cncf.notary.payload.v1+json"

/* Header names (notation signature specification). */
#define NK_HDR_SCHEME "io.cncf.notary.signingScheme"
#define NK_HDR_TIME "io.cncf.notary.signingTime"
#define NK_HDR_EXPIRY "io.cncf.notary.expiry"
#define NK_HDR_VPLUGIN "io.cncf.notary.verificationPlugin"
#define NK_HDR_VPLUGIN_MIN "io.cncf.notary.verificationPluginMinVersion"
#define NK_HDR_AGENT "io.cncf.notary.signingAgent"
#define NK_HDR_TIMESTAMP "io.cncf.notary.timestampSignature"

/* The verification plugin named in signatures: our metadata "name". */
#define NK_VERIFIER_NAME "keystore"

/* The oldest notation-keystore whose verify-signature can check what this
 * version signs. notation refuses to verify with an installed plugin older
 * than this. 0.1.0 is the first release with a verifier, and these
 * envelopes use nothing it lacks (notary.x509, the two verification-plugin
 * attributes, optional expiry and RFC 3161 timestamp). Raise it only when
 * envelopes start to depend on a newer verifier (a new critical attribute,
 * say); never to NK_VERSION automatically, which would force every
 * verifier to upgrade on every release. */
#define NK_VERIFIER_MIN_VERSION "0.1.0"

/* Most protected attributes any envelope carries beyond alg/crit/cty. */
#define NK_ATTRS_MAX 6

enum nk_attr_type {
    NK_ATTR_TEXT, /* JSON string / CBOR text */
    NK_ATTR_TIME  /* JWS RFC 3339 string / COSE tag 1 epoch integer */
};

struct nk_attr {
    const char *name;
    enum nk_attr_type type;
    const char *text; /* NK_ATTR_TEXT */
    long long time;   /* NK_ATTR_TIME, whole seconds since the epoch */
    int critical;
};

/* One envelope: decisions (nk_attrs_decide), inputs (borrowed) and the
 * pieces produced while signing (owned, freed by nk_attrs_release). */
struct nk_envelope {
    enum nk_keyspec spec;
    struct nk_attr prot[NK_ATTRS_MAX]; /* protected, in header order */
    size_t n_prot;
    const char *crit[NK_ATTRS_MAX]; /* crit list, in notation's order */
    size_t n_crit;
    const char *agent; /* io.cncf.notary.signingAgent (unprotected) */

    const unsigned char *payload; /* the notary payload, as received */
    size_t payload_len;
    STACK_OF(X509) * chain; /* leaf first, ending in the root */

    unsigned char *prot_enc; /* encoded protected header */
    size_t prot_len;
    unsigned char *tbs; /* the bytes the key signs */
    size_t tbs_len;
    unsigned char *sig; /* raw signature: PSS or ECDSA r||s */
    size_t sig_len;
    unsigned char *tst; /* DER TimeStampToken, or NULL */
    size_t tst_len;
};

/* Fills the decisions: scheme notary.x509 (critical), signing time now
 * (whole seconds), expiry now + expiry_secs when expiry_secs > 0
 * (critical), and when vplugin is set the two verification-plugin
 * attributes (critical). Clears every other member. */
void nk_attrs_decide(struct nk_envelope *e, enum nk_keyspec spec, time_t now,
                     long long expiry_secs, int vplugin);

/* The protected attribute called name, or NULL. */
const struct nk_attr *nk_attrs_find(const struct nk_envelope *e,
                                    const char *name);

/* RFC 3339 UTC time "2026-11-23T19:20:00Z" into buf (at least 32 bytes). */
void nk_attrs_rfc3339(long long t, char *buf, size_t n);

/* Frees what signing produced; the decisions and inputs stay. */
void nk_attrs_release(struct nk_envelope *e);

#endif
