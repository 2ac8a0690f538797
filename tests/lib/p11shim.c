/* A PKCS#11 module for tests that forwards every call to the module named
 * by NK_SHIM_MODULE and misbehaves on request, to show how the plugin copes
 * with what SoftHSM will not do:
 *   NK_SHIM_FLAGS=0x...     ORed into CK_TOKEN_INFO.flags (PIN locked,
 *                           final try, protected authentication path)
 *   NK_SHIM_PAD_PIN=PIN     a NULL PIN logs in with PIN (a PIN pad)
 *   NK_SHIM_CORRUPT_SIG=1   flips one bit of every signature
 *   NK_SHIM_SIG_LEN=N       C_Sign zeroes the buffer it was given and
 *                           reports an N-byte signature (strtoul: -1 is
 *                           (CK_ULONG)-1), whatever the buffer's size; zero
 *                           bytes keep a reader that trusts N going
 *   NK_SHIM_CHATTY=1        writes to stdout when loaded and when signing
 * Built by p11shim_build in tests/lib/softhsm.sh. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit-1/p11-kit/pkcs11.h>

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;

static int on(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static CK_RV token_info(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
    CK_RV rv = real->C_GetTokenInfo(id, info);
    const char *f = getenv("NK_SHIM_FLAGS");

    if (rv == CKR_OK && f != NULL)
        info->flags |= strtoul(f, NULL, 0);
    return rv;
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE t, CK_UTF8CHAR_PTR pin,
                   CK_ULONG len)
{
    const char *p = getenv("NK_SHIM_PAD_PIN");

    if (pin == NULL && p != NULL)
        return real->C_Login(s, t, (CK_UTF8CHAR_PTR)p, strlen(p));
    return real->C_Login(s, t, pin, len);
}

static CK_RV sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG n,
                  CK_BYTE_PTR sig, CK_ULONG_PTR len)
{
    const char *fake = getenv("NK_SHIM_SIG_LEN");
    CK_ULONG cap = len != NULL ? *len : 0;
    CK_RV rv;

    if (on("NK_SHIM_CHATTY")) {
        printf("chatty module: signing %lu bytes\n", (unsigned long)n);
        fflush(stdout);
    }
    rv = real->C_Sign(s, d, n, sig, len);
    if (rv == CKR_OK && sig != NULL && *len > 0 && on("NK_SHIM_CORRUPT_SIG"))
        sig[*len / 3] ^= 0x01;
    if (rv == CKR_OK && sig != NULL && fake != NULL) {
        memset(sig, 0, cap);
        *len = strtoul(fake, NULL, 0);
    }
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR pp)
{
    CK_C_GetFunctionList get;
    void *h = dlopen(getenv("NK_SHIM_MODULE"), RTLD_NOW | RTLD_LOCAL);

    if (on("NK_SHIM_CHATTY"))
        (void)!write(1, "chatty module loaded\n", 21);
    if (h == NULL)
        return CKR_GENERAL_ERROR;
    *(void **)&get = dlsym(h, "C_GetFunctionList");
    if (get == NULL || get(&real) != CKR_OK)
        return CKR_GENERAL_ERROR;
    shim = *real;
    shim.C_GetTokenInfo = token_info;
    shim.C_Login = login;
    shim.C_Sign = sign;
    *pp = &shim;
    return CKR_OK;
}
