/* Object primitives on a session of ours: searches by template and
 * attribute reads, so a lookup costs what matches, not what the token
 * holds; and the token failures lookups meet on the way. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "p11.h"

/* Handles fetched per C_FindObjects call. */
#define FIND_BATCH 16

void nk_p11_fault(struct nk_p11 *s, CK_RV rv, const char *fmt, ...)
{
    va_list ap;

    if (s->fault_rv != CKR_OK)
        return;
    s->fault_rv = rv;
    va_start(ap, fmt);
    vsnprintf(s->fault, sizeof(s->fault), fmt, ap);
    va_end(ap);
}

int nk_p11_fault_check(const struct nk_p11 *s, struct nk_err *err)
{
    if (s->fault_rv == CKR_OK)
        return 0;
    if (s->slot == NULL)
        return nk_err_set(err, nk_p11_rv_code(s->fault_rv), "token fault: %s",
                          s->fault);
    return nk_err_set(err, nk_p11_rv_code(s->fault_rv),
                      "token fault on \"%s\": %s", s->slot->token->label,
                      s->fault);
}

/* The answers that mean "the object has no such attribute for us": any
 * other failure is the token's. */
static int absent(CK_RV rv)
{
    return rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE;
}

static void attr_failed(struct nk_p11 *s, CK_ATTRIBUTE_TYPE type, CK_RV rv)
{
    if (!absent(rv))
        nk_p11_fault(s, rv, "C_GetAttributeValue(%s): %s",
                     nk_p11_attr_name(type), nk_p11_rv_name(rv));
}

unsigned char *nk_p11_attr(struct nk_p11 *s, CK_SESSION_HANDLE session,
                           CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                           size_t max, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    unsigned char *p = NULL, *ret = NULL;
    CK_ULONG cap = 0;
    CK_RV rv;

    *len = 0;
    rv = s->fl->C_GetAttributeValue(session, obj, &a, 1);
    /* CK_UNAVAILABLE_INFORMATION belongs with an error, never CKR_OK. */
    if (rv == CKR_OK &&
        (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > max)) {
        nk_p11_fault(s, CKR_GENERAL_ERROR,
                     "%s of %lu bytes (at most %zu "
                     "read)",
                     nk_p11_attr_name(type), (unsigned long)a.ulValueLen, max);
        goto out;
    }
    cap = rv == CKR_OK ? a.ulValueLen : 0;
    p = nk_xmalloc(cap + 1);
    if (cap > 0) {
        a.pValue = p;
        rv = s->fl->C_GetAttributeValue(session, obj, &a, 1);
    }
    if (rv != CKR_OK) {
        attr_failed(s, type, rv);
        goto out;
    }
    /* Believing a length larger than the buffer would read past it. */
    if (a.ulValueLen > cap) {
        nk_p11_fault(s, CKR_GENERAL_ERROR,
                     "%s of %lu bytes in a %lu-byte "
                     "buffer",
                     nk_p11_attr_name(type), (unsigned long)a.ulValueLen,
                     (unsigned long)cap);
        goto out;
    }
    p[a.ulValueLen] = '\0';
    *len = a.ulValueLen;
    ret = p;
    p = NULL;
out:
    free(p);
    return ret;
}

int nk_p11_attr_fixed(struct nk_p11 *s, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, void *val,
                      size_t size)
{
    CK_ATTRIBUTE a = {type, val, size};
    CK_RV rv = s->fl->C_GetAttributeValue(session, obj, &a, 1);

    if (rv != CKR_OK) {
        attr_failed(s, type, rv);
        return -1;
    }
    if (a.ulValueLen != size) {
        nk_p11_fault(s, CKR_GENERAL_ERROR, "%s of %lu bytes, not %zu",
                     nk_p11_attr_name(type), (unsigned long)a.ulValueLen, size);
        return -1;
    }
    return 0;
}

CK_RV nk_p11_find(const struct nk_p11 *s, CK_SESSION_HANDLE session,
                  CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl, CK_OBJECT_HANDLE **h,
                  size_t *n)
{
    CK_OBJECT_HANDLE batch[FIND_BATCH];
    CK_ULONG got = 0;
    CK_RV rv, final;

    *h = NULL;
    *n = 0;
    rv = s->fl->C_FindObjectsInit(session, tmpl, ntmpl);
    if (rv != CKR_OK)
        return rv;
    /* Until a call finds nothing: a module may return fewer than asked
     * before the end. */
    for (;;) {
        rv = s->fl->C_FindObjects(session, batch, FIND_BATCH, &got);
        if (rv == CKR_OK && got > FIND_BATCH)
            rv = CKR_GENERAL_ERROR; /* a module writing past our array */
        if (rv != CKR_OK || got == 0)
            break;
        *h = nk_xrealloc(*h, (*n + got) * sizeof(**h));
        memcpy(*h + *n, batch, got * sizeof(**h));
        *n += got;
    }
    /* A search the token cannot end leaves the session unusable. */
    final = s->fl->C_FindObjectsFinal(session);
    if (rv == CKR_OK)
        rv = final;
    if (rv != CKR_OK) {
        free(*h);
        *h = NULL;
        *n = 0;
    }
    return rv;
}

int nk_p11_open_session(const struct nk_p11 *s, PKCS11_SLOT *slot, int rw,
                        CK_SESSION_HANDLE *session, struct nk_err *err)
{
    CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    CK_RV rv = s->fl->C_OpenSession(PKCS11_get_slotid_from_slot(slot), flags,
                                    NULL, NULL, session);

    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv,
                             "cannot open a %ssession on token "
                             "\"%s\"",
                             rw ? "read-write " : "", slot->token->label);
    return 0;
}
