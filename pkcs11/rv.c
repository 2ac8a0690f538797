/* CK_RV, mechanism and attribute names, and how token errors become
 * notation error codes (the only place that decides this). */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>
#include <libp11.h>

#include "ck.h"

struct name_row {
    unsigned long v;
    const char *name;
};

#define ROW(x)                                                                 \
    {                                                                          \
        x, #x                                                                  \
    }

static const struct name_row rv_names[] = {
    ROW(CKR_OK),
    ROW(CKR_CANCEL),
    ROW(CKR_HOST_MEMORY),
    ROW(CKR_SLOT_ID_INVALID),
    ROW(CKR_GENERAL_ERROR),
    ROW(CKR_FUNCTION_FAILED),
    ROW(CKR_ARGUMENTS_BAD),
    ROW(CKR_NO_EVENT),
    ROW(CKR_NEED_TO_CREATE_THREADS),
    ROW(CKR_CANT_LOCK),
    ROW(CKR_ATTRIBUTE_READ_ONLY),
    ROW(CKR_ATTRIBUTE_SENSITIVE),
    ROW(CKR_ATTRIBUTE_TYPE_INVALID),
    ROW(CKR_ATTRIBUTE_VALUE_INVALID),
    ROW(CKR_ACTION_PROHIBITED),
    ROW(CKR_DATA_INVALID),
    ROW(CKR_DATA_LEN_RANGE),
    ROW(CKR_DEVICE_ERROR),
    ROW(CKR_DEVICE_MEMORY),
    ROW(CKR_DEVICE_REMOVED),
    ROW(CKR_ENCRYPTED_DATA_INVALID),
    ROW(CKR_ENCRYPTED_DATA_LEN_RANGE),
    ROW(CKR_FUNCTION_CANCELED),
    ROW(CKR_FUNCTION_NOT_PARALLEL),
    ROW(CKR_FUNCTION_NOT_SUPPORTED),
    ROW(CKR_KEY_HANDLE_INVALID),
    ROW(CKR_KEY_SIZE_RANGE),
    ROW(CKR_KEY_TYPE_INCONSISTENT),
    ROW(CKR_KEY_NOT_NEEDED),
    ROW(CKR_KEY_CHANGED),
    ROW(CKR_KEY_NEEDED),
    ROW(CKR_KEY_INDIGESTIBLE),
    ROW(CKR_KEY_FUNCTION_NOT_PERMITTED),
    ROW(CKR_KEY_NOT_WRAPPABLE),
    ROW(CKR_KEY_UNEXTRACTABLE),
    ROW(CKR_MECHANISM_INVALID),
    ROW(CKR_MECHANISM_PARAM_INVALID),
    ROW(CKR_OBJECT_HANDLE_INVALID),
    ROW(CKR_OPERATION_ACTIVE),
    ROW(CKR_OPERATION_NOT_INITIALIZED),
    ROW(CKR_PIN_INCORRECT),
    ROW(CKR_PIN_INVALID),
    ROW(CKR_PIN_LEN_RANGE),
    ROW(CKR_PIN_EXPIRED),
    ROW(CKR_PIN_LOCKED),
    ROW(CKR_SESSION_CLOSED),
    ROW(CKR_SESSION_COUNT),
    ROW(CKR_SESSION_HANDLE_INVALID),
    ROW(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    ROW(CKR_SESSION_READ_ONLY),
    ROW(CKR_SESSION_EXISTS),
    ROW(CKR_SESSION_READ_ONLY_EXISTS),
    ROW(CKR_SESSION_READ_WRITE_SO_EXISTS),
    ROW(CKR_SIGNATURE_INVALID),
    ROW(CKR_SIGNATURE_LEN_RANGE),
    ROW(CKR_TEMPLATE_INCOMPLETE),
    ROW(CKR_TEMPLATE_INCONSISTENT),
    ROW(CKR_TOKEN_NOT_PRESENT),
    ROW(CKR_TOKEN_NOT_RECOGNIZED),
    ROW(CKR_TOKEN_WRITE_PROTECTED),
    ROW(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
    ROW(CKR_UNWRAPPING_KEY_SIZE_RANGE),
    ROW(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
    ROW(CKR_USER_ALREADY_LOGGED_IN),
    ROW(CKR_USER_NOT_LOGGED_IN),
    ROW(CKR_USER_PIN_NOT_INITIALIZED),
    ROW(CKR_USER_TYPE_INVALID),
    ROW(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    ROW(CKR_USER_TOO_MANY_TYPES),
    ROW(CKR_WRAPPED_KEY_INVALID),
    ROW(CKR_WRAPPED_KEY_LEN_RANGE),
    ROW(CKR_WRAPPING_KEY_HANDLE_INVALID),
    ROW(CKR_WRAPPING_KEY_SIZE_RANGE),
    ROW(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
    ROW(CKR_RANDOM_SEED_NOT_SUPPORTED),
    ROW(CKR_RANDOM_NO_RNG),
    ROW(CKR_DOMAIN_PARAMS_INVALID),
    ROW(CKR_CURVE_NOT_SUPPORTED),
    ROW(CKR_BUFFER_TOO_SMALL),
    ROW(CKR_SAVED_STATE_INVALID),
    ROW(CKR_INFORMATION_SENSITIVE),
    ROW(CKR_STATE_UNSAVEABLE),
    ROW(CKR_CRYPTOKI_NOT_INITIALIZED),
    ROW(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    ROW(CKR_MUTEX_BAD),
    ROW(CKR_MUTEX_NOT_LOCKED),
    ROW(CKR_NEW_PIN_MODE),
    ROW(CKR_NEXT_OTP),
    ROW(CKR_EXCEEDED_MAX_ITERATIONS),
    ROW(CKR_FIPS_SELF_TEST_FAILED),
    ROW(CKR_LIBRARY_LOAD_FAILED),
    ROW(CKR_PIN_TOO_WEAK),
    ROW(CKR_PUBLIC_KEY_INVALID),
    ROW(CKR_FUNCTION_REJECTED),
};

static const struct name_row mech_names[] = {
    ROW(CKM_RSA_PKCS),
    ROW(CKM_RSA_X_509),
    ROW(CKM_RSA_PKCS_PSS),
    ROW(CKM_SHA256_RSA_PKCS),
    ROW(CKM_SHA384_RSA_PKCS),
    ROW(CKM_SHA512_RSA_PKCS),
    ROW(CKM_SHA256_RSA_PKCS_PSS),
    ROW(CKM_SHA384_RSA_PKCS_PSS),
    ROW(CKM_SHA512_RSA_PKCS_PSS),
    ROW(CKM_ECDSA),
    ROW(CKM_ECDSA_SHA1),
};

static const struct name_row attr_names[] = {
    ROW(CKA_CLASS),
    ROW(CKA_LABEL),
    ROW(CKA_VALUE),
    ROW(CKA_KEY_TYPE),
    ROW(CKA_ID),
    ROW(CKA_MODULUS),
    ROW(CKA_PUBLIC_EXPONENT),
    ROW(CKA_EC_PARAMS),
    ROW(CKA_EC_POINT),
    ROW(CKA_ALWAYS_AUTHENTICATE),
};

#undef ROW

static const char *lookup(const struct name_row *rows, size_t n,
                          unsigned long v, const char *prefix)
{
    static char buf[48];
    size_t i;

    for (i = 0; i < n; i++)
        if (rows[i].v == v)
            return rows[i].name;
    snprintf(buf, sizeof(buf), "%s0x%lx", prefix, v);
    return buf;
}

const char *nk_p11_rv_name(CK_RV rv)
{
    return lookup(rv_names, sizeof(rv_names) / sizeof(rv_names[0]), rv, "CKR_");
}

const char *nk_p11_mech_name(CK_MECHANISM_TYPE m)
{
    return lookup(mech_names, sizeof(mech_names) / sizeof(mech_names[0]), m,
                  "CKM_");
}

const char *nk_p11_attr_name(CK_ATTRIBUTE_TYPE a)
{
    return lookup(attr_names, sizeof(attr_names) / sizeof(attr_names[0]), a,
                  "CKA_");
}

enum nk_errcode nk_p11_rv_code(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_USER_PIN_NOT_INITIALIZED:
    case CKR_USER_TYPE_INVALID:
    case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
    case CKR_USER_TOO_MANY_TYPES:
    case CKR_FUNCTION_CANCELED: /* PIN entry cancelled on a PIN pad */
    case CKR_FUNCTION_REJECTED: /* the user declined the signature */
        return NK_ERR_ACCESS;
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_SIZE_RANGE:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_DATA_LEN_RANGE:
    case CKR_DATA_INVALID:
    case CKR_TOKEN_NOT_RECOGNIZED:
        return NK_ERR_VALIDATION;
    default:
        /* Also CKR_SLOT_ID_INVALID: slot ids come from the module's own
         * C_GetSlotList, never from the request, so the slot went away. */
        return NK_ERR_GENERIC;
    }
}

int nk_p11_rv_err(struct nk_err *err, CK_RV rv, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nk_err_set(err, nk_p11_rv_code(rv), "%s: %s", msg,
                      nk_p11_rv_name(rv));
}

CK_RV nk_p11_libp11_rv(void)
{
    int lib = ERR_get_CKR_code();
    unsigned long e;
    CK_RV rv = CKR_GENERAL_ERROR;

    for (;;) {
        e = ERR_get_error();
        if (e == 0)
            break;
        if (lib != 0 && ERR_GET_LIB(e) == lib)
            rv = (CK_RV)ERR_GET_REASON(e);
    }
    return rv;
}
