/* COSE (application/cose): COSE_Sign1_Tagged as notation reads it. */
#ifndef NK_COSE_H
#define NK_COSE_H

#include <stddef.h>

#include "attrs.h"
#include "common/err.h"

#define NK_COSE_TYPE "application/cose"

/* Encodes the protected header map into e->prot_enc and the Sig_structure
 * ["Signature1", protected, h'', payload] into e->tbs (deterministic
 * CBOR: smallest integer forms, map keys in encoded byte order). */
int nk_cose_tbs(struct nk_envelope *e, struct nk_err *err) NK_MUST_CHECK;

/* 18([protected, unprotected, payload, signature]) from e (after
 * nk_cose_tbs and with e->sig set); *out is malloc'd. */
int nk_cose_build(const struct nk_envelope *e, unsigned char **out,
                  size_t *outlen, struct nk_err *err) NK_MUST_CHECK;

#endif
