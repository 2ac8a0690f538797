/* JWS (application/jose+json): notation's flattened JSON serialization. */
#ifndef NK_JWS_H
#define NK_JWS_H

#include <stddef.h>

#include "attrs.h"
#include "common/err.h"

#define NK_JWS_TYPE "application/jose+json"

/* Encodes the protected header (compact JSON, keys sorted as notation
 * does) into e->prot_enc as base64url, and the signing input
 * BASE64URL(protected) "." BASE64URL(payload) into e->tbs. */
int nk_jws_tbs(struct nk_envelope *e, struct nk_err *err) NK_MUST_CHECK;

/* The envelope {"payload","protected","header","signature"} from e (after
 * nk_jws_tbs and with e->sig set); *out is malloc'd JSON text. */
int nk_jws_build(const struct nk_envelope *e, unsigned char **out,
                 size_t *outlen, struct nk_err *err) NK_MUST_CHECK;

#endif
