/* The PKCS#11 C types (from p11-kit's public-domain pkcs11.h, a header-only
 * dependency) and our helpers around CK_RV: names and errorCode mapping. */
#ifndef NK_P11_CK_H
#define NK_P11_CK_H

#include <p11-kit-1/p11-kit/pkcs11.h>

#include "err.h"

/* "CKR_PIN_INCORRECT" ...; "CKR_0x..." style text for unknown values is
 * written into a static buffer (single-threaded process). */
const char *nk_p11_rv_name(CK_RV rv);
/* "CKM_RSA_PKCS_PSS" ...; same convention. */
const char *nk_p11_mech_name(CK_MECHANISM_TYPE m);
/* "CKA_LABEL" ... for the attributes the plugin reads; same convention. */
const char *nk_p11_attr_name(CK_ATTRIBUTE_TYPE a);

/* The notation errorCode for a CK_RV: PIN and login problems and a user
 * who cancels or rejects the operation give ACCESS_DENIED, a key,
 * mechanism or data the token refuses for this use gives VALIDATION_ERROR,
 * device and everything else (a vanished slot too) ERROR. */
enum nk_errcode nk_p11_rv_code(CK_RV rv);

/* nk_err_set with nk_p11_rv_code(rv), appending ": CKR_NAME". */
int nk_p11_rv_err(struct nk_err *err, CK_RV rv, const char *fmt, ...)
    NK_PRINTF(3, 4);

/* The CK_RV libp11 recorded for its last failed call (it puts CKR codes on
 * the OpenSSL error queue as reasons of its "PKCS#11 module" library), or
 * CKR_GENERAL_ERROR when there is none. Clears the queue. */
CK_RV nk_p11_libp11_rv(void);

#endif
