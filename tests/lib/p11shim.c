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
 *   NK_SHIM_SCAN_PIN=PIN    at each C_Sign, before forwarding it, searches
 *   NK_SHIM_SCAN_OUT=FILE   this process's writable private memory (heap,
 *                           stack, anonymous maps, data of loaded objects)
 *                           for the PIN's bytes, except as the value of an
 *                           environment entry NK_SHIM_SCAN_PIN= or
 *                           NOTATION_KEYSTORE_PIN=, and appends
 *                           "PIN ABSENT" or "PIN FOUND <n>: <where>" to FILE
 * Built by p11shim_build in tests/lib/softhsm.sh. */
#include <dlfcn.h>
#include <fcntl.h>
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

/* Nonzero when the bytes before p (at least lo) end with the environment
 * entry prefix "NAME=": the environment, or the copy a sanitizer runtime
 * keeps of it, holds the PIN as the caller gave it. */
static int after(const volatile unsigned char *p,
                 const volatile unsigned char *lo, const char *name)
{
    size_t n = strlen(name), i;

    if ((size_t)(p - lo) < n)
        return 0;
    for (i = 0; i < n && p[(long)i - (long)n] == (unsigned char)name[i]; i++)
        ;
    return i == n;
}

/* Occurrences of pin in [lo, end) that are not an environment entry.
 * Plain loops over volatile bytes: no library call (which a sanitizer
 * would intercept and check) ever sees this memory. */
static size_t count_in(const volatile unsigned char *lo,
                       const volatile unsigned char *end, const char *pin,
                       size_t n)
{
    const volatile unsigned char *p;
    size_t found = 0, i;

    for (p = lo; p + n <= end; p++) {
        for (i = 0; i < n && p[i] == (unsigned char)pin[i]; i++)
            ;
        found += i == n && !after(p, lo, "NK_SHIM_SCAN_PIN=") &&
                 !after(p, lo, "NOTATION_KEYSTORE_PIN=");
    }
    return found;
}

static void scan_pin(const char *pin, const char *outpath)
{
    static char maps[1 << 20], report[4096];
    unsigned long lo, hi;
    size_t len = 0, n = strlen(pin), total = 0, c;
    char perms[8], name[512], *line, *nl;
    ssize_t r;
    int fd = open("/proc/self/maps", O_RDONLY), at = 0;

    /* The whole map first: the scan itself must not change it. */
    while (fd >= 0 && len < sizeof(maps) - 1 &&
           (r = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
        len += (size_t)r;
    if (fd >= 0)
        close(fd);
    maps[len] = '\0';
    report[0] = '\0';
    for (line = maps; n > 0 && *line != '\0'; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        name[0] = '\0';
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %511s", &lo, &hi, perms,
                   name) < 3 || perms[0] != 'r' || perms[1] != 'w' ||
            perms[3] != 'p' || hi - lo > (1ul << 30))
            continue;
        c = count_in((const volatile unsigned char *)lo,
                     (const volatile unsigned char *)hi, pin, n);
        if (c == 0)
            continue;
        total += c;
        at += snprintf(report + at, sizeof(report) - (size_t)at,
                       " %zu in %lx-%lx %s;", c, lo, hi,
                       name[0] ? name : "(anonymous)");
        if (at >= (int)sizeof(report) - 600)
            break;
    }
    fd = open(outpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (n == 0 || len == 0)
        dprintf(fd, "SCAN FAILED\n");
    else if (total == 0)
        dprintf(fd, "PIN ABSENT\n");
    else
        dprintf(fd, "PIN FOUND %zu:%s\n", total, report);
    close(fd);
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
    if (getenv("NK_SHIM_SCAN_PIN") != NULL && getenv("NK_SHIM_SCAN_OUT"))
        scan_pin(getenv("NK_SHIM_SCAN_PIN"), getenv("NK_SHIM_SCAN_OUT"));
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
