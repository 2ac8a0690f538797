/* Object primitives on a session of ours: searches by template and
 * attribute reads, so a lookup costs what matches, not what the token
 * holds. */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "p11.h"

/* Handles fetched per C_FindObjects call. */
#define FIND_BATCH 16

unsigned char *nk_p11_attr(const struct nk_p11 *s,
                           CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
                           CK_ATTRIBUTE_TYPE type, size_t max, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    unsigned char *p;

    *len = 0;
    if (s->fl->C_GetAttributeValue(session, obj, &a, 1) != CKR_OK ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > max)
        return NULL;
    p = nk_xmalloc(a.ulValueLen + 1);
    a.pValue = a.ulValueLen > 0 ? p : NULL;
    if (a.ulValueLen > 0 &&
        (s->fl->C_GetAttributeValue(session, obj, &a, 1) != CKR_OK ||
         a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > max)) {
        free(p);
        return NULL;
    }
    p[a.ulValueLen] = '\0';
    *len = a.ulValueLen;
    return p;
}

CK_RV nk_p11_find(const struct nk_p11 *s, CK_SESSION_HANDLE session,
                  CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl, CK_OBJECT_HANDLE **h,
                  size_t *n)
{
    CK_OBJECT_HANDLE batch[FIND_BATCH];
    CK_ULONG got = 0;
    CK_RV rv;

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
    s->fl->C_FindObjectsFinal(session);
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
        return nk_p11_rv_err(err, rv, "cannot open a %ssession on token "
                             "\"%s\"", rw ? "read-write " : "",
                             slot->token->label);
    return 0;
}
