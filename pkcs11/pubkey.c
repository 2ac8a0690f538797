/* The key's public half, read from token attributes with our own session:
 * libp11 0.4.12's PKCS11_get_public_key keeps a reference that stops the
 * slot (and its copy of the PIN) from ever being released. */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "keyspec.h"
#include "mem.h"
#include "p11.h"

/* One non-empty attribute of obj in our session; NULL when absent. */
static unsigned char *attr(struct nk_p11 *s, CK_OBJECT_HANDLE obj,
                           CK_ATTRIBUTE_TYPE type, size_t *len)
{
    unsigned char *p = nk_p11_attr(s, s->session, obj, type, 65536, len);

    if (p != NULL && *len == 0) {
        free(p);
        p = NULL;
    }
    return p;
}

/* RSA: the private key object, like the public one, carries CKA_MODULUS
 * and the exponent. */
static EVP_PKEY *rsa_pub(struct nk_p11 *s, CK_OBJECT_HANDLE h)
{
    size_t nl = 0, el = 0;
    unsigned char *n = attr(s, h, CKA_MODULUS, &nl);
    unsigned char *e = attr(s, h, CKA_PUBLIC_EXPONENT, &el);
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;

    if (n == NULL || e == NULL || bld == NULL)
        goto out;
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    if (bn != NULL && be != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = nk_keyspec_pkey_from_params("RSA", bld);
out:
    BN_free(bn);
    BN_free(be);
    OSSL_PARAM_BLD_free(bld);
    free(n);
    free(e);
    return pkey;
}

/* The public key object with the private key's CKA_ID, if any (the
 * first when there are several). */
static CK_OBJECT_HANDLE pub_object(struct nk_p11 *s)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_ID, s->id, s->id_len}};
    CK_OBJECT_HANDLE *h = NULL, first = CK_INVALID_HANDLE;
    size_t n = 0;
    CK_RV rv;

    if (s->id_len == 0)
        return CK_INVALID_HANDLE;
    rv = nk_p11_find(s, s->session, tmpl, 2, &h, &n);
    if (rv != CKR_OK)
        nk_p11_fault(s, rv, "searching the public key: %s", nk_p11_rv_name(rv));
    if (n > 0)
        first = h[0];
    free(h);
    return first;
}

/* EC: CKA_EC_PARAMS (a named curve OID) and CKA_EC_POINT (a DER OCTET
 * STRING holding the point, or the bare point on some tokens) of public
 * key object h. */
static EVP_PKEY *ec_pub(struct nk_p11 *s, CK_OBJECT_HANDLE h)
{
    size_t pl = 0, ql = 0;
    unsigned char *par = NULL, *pt = NULL;
    const unsigned char *q;
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *os = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    const char *group;

    if (h == CK_INVALID_HANDLE)
        return NULL;
    par = attr(s, h, CKA_EC_PARAMS, &pl);
    pt = attr(s, h, CKA_EC_POINT, &ql);
    if (par == NULL || pt == NULL)
        goto out;
    q = par;
    oid = d2i_ASN1_OBJECT(NULL, &q, (long)pl);
    group = oid ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
    q = pt;
    os = pt[0] == 0x04 && ql > 2 ? d2i_ASN1_OCTET_STRING(NULL, &q, (long)ql)
                                 : NULL;
    bld = OSSL_PARAM_BLD_new();
    if (group == NULL || bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                         os ? os->data : pt,
                                         os ? (size_t)os->length : ql) != 1)
        goto out;
    pkey = nk_keyspec_pkey_from_params("EC", bld);
out:
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(os);
    OSSL_PARAM_BLD_free(bld);
    free(par);
    free(pt);
    return pkey;
}

EVP_PKEY *nk_p11_read_public_key(struct nk_p11 *s)
{
    if (s->key_type == CKK_RSA)
        return rsa_pub(s, s->handle);
    if (s->key_type == CKK_EC)
        return ec_pub(s, pub_object(s));
    return NULL;
}

EVP_PKEY *nk_p11_public_object_key(struct nk_p11 *s, CK_OBJECT_HANDLE h,
                                   CK_KEY_TYPE kt)
{
    if (kt == CKK_RSA)
        return rsa_pub(s, h);
    if (kt == CKK_EC)
        return ec_pub(s, h);
    return NULL;
}
