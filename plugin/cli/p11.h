/* The PKCS#11 pieces the companion commands need and pkcs11/ does not
 * offer yet: listing tokens, slots and keys, and writing a certificate
 * object beside a key. They talk to the module's function list directly
 * and belong in pkcs11/ (see the report of issue 6). */
#ifndef NK_CLI_P11_H
#define NK_CLI_P11_H

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"

/* Writes cert as a CKO_CERTIFICATE on the key's token, with the key's
 * CKA_ID and CKA_LABEL (replacing a certificate with the same CKA_ID). */
int nk_cli_p11_store_cert(const char *key_id, const struct nk_config *cfg,
                          X509 *cert, struct nk_err *err) NK_MUST_CHECK;

/* Lists every slot and token of the module and the keys on each token
 * (private keys after login when a PIN is configured, else public keys
 * and certificates) as {"module":..., "slots":[...]}. The PIN is tried
 * only on the token labelled token, or on the only initialized token. */
int nk_cli_p11_list(const char *module, const char *token,
                    const struct nk_config *cfg, cJSON **out,
                    struct nk_err *err) NK_MUST_CHECK;

#endif
