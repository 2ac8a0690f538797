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
 *   NK_SHIM_MAX_SESSIONS=N  C_OpenSession fails with CKR_SESSION_COUNT
 *                           while N sessions of this process are open (a
 *                           token or HSM partition with a session limit)
 *   NK_SHIM_CHATTY=1        writes to stdout when loaded and when signing
 *   NK_SHIM_SCAN_PIN=PIN    at each C_Sign, before forwarding it, searches
 *   NK_SHIM_SCAN_OUT=FILE   this process's writable private memory (heap,
 *                           stack, anonymous maps, data of loaded objects)
 *                           for the PIN's bytes, except as the value of an
 *                           environment entry NK_SHIM_SCAN_PIN= or
 *                           NOTATION_KEYSTORE_PIN=, and appends
 *                           "PIN ABSENT" or "PIN FOUND <n>: <where>" to FILE
 * Faults and hostile answers (tests/integration/21-pkcs11-faults.sh):
 *   NK_SHIM_FAIL=F:RV[:N][,...]  the Nth call (default 1; "N+" that call
 *                           and every later one) of function F (C_Login
 *                           ...) returns RV (CKR_PIN_LOCKED ... or a number)
 *                           without reaching the module; "+RV" forwards the
 *                           call first (CKR_USER_ALREADY_LOGGED_IN after a
 *                           login that worked)
 *   NK_SHIM_COUNT=FILE      writes "C_<name> <calls>" for every function
 *                           called, "login_user", "login_context" (C_Login
 *                           calls by user type), "init_ok" (C_Initialize
 *                           calls that returned CKR_OK) and "finalize" (calls
 *                           of C_Finalize) to FILE at each C_Finalize and
 *                           when the shim is unloaded or the process exits
 *   NK_SHIM_ATTR_LEN=N[:query|fetch]  C_GetAttributeValue returns CKR_OK
 *                           with length N (-1 is CK_UNAVAILABLE_INFORMATION)
 *                           for every attribute, on length queries (no
 *                           buffer), on fetches (into a buffer; the module
 *                           wrote only what fits) or on both (default)
 *   NK_SHIM_FIND_COUNT=N    C_FindObjects reports N objects whenever the
 *                           module found some (it wrote only those)
 *   NK_SHIM_SLOT_COUNT=N[:query|fill]  C_GetSlotList reports N slots, on
 *   NK_SHIM_MECH_COUNT=N[:query|fill]  count queries (no buffer) or after
 *                           filling a buffer (default both); likewise
 *                           C_GetMechanismList
 *   NK_SHIM_LABEL=full|nul|high|ctrl  the text fields of C_GetInfo,
 *                           C_GetSlotInfo and C_GetTokenInfo are replaced:
 *                           no blank padding, an embedded NUL, bytes that
 *                           are not UTF-8, control characters and quotes
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

/* The functions the plugin and libp11 call; each is counted and can be
 * made to fail. */
/* clang-format off: one function per line (clang-format 14 reflows an
 * X-macro list differently on each pass). */
// clang-format off
#define FUNCS(X) \
    X(C_GetFunctionList) \
    X(C_Initialize) \
    X(C_Finalize) \
    X(C_GetInfo) \
    X(C_GetSlotList) \
    X(C_GetSlotInfo) \
    X(C_GetTokenInfo) \
    X(C_GetMechanismList) \
    X(C_GetMechanismInfo) \
    X(C_OpenSession) \
    X(C_CloseSession) \
    X(C_CloseAllSessions) \
    X(C_GetSessionInfo) \
    X(C_Login) \
    X(C_Logout) \
    X(C_CreateObject) \
    X(C_DestroyObject) \
    X(C_GetAttributeValue) \
    X(C_FindObjectsInit) \
    X(C_FindObjects) \
    X(C_FindObjectsFinal) \
    X(C_SignInit) \
    X(C_Sign)
// clang-format on
#define AS_ENUM(f) F_##f,
#define AS_NAME(f) #f,
enum { FUNCS(AS_ENUM) NFUNCS };
static const char *const fnames[] = {FUNCS(AS_NAME)};
static unsigned long calls[NFUNCS];
static unsigned long login_user, login_context, init_ok, finalized;

struct rv_name {
    const char *name;
    CK_RV rv;
};
#define RV(x)                                                                  \
    {                                                                          \
#x, x                                                                  \
    }
static const struct rv_name rvs[] = {
    RV(CKR_CANCEL),
    RV(CKR_HOST_MEMORY),
    RV(CKR_SLOT_ID_INVALID),
    RV(CKR_GENERAL_ERROR),
    RV(CKR_FUNCTION_FAILED),
    RV(CKR_ARGUMENTS_BAD),
    RV(CKR_NEED_TO_CREATE_THREADS),
    RV(CKR_CANT_LOCK),
    RV(CKR_ATTRIBUTE_READ_ONLY),
    RV(CKR_ATTRIBUTE_SENSITIVE),
    RV(CKR_ATTRIBUTE_TYPE_INVALID),
    RV(CKR_ATTRIBUTE_VALUE_INVALID),
    RV(CKR_ACTION_PROHIBITED),
    RV(CKR_DATA_INVALID),
    RV(CKR_DATA_LEN_RANGE),
    RV(CKR_DEVICE_ERROR),
    RV(CKR_DEVICE_MEMORY),
    RV(CKR_DEVICE_REMOVED),
    RV(CKR_FUNCTION_CANCELED),
    RV(CKR_FUNCTION_NOT_SUPPORTED),
    RV(CKR_KEY_HANDLE_INVALID),
    RV(CKR_KEY_SIZE_RANGE),
    RV(CKR_KEY_TYPE_INCONSISTENT),
    RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
    RV(CKR_MECHANISM_INVALID),
    RV(CKR_MECHANISM_PARAM_INVALID),
    RV(CKR_OBJECT_HANDLE_INVALID),
    RV(CKR_OPERATION_ACTIVE),
    RV(CKR_OPERATION_NOT_INITIALIZED),
    RV(CKR_PIN_INCORRECT),
    RV(CKR_PIN_INVALID),
    RV(CKR_PIN_LEN_RANGE),
    RV(CKR_PIN_EXPIRED),
    RV(CKR_PIN_LOCKED),
    RV(CKR_SESSION_CLOSED),
    RV(CKR_SESSION_COUNT),
    RV(CKR_SESSION_HANDLE_INVALID),
    RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    RV(CKR_SESSION_READ_ONLY),
    RV(CKR_SESSION_EXISTS),
    RV(CKR_SESSION_READ_ONLY_EXISTS),
    RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    RV(CKR_TEMPLATE_INCOMPLETE),
    RV(CKR_TEMPLATE_INCONSISTENT),
    RV(CKR_TOKEN_NOT_PRESENT),
    RV(CKR_TOKEN_NOT_RECOGNIZED),
    RV(CKR_TOKEN_WRITE_PROTECTED),
    RV(CKR_USER_ALREADY_LOGGED_IN),
    RV(CKR_USER_NOT_LOGGED_IN),
    RV(CKR_USER_PIN_NOT_INITIALIZED),
    RV(CKR_USER_TYPE_INVALID),
    RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    RV(CKR_USER_TOO_MANY_TYPES),
    RV(CKR_DOMAIN_PARAMS_INVALID),
    RV(CKR_CURVE_NOT_SUPPORTED),
    RV(CKR_BUFFER_TOO_SMALL),
    RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    RV(CKR_FUNCTION_REJECTED),
};
#undef RV

static int on(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static void write_counts(void)
{
    const char *path = getenv("NK_SHIM_COUNT");
    int fd, i;

    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    for (i = 0; i < NFUNCS; i++)
        if (calls[i] > 0)
            dprintf(fd, "%s %lu\n", fnames[i], calls[i]);
    dprintf(fd,
            "login_user %lu\nlogin_context %lu\ninit_ok %lu\n"
            "finalize %lu\n",
            login_user, login_context, init_ok, finalized);
    close(fd);
}

__attribute__((destructor)) static void unloaded(void)
{
    write_counts();
}

static CK_RV rv_value(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(rvs) / sizeof(rvs[0]); i++)
        if (strlen(rvs[i].name) == n && strncmp(rvs[i].name, s, n) == 0)
            return rvs[i].rv;
    return strtoul(s, NULL, 0);
}

enum { PASS_ON, FAIL_NOW, FAIL_AFTER };

/* Counts a call of f; FAIL_NOW or FAIL_AFTER (forward, then answer *rv)
 * when NK_SHIM_FAIL names this call. Entries are "F:RV", "F:RV:N" or
 * "F:RV:N+", separated by ','; "+RV" fails after forwarding. */
static int fault(int f, CK_RV *rv)
{
    const char *spec = getenv("NK_SHIM_FAIL"), *p, *colon, *end;
    size_t fl = strlen(fnames[f]);
    unsigned long n = ++calls[f], nth;
    char *rest;
    int later;

    for (p = spec; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        colon = strchr(p, ':');
        if (colon == NULL || colon > end || (size_t)(colon - p) != fl ||
            strncmp(p, fnames[f], fl) != 0)
            continue;
        p = colon + 1;
        colon = strchr(p, ':');
        if (colon == NULL || colon > end)
            colon = end;
        nth = 1;
        later = 0;
        if (colon < end) {
            nth = strtoul(colon + 1, &rest, 10);
            later = *rest == '+';
        }
        if (n == nth || (later && n > nth)) {
            if (*p != '+') {
                *rv = rv_value(p, (size_t)(colon - p));
                return FAIL_NOW;
            }
            *rv = rv_value(p + 1, (size_t)(colon - p - 1));
            return FAIL_AFTER;
        }
    }
    return PASS_ON;
}

/* A wrapper starts with ENTER (counts the call, returns a FAIL_NOW
 * answer) and ends with LEAVE (the module's answer or the FAIL_AFTER one). */
#define ENTER(f)                                                               \
    CK_RV forced = CKR_OK;                                                     \
    int how = fault(F_##f, &forced);                                           \
    if (how == FAIL_NOW)                                                       \
    return forced
#define LEAVE(rv) return how == FAIL_AFTER ? forced : (rv)

/* VAR=N[:query|fill] (or fetch): nonzero, with *n set, when VAR applies
 * to a call that had no buffer (filled == 0) or had one (filled == 1). */
static int hostile(const char *var, int filled, CK_ULONG *n)
{
    const char *v = getenv(var);
    char *mode;

    if (v == NULL || v[0] == '\0')
        return 0;
    *n = strtoul(v, &mode, 0);
    if (*mode == ':')
        return filled ? strcmp(mode + 1, "query") != 0
                      : strcmp(mode + 1, "query") == 0;
    return 1;
}

/* Fills a blank-padded PKCS#11 text field with NK_SHIM_LABEL's garbage. */
static void garble(CK_UTF8CHAR *field, size_t size)
{
    const char *mode = getenv("NK_SHIM_LABEL");
    static const char ctrl[] = "\"q\\\n\t\x01%;?&=/<>\x7f";
    static const unsigned char high[] = {0xff, 0xfe, 0xc3, 0x28,
                                         0xe2, 0x82, 0x80, 0xa0};
    size_t i;

    if (mode == NULL)
        return;
    memset(field, ' ', size);
    for (i = 0; i < size; i++) {
        if (strcmp(mode, "full") == 0)
            field[i] = (CK_UTF8CHAR)('A' + i % 26);
        else if (strcmp(mode, "nul") == 0 && i < 8)
            field[i] = i == 2 ? '\0' : (CK_UTF8CHAR)('a' + i);
        else if (strcmp(mode, "high") == 0 && i < sizeof(high))
            field[i] = high[i];
        else if (strcmp(mode, "ctrl") == 0 && i < sizeof(ctrl) - 1)
            field[i] = (CK_UTF8CHAR)ctrl[i];
    }
}

#define GARBLE(f) garble((f), sizeof(f))

static CK_RV initialize(void *args)
{
    CK_RV rv;
    ENTER(C_Initialize);

    rv = real->C_Initialize(args);
    init_ok += rv == CKR_OK;
    LEAVE(rv);
}

static CK_RV finalize(void *reserved)
{
    CK_RV rv = CKR_OK;
    int how;

    finalized++;
    how = fault(F_C_Finalize, &rv);
    if (how != FAIL_NOW)
        rv = real->C_Finalize(reserved);
    write_counts();
    return rv;
}

static CK_RV get_info(CK_INFO_PTR info)
{
    CK_RV rv;
    ENTER(C_GetInfo);

    rv = real->C_GetInfo(info);
    if (rv == CKR_OK) {
        GARBLE(info->manufacturerID);
        GARBLE(info->libraryDescription);
    }
    LEAVE(rv);
}

static CK_RV slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list,
                       CK_ULONG_PTR count)
{
    CK_ULONG n;
    CK_RV rv;
    ENTER(C_GetSlotList);

    rv = real->C_GetSlotList(present, list, count);
    if (rv == CKR_OK && hostile("NK_SHIM_SLOT_COUNT", list != NULL, &n))
        *count = n;
    LEAVE(rv);
}

static CK_RV slot_info(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
    CK_RV rv;
    ENTER(C_GetSlotInfo);

    rv = real->C_GetSlotInfo(id, info);
    if (rv == CKR_OK) {
        GARBLE(info->slotDescription);
        GARBLE(info->manufacturerID);
    }
    LEAVE(rv);
}

static CK_RV token_info(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
    const char *f = getenv("NK_SHIM_FLAGS");
    CK_RV rv;
    ENTER(C_GetTokenInfo);

    rv = real->C_GetTokenInfo(id, info);
    if (rv == CKR_OK) {
        if (f != NULL)
            info->flags |= strtoul(f, NULL, 0);
        GARBLE(info->label);
        GARBLE(info->manufacturerID);
        GARBLE(info->model);
        GARBLE(info->serialNumber);
    }
    LEAVE(rv);
}

static CK_RV mech_list(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list,
                       CK_ULONG_PTR count)
{
    CK_ULONG n;
    CK_RV rv;
    ENTER(C_GetMechanismList);

    rv = real->C_GetMechanismList(id, list, count);
    if (rv == CKR_OK && hostile("NK_SHIM_MECH_COUNT", list != NULL, &n))
        *count = n;
    LEAVE(rv);
}

static CK_RV mech_info(CK_SLOT_ID id, CK_MECHANISM_TYPE m,
                       CK_MECHANISM_INFO_PTR info)
{
    ENTER(C_GetMechanismInfo);

    LEAVE(real->C_GetMechanismInfo(id, m, info));
}

/* Sessions of this process now open, for NK_SHIM_MAX_SESSIONS. */
static unsigned long open_sessions;

static CK_RV open_session(CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app,
                          CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
    const char *max = getenv("NK_SHIM_MAX_SESSIONS");
    CK_RV rv;
    ENTER(C_OpenSession);

    if (max != NULL && open_sessions >= strtoul(max, NULL, 0))
        return CKR_SESSION_COUNT;
    rv = real->C_OpenSession(id, flags, app, notify, s);
    if (rv == CKR_OK)
        open_sessions++;
    LEAVE(rv);
}

static CK_RV close_session(CK_SESSION_HANDLE s)
{
    CK_RV rv;
    ENTER(C_CloseSession);

    rv = real->C_CloseSession(s);
    if (rv == CKR_OK && open_sessions > 0)
        open_sessions--;
    LEAVE(rv);
}

static CK_RV close_all(CK_SLOT_ID id)
{
    ENTER(C_CloseAllSessions);

    open_sessions = 0;
    LEAVE(real->C_CloseAllSessions(id));
}

static CK_RV session_info(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info)
{
    ENTER(C_GetSessionInfo);

    LEAVE(real->C_GetSessionInfo(s, info));
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE t, CK_UTF8CHAR_PTR pin,
                   CK_ULONG len)
{
    const char *p = getenv("NK_SHIM_PAD_PIN");
    CK_RV forced = CKR_OK, rv;
    int how;

    /* Every attempt counts, also those the shim fails. */
    login_user += t == CKU_USER;
    login_context += t == CKU_CONTEXT_SPECIFIC;
    how = fault(F_C_Login, &forced);
    if (how == FAIL_NOW)
        return forced;
    if (pin == NULL && p != NULL)
        rv = real->C_Login(s, t, (CK_UTF8CHAR_PTR)p, strlen(p));
    else
        rv = real->C_Login(s, t, pin, len);
    return how == FAIL_AFTER ? forced : rv;
}

static CK_RV logout(CK_SESSION_HANDLE s)
{
    ENTER(C_Logout);

    LEAVE(real->C_Logout(s));
}

static CK_RV create_object(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                           CK_OBJECT_HANDLE_PTR h)
{
    ENTER(C_CreateObject);

    LEAVE(real->C_CreateObject(s, t, n, h));
}

static CK_RV destroy_object(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    ENTER(C_DestroyObject);

    LEAVE(real->C_DestroyObject(s, h));
}

static CK_RV get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                      CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    CK_ULONG len, i;
    CK_RV rv;
    ENTER(C_GetAttributeValue);

    rv = real->C_GetAttributeValue(s, h, t, n);
    for (i = 0; rv == CKR_OK && i < n; i++)
        if (hostile("NK_SHIM_ATTR_LEN", t[i].pValue != NULL, &len))
            t[i].ulValueLen = len;
    LEAVE(rv);
}

static CK_RV find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    ENTER(C_FindObjectsInit);

    LEAVE(real->C_FindObjectsInit(s, t, n));
}

static CK_RV find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR h, CK_ULONG max,
                  CK_ULONG_PTR count)
{
    const char *fake = getenv("NK_SHIM_FIND_COUNT");
    CK_RV rv;
    ENTER(C_FindObjects);

    rv = real->C_FindObjects(s, h, max, count);
    if (rv == CKR_OK && *count > 0 && fake != NULL)
        *count = strtoul(fake, NULL, 0);
    LEAVE(rv);
}

static CK_RV find_final(CK_SESSION_HANDLE s)
{
    ENTER(C_FindObjectsFinal);

    LEAVE(real->C_FindObjectsFinal(s));
}

static CK_RV sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                       CK_OBJECT_HANDLE k)
{
    ENTER(C_SignInit);

    LEAVE(real->C_SignInit(s, m, k));
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
                   name) < 3 ||
            perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' ||
            hi - lo > (1ul << 30))
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
    CK_RV forced = CKR_OK, rv;
    int how;

    if (on("NK_SHIM_CHATTY")) {
        printf("chatty module: signing %lu bytes\n", (unsigned long)n);
        fflush(stdout);
    }
    if (getenv("NK_SHIM_SCAN_PIN") != NULL && getenv("NK_SHIM_SCAN_OUT"))
        scan_pin(getenv("NK_SHIM_SCAN_PIN"), getenv("NK_SHIM_SCAN_OUT"));
    how = fault(F_C_Sign, &forced);
    if (how == FAIL_NOW)
        return forced;
    rv = real->C_Sign(s, d, n, sig, len);
    if (how == FAIL_AFTER)
        return forced;
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
    CK_RV rv;

    if (on("NK_SHIM_CHATTY"))
        (void)!write(1, "chatty module loaded\n", 21);
    if (fault(F_C_GetFunctionList, &rv) != PASS_ON)
        return rv;
    if (h == NULL)
        return CKR_GENERAL_ERROR;
    *(void **)&get = dlsym(h, "C_GetFunctionList");
    if (get == NULL || get(&real) != CKR_OK)
        return CKR_GENERAL_ERROR;
    shim = *real;
    shim.C_Initialize = initialize;
    shim.C_Finalize = finalize;
    shim.C_GetInfo = get_info;
    shim.C_GetSlotList = slot_list;
    shim.C_GetSlotInfo = slot_info;
    shim.C_GetTokenInfo = token_info;
    shim.C_GetMechanismList = mech_list;
    shim.C_GetMechanismInfo = mech_info;
    shim.C_OpenSession = open_session;
    shim.C_CloseSession = close_session;
    shim.C_CloseAllSessions = close_all;
    shim.C_GetSessionInfo = session_info;
    shim.C_Login = login;
    shim.C_Logout = logout;
    shim.C_CreateObject = create_object;
    shim.C_DestroyObject = destroy_object;
    shim.C_GetAttributeValue = get_attr;
    shim.C_FindObjectsInit = find_init;
    shim.C_FindObjects = find;
    shim.C_FindObjectsFinal = find_final;
    shim.C_SignInit = sign_init;
    shim.C_Sign = sign;
    *pp = &shim;
    return CKR_OK;
}
