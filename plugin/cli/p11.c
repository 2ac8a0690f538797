/* PKCS#11 for the companion commands: list slots, tokens and keys, and
 * write a certificate beside a key. Uses pkcs11/ for the URI, the module
 * and the PIN, and the module's function list for the rest. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "cli/cli.h"
#include "cli/p11.h"
#include "common/buf.h"
#include "common/keyspec.h"
#include "common/log.h"
#include "common/mem.h"
#include "pkcs11/ck.h"
#include "pkcs11/module.h"
#include "pkcs11/pin.h"
#include "pkcs11/uri.h"
#include "verify/chain.h"

#define MAX_OBJECTS 256

struct p11 {
    void *dl;
    CK_FUNCTION_LIST *fl;
    int own_init;
    char *module;
};

static int p11_open(struct p11 *m, const struct nk_p11_uri *u,
                    const struct nk_config *cfg, struct nk_err *err)
{
    const char *from = NULL;
    CK_RV rv;

    memset(m, 0, sizeof(*m));
    if (nk_p11_module_resolve(u, cfg, &m->module, &from, err) != 0 ||
        nk_p11_module_open(m->module, from, &m->dl, &m->fl, err) != 0)
        return -1;
    nk_info("module %s loaded", m->module);
    rv = m->fl->C_Initialize(NULL);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return nk_p11_rv_err(err, rv, "C_Initialize of \"%s\" failed",
                             m->module);
    m->own_init = rv == CKR_OK;
    return 0;
}

static void p11_close(struct p11 *m)
{
    if (m->fl != NULL && m->own_init)
        (void)m->fl->C_Finalize(NULL);
    if (m->dl != NULL)
        dlclose(m->dl);
    free(m->module);
    memset(m, 0, sizeof(*m));
}

/* A blank-padded PKCS#11 text field as a C string. */
static void fixed_str(const unsigned char *p, size_t n, char *out)
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0'))
        n--;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* One attribute, malloc'd; NULL when absent. */
static unsigned char *attr(struct p11 *m, CK_SESSION_HANDLE s,
                           CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, size_t *len)
{
    CK_ATTRIBUTE a = {t, NULL, 0};
    unsigned char *v;

    *len = 0;
    if (m->fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK ||
        a.ulValueLen == (CK_ULONG)-1)
        return NULL;
    v = nk_xmalloc(a.ulValueLen + 1);
    a.pValue = v;
    if (m->fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
        free(v);
        return NULL;
    }
    v[a.ulValueLen] = '\0';
    *len = a.ulValueLen;
    return v;
}

/* Objects of one class (up to MAX_OBJECTS). */
static CK_ULONG find(struct p11 *m, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                     CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_ULONG n = 0;

    if (m->fl->C_FindObjectsInit(s, &t, 1) != CKR_OK)
        return 0;
    if (m->fl->C_FindObjects(s, out, MAX_OBJECTS, &n) != CKR_OK)
        n = 0;
    (void)m->fl->C_FindObjectsFinal(s);
    return n;
}

/* Key spec from CKA_KEY_TYPE and CKA_MODULUS / CKA_EC_PARAMS. */
static enum nk_keyspec key_spec(struct p11 *m, CK_SESSION_HANDLE s,
                                CK_OBJECT_HANDLE o)
{
    size_t n;
    unsigned char *kt = attr(m, s, o, CKA_KEY_TYPE, &n), *v;
    const unsigned char *p;
    ASN1_OBJECT *oid = NULL;
    enum nk_keyspec spec = NK_KEYSPEC_NONE;
    CK_KEY_TYPE type;
    int nid;

    if (kt == NULL || n != sizeof(type))
        goto out;
    memcpy(&type, kt, sizeof(type));
    if (type == CKK_RSA && (v = attr(m, s, o, CKA_MODULUS, &n)) != NULL) {
        spec = n == 256   ? NK_RSA_2048
               : n == 384 ? NK_RSA_3072
               : n == 512 ? NK_RSA_4096
                          : NK_KEYSPEC_NONE;
        free(v);
    } else if (type == CKK_EC &&
               (v = attr(m, s, o, CKA_EC_PARAMS, &n)) != NULL) {
        p = v;
        oid = d2i_ASN1_OBJECT(NULL, &p, (long)n);
        nid = oid != NULL ? OBJ_obj2nid(oid) : NID_undef;
        spec = nid == NID_X9_62_prime256v1 ? NK_EC_256
               : nid == NID_secp384r1      ? NK_EC_384
               : nid == NID_secp521r1      ? NK_EC_521
                                           : NK_KEYSPEC_NONE;
        ASN1_OBJECT_free(oid);
        free(v);
    }
out:
    free(kt);
    return spec;
}

/* RFC 7512 percent-encoding of everything but unreserved characters
 * (and '/' when path_ok). */
static void pct(struct nk_buf *b, const unsigned char *p, size_t n, int path_ok)
{
    struct nk_err err = {0};
    char tmp[4];
    size_t i;

    for (i = 0; i < n; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
            (p[i] >= '0' && p[i] <= '9') || strchr("-._~", p[i]) != NULL ||
            (path_ok && p[i] == '/'))
            snprintf(tmp, sizeof(tmp), "%c", p[i]);
        else
            snprintf(tmp, sizeof(tmp), "%%%02X", p[i]);
        if (nk_buf_appendstr(b, tmp, &err) != 0)
            return;
    }
}

/* Appends text (the 8 KiB cap is far above any URI). */
static void add(struct nk_buf *b, const char *s)
{
    struct nk_err err = {0};

    if (nk_buf_appendstr(b, s, &err) != 0)
        return;
}

/* pkcs11:token=..;object=..;id=..?module-path=.. */
static char *key_uri(const char *token, const unsigned char *label, size_t llen,
                     const unsigned char *id, size_t idlen, const char *module)
{
    struct nk_buf b;
    size_t n;

    nk_buf_init(&b, 8192);
    add(&b, "pkcs11:token=");
    pct(&b, (const unsigned char *)token, strlen(token), 0);
    if (llen > 0) {
        add(&b, ";object=");
        pct(&b, label, llen, 0);
    }
    if (idlen > 0) {
        add(&b, ";id=");
        pct(&b, id, idlen, 0);
    }
    add(&b, "?module-path=");
    pct(&b, (const unsigned char *)module, strlen(module), 1);
    return (char *)nk_buf_take(&b, &n);
}

/* The certificate beside a key: same CKA_ID, else same label. */
static X509 *beside(struct p11 *m, CK_SESSION_HANDLE s,
                    const CK_OBJECT_HANDLE *certs, CK_ULONG nc,
                    const unsigned char *id, size_t idlen,
                    const unsigned char *label, size_t llen)
{
    unsigned char *cid, *clab, *der;
    const unsigned char *p;
    size_t n1, n2, n3;
    X509 *x = NULL;
    CK_ULONG i;

    for (i = 0; i < nc && x == NULL; i++) {
        cid = attr(m, s, certs[i], CKA_ID, &n1);
        clab = attr(m, s, certs[i], CKA_LABEL, &n2);
        if ((idlen > 0 && n1 == idlen && memcmp(cid, id, idlen) == 0) ||
            (idlen == 0 && llen > 0 && n2 == llen &&
             memcmp(clab, label, llen) == 0)) {
            der = attr(m, s, certs[i], CKA_VALUE, &n3);
            p = der;
            x = der != NULL ? d2i_X509(NULL, &p, (long)n3) : NULL;
            free(der);
        }
        free(cid);
        free(clab);
    }
    return x;
}

static cJSON *key_json(struct p11 *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k,
                       int priv, const char *token,
                       const CK_OBJECT_HANDLE *certs, CK_ULONG nc)
{
    size_t llen, idlen, i;
    unsigned char *label = attr(m, s, k, CKA_LABEL, &llen);
    unsigned char *id = attr(m, s, k, CKA_ID, &idlen);
    enum nk_keyspec spec = key_spec(m, s, k);
    X509 *cert = beside(m, s, certs, nc, id, idlen, label, llen);
    cJSON *o = cJSON_CreateObject();
    char *uri, *hex = nk_xcalloc(2 * idlen + 1, 1), *subj;

    for (i = 0; i < idlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    cJSON_AddStringToObject(o, "label", label != NULL ? (char *)label : "");
    cJSON_AddStringToObject(o, "id", hex);
    cJSON_AddStringToObject(o, "class", priv ? "private" : "public");
    cJSON_AddStringToObject(o, "keySpec",
                            spec != NK_KEYSPEC_NONE ? nk_keyspec_name(spec)
                                                    : "unsupported");
    cJSON_AddBoolToObject(o, "certificate", cert != NULL);
    if (cert != NULL) {
        subj = nk_cert_name(cert);
        cJSON_AddStringToObject(o, "certificateSubject", subj);
        free(subj);
    }
    uri = key_uri(token, label, llen, id, idlen, m->module);
    cJSON_AddStringToObject(o, "uri", uri);
    free(uri);
    free(hex);
    free(label);
    free(id);
    X509_free(cert);
    return o;
}

/* Logs in when a PIN is configured and this token is the one meant (the
 * --token filter, or the only initialized token). Never on a locked or
 * final-try PIN, never twice. */
static int maybe_login(struct p11 *m, CK_SESSION_HANDLE s,
                       const CK_TOKEN_INFO *ti, const char *pin,
                       struct nk_err *err)
{
    CK_RV rv;

    if (pin == NULL || !(ti->flags & CKF_LOGIN_REQUIRED))
        return 0;
    if (ti->flags & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY))
        return nk_err_set(err, NK_ERR_ACCESS,
                          "the user PIN is locked or on "
                          "its final try: not logging in");
    rv = m->fl->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        return nk_p11_rv_err(err, rv, "login failed");
    nk_info("logged in to token");
    return 1;
}

static cJSON *token_json(struct p11 *m, CK_SLOT_ID slot,
                         const CK_TOKEN_INFO *ti, const char *pin,
                         struct nk_err *err)
{
    CK_OBJECT_HANDLE *keys = nk_xcalloc(MAX_OBJECTS, sizeof(*keys));
    CK_OBJECT_HANDLE *certs = nk_xcalloc(MAX_OBJECTS, sizeof(*certs));
    CK_SESSION_HANDLE s;
    CK_ULONG nk, nc, i;
    cJSON *t = cJSON_CreateObject(), *arr;
    char label[33], manuf[33], model[17], serial[17];
    int in = 0;

    fixed_str(ti->label, 32, label);
    fixed_str(ti->manufacturerID, 32, manuf);
    fixed_str(ti->model, 16, model);
    fixed_str(ti->serialNumber, 16, serial);
    cJSON_AddStringToObject(t, "label", label);
    cJSON_AddStringToObject(t, "manufacturer", manuf);
    cJSON_AddStringToObject(t, "model", model);
    cJSON_AddStringToObject(t, "serial", serial);
    arr = cJSON_AddArrayToObject(t, "keys");
    if (m->fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) !=
        CKR_OK)
        goto out;
    in = maybe_login(m, s, ti, pin, err);
    nc = find(m, s, CKO_CERTIFICATE, certs);
    nk = find(m, s, in == 1 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, keys);
    for (i = 0; i < nk; i++)
        cJSON_AddItemToArray(
            arr, key_json(m, s, keys[i], in == 1, label, certs, nc));
    if (in == 1)
        (void)m->fl->C_Logout(s);
    (void)m->fl->C_CloseSession(s);
out:
    cJSON_AddBoolToObject(t, "loggedIn", in == 1);
    free(keys);
    free(certs);
    return t;
}

/* How many slots hold an initialized token. */
static int count_tokens(struct p11 *m, const CK_SLOT_ID *slots, CK_ULONG n)
{
    CK_TOKEN_INFO ti;
    CK_ULONG i;
    int c = 0;

    for (i = 0; i < n; i++)
        if (m->fl->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            (ti.flags & CKF_TOKEN_INITIALIZED))
            c++;
    return c;
}

static cJSON *slot_json(struct p11 *m, CK_SLOT_ID slot, const char *want,
                        int only_one, const char *pin, struct nk_err *err)
{
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    cJSON *o = cJSON_CreateObject();
    char desc[65], label[33];
    int meant;

    cJSON_AddNumberToObject(o, "slotId", (double)slot);
    if (m->fl->C_GetSlotInfo(slot, &si) == CKR_OK) {
        fixed_str(si.slotDescription, 64, desc);
        cJSON_AddStringToObject(o, "description", desc);
    }
    if (m->fl->C_GetTokenInfo(slot, &ti) != CKR_OK ||
        !(ti.flags & CKF_TOKEN_INITIALIZED)) {
        cJSON_AddNullToObject(o, "token");
        return o;
    }
    fixed_str(ti.label, 32, label);
    meant = want != NULL ? strcmp(want, label) == 0 : only_one;
    cJSON_AddItemToObject(o, "token",
                          token_json(m, slot, &ti, meant ? pin : NULL, err));
    return o;
}

int nk_cli_p11_list(const char *module, const char *token,
                    const struct nk_config *cfg, cJSON **out,
                    struct nk_err *err)
{
    struct nk_p11_uri *u = NULL;
    struct p11 m;
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64, i;
    char *uri = NULL, *pin = NULL;
    const char *from;
    cJSON *doc = NULL, *arr;
    int ret = -1, one;

    memset(&m, 0, sizeof(m));
    *out = NULL;
    uri = module == NULL ? nk_xstrdup("pkcs11:")
                         : nk_xasprintf("pkcs11:?%s=%s",
                                        strchr(module, '/') ? "module-path"
                                                            : "module-name",
                                        module);
    if (nk_p11_uri_parse(uri, &u, err) != 0 || p11_open(&m, u, cfg, err) != 0 ||
        nk_p11_pin_resolve(u, cfg, &pin, &from, err) != 0)
        goto out;
    if (m.fl->C_GetSlotList(CK_FALSE, slots, &n) != CKR_OK) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot list the slots of \"%s\"",
                   m.module);
        goto out;
    }
    one = count_tokens(&m, slots, n) == 1;
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "module", m.module);
    arr = cJSON_AddArrayToObject(doc, "slots");
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(arr,
                             slot_json(&m, slots[i], token, one, pin, err));
    if (err->code != NK_ERR_NONE)
        goto out;
    *out = doc;
    doc = NULL;
    ret = 0;
out:
    cJSON_Delete(doc);
    nk_strfreezero(pin);
    nk_p11_uri_free(u);
    free(uri);
    p11_close(&m);
    return ret;
}

static int field_matches(const char *want, const unsigned char *p, size_t n)
{
    char have[65];

    if (want == NULL)
        return 1;
    fixed_str(p, n, have);
    return strcmp(want, have) == 0;
}

/* The one slot whose token the URI names. */
static int find_slot(struct p11 *m, const struct nk_p11_uri *u,
                     CK_SLOT_ID *slot, CK_TOKEN_INFO *ti, struct nk_err *err)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64, i;
    CK_TOKEN_INFO t;
    int found = 0;

    if (m->fl->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot list slots");
    for (i = 0; i < n; i++) {
        if (m->fl->C_GetTokenInfo(slots[i], &t) != CKR_OK ||
            !(t.flags & CKF_TOKEN_INITIALIZED) ||
            (u->has_slot_id && u->slot_id != slots[i]) ||
            !field_matches(u->token, t.label, 32) ||
            !field_matches(u->serial, t.serialNumber, 16) ||
            !field_matches(u->model, t.model, 16) ||
            !field_matches(u->manufacturer, t.manufacturerID, 32))
            continue;
        *slot = slots[i];
        *ti = t;
        found++;
    }
    if (found != 1)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "the key id names %s "
                          "token%s: give token=<label> in the URI",
                          found == 0 ? "no" : "more than one",
                          found == 0 ? "" : "s");
    return 0;
}

/* CKA_ID and CKA_LABEL of the one private key the URI names. */
static int find_key(struct p11 *m, CK_SESSION_HANDLE s,
                    const struct nk_p11_uri *u, unsigned char **id,
                    size_t *idlen, unsigned char **label, size_t *llen,
                    struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE h[2];
    CK_ULONG nt = 1, n = 0;

    if (u->object != NULL)
        t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, u->object, strlen(u->object)};
    if (u->has_id)
        t[nt++] = (CK_ATTRIBUTE){CKA_ID, u->id, u->id_len};
    if (m->fl->C_FindObjectsInit(s, t, nt) != CKR_OK ||
        m->fl->C_FindObjects(s, h, 2, &n) != CKR_OK)
        n = 0;
    (void)m->fl->C_FindObjectsFinal(s);
    if (n != 1)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "the key id names %s "
                          "private key",
                          n == 0 ? "no" : "more than one");
    *id = attr(m, s, h[0], CKA_ID, idlen);
    *label = attr(m, s, h[0], CKA_LABEL, llen);
    return 0;
}

/* Removes certificates with this CKA_ID (an older test certificate). */
static void drop_certs(struct p11 *m, CK_SESSION_HANDLE s, unsigned char *id,
                       size_t idlen)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, id, idlen}};
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0, i;

    if (idlen == 0 || m->fl->C_FindObjectsInit(s, t, 2) != CKR_OK)
        return;
    if (m->fl->C_FindObjects(s, h, 16, &n) != CKR_OK)
        n = 0;
    (void)m->fl->C_FindObjectsFinal(s);
    for (i = 0; i < n; i++)
        (void)m->fl->C_DestroyObject(s, h[i]);
}

static int create_cert(struct p11 *m, CK_SESSION_HANDLE s, X509 *cert,
                       unsigned char *id, size_t idlen, unsigned char *label,
                       size_t llen, struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
    int dl = i2d_X509(cert, &der);
    int sl = i2d_X509_NAME(X509_get_subject_name(cert), &subj);
    int il = i2d_X509_NAME(X509_get_issuer_name(cert), &iss);
    int rl = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &ser);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_VALUE, der, (CK_ULONG)dl},
        {CKA_SUBJECT, subj, (CK_ULONG)sl},
        {CKA_ISSUER, iss, (CK_ULONG)il},
        {CKA_SERIAL_NUMBER, ser, (CK_ULONG)rl},
        {CKA_ID, id, idlen},
        {CKA_LABEL, label, llen},
    };
    CK_OBJECT_HANDLE h;
    CK_RV rv = CKR_GENERAL_ERROR;

    if (dl > 0 && sl > 0 && il > 0 && rl > 0)
        rv = m->fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h);
    OPENSSL_free(der);
    OPENSSL_free(subj);
    OPENSSL_free(iss);
    OPENSSL_free(ser);
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv,
                             "cannot store the certificate on the "
                             "token");
    nk_info("certificate stored beside the key");
    return 0;
}

int nk_cli_p11_store_cert(const char *key_id, const struct nk_config *cfg,
                          X509 *cert, struct nk_err *err)
{
    struct nk_p11_uri *u = NULL;
    struct p11 m;
    CK_SLOT_ID slot = 0;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    unsigned char *id = NULL, *label = NULL;
    size_t idlen = 0, llen = 0;
    char *pin = NULL;
    const char *from;
    int ret = -1, in = 0;

    memset(&m, 0, sizeof(m));
    if (strncmp(key_id, "pkcs11:", 7) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "--store needs a pkcs11: "
                          "key; keep the file and set pluginConfig "
                          "certificate-chain for KMS keys");
    if (nk_p11_uri_parse(key_id, &u, err) != 0 ||
        nk_p11_uri_check_key(u, err) != 0 || p11_open(&m, u, cfg, err) != 0 ||
        nk_p11_pin_resolve(u, cfg, &pin, &from, err) != 0 ||
        find_slot(&m, u, &slot, &ti, err) != 0)
        goto out;
    if (m.fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
                            NULL, &s) != CKR_OK) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot open a read-write session");
        goto out;
    }
    in = maybe_login(&m, s, &ti, pin, err);
    if (in < 0 || find_key(&m, s, u, &id, &idlen, &label, &llen, err) != 0)
        goto out;
    drop_certs(&m, s, id, idlen);
    if (create_cert(&m, s, cert, id, idlen, label, llen, err) != 0)
        goto out;
    ret = 0;
out:
    if (s != CK_INVALID_HANDLE) {
        if (in == 1)
            (void)m.fl->C_Logout(s);
        (void)m.fl->C_CloseSession(s);
    }
    free(id);
    free(label);
    nk_strfreezero(pin);
    nk_p11_uri_free(u);
    p11_close(&m);
    return ret;
}
