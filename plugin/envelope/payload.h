/* Checking the notary payload notation asks us to sign. */
#ifndef NK_PAYLOAD_H
#define NK_PAYLOAD_H

#include <stddef.h>

#include "common/err.h"

/* 0 when p is a notary payload notation will accept back:
 * {"targetArtifact":{"mediaType":..,"digest":..,"size":..}} with optional
 * urls, annotations, data, platform and artifactType, no other member and
 * no duplicate. VALIDATION_ERROR naming the first problem otherwise. The
 * bytes are only read: the envelope carries them unchanged. */
int nk_payload_check(const unsigned char *p, size_t n,
                     struct nk_err *err) NK_MUST_CHECK;

#endif
