/* COSE_Sign1 encoder over libcbor, from the decisions in attrs.c. Every
 * map is written with its keys in the byte order of their encodings (RFC
 * 8949 section 4.2.1), as go-cose does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "common/mem.h"
#include "cose.h"

#define COSE_SIGN1_TAG 18
#define CBOR_EPOCH_TAG 1
#define LABEL_ALG 1
#define LABEL_CRIT 2
#define LABEL_CTY 3
#define LABEL_X5CHAIN 33

/* libcbor reports out of memory with NULL or false (Debian builds it
 * without custom allocators, so it cannot use ours): the one policy,
 * nk_oom. */
static cbor_item_t *must(cbor_item_t *item)
{
    if (item == NULL)
        nk_oom();
    return item;
}

static void check(bool ok)
{
    if (!ok)
        nk_oom();
}

/* item under a tag, taking item's reference. Not cbor_build_tag: libcbor
 * 0.8's does not check its own allocation and crashes when it fails. */
static cbor_item_t *tagged(uint64_t tag, cbor_item_t *item)
{
    cbor_item_t *t = must(cbor_new_tag(tag));

    cbor_tag_set_item(t, cbor_move(item));
    return t;
}

/* An unsigned or negative integer in its smallest encoding (libcbor keeps
 * the width it was built with). */
static cbor_item_t *int_item(long long v)
{
    uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-(v + 1));
    cbor_item_t *it;

    if (u <= UINT8_MAX)
        it = v >= 0 ? cbor_build_uint8((uint8_t)u)
                    : cbor_build_negint8((uint8_t)u);
    else if (u <= UINT16_MAX)
        it = v >= 0 ? cbor_build_uint16((uint16_t)u)
                    : cbor_build_negint16((uint16_t)u);
    else if (u <= UINT32_MAX)
        it = v >= 0 ? cbor_build_uint32((uint32_t)u)
                    : cbor_build_negint32((uint32_t)u);
    else
        it = v >= 0 ? cbor_build_uint64(u) : cbor_build_negint64(u);
    return must(it);
}

static cbor_item_t *text_item(const char *s)
{
    return must(cbor_build_stringn(s, strlen(s)));
}

static cbor_item_t *bytes_item(const unsigned char *p, size_t n)
{
    if (n == 0) /* no memcpy from a NULL pointer */
        return must(cbor_new_definite_bytestring());
    return must(cbor_build_bytestring(p, n));
}

struct entry {
    cbor_item_t *key, *value;
    unsigned char *enc; /* the key's encoding, for sorting */
    size_t enc_len;
};

static int by_encoding(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->enc_len < y->enc_len ? x->enc_len : y->enc_len;
    int c = memcmp(x->enc, y->enc, n);

    if (c != 0)
        return c;
    return x->enc_len < y->enc_len ? -1 : x->enc_len > y->enc_len;
}

/* A definite map of the n entries in deterministic key order; consumes
 * the entries' items. */
static cbor_item_t *sorted_map(struct entry *ents, size_t n)
{
    cbor_item_t *map = must(cbor_new_definite_map(n));
    size_t i, cap;

    for (i = 0; i < n; i++) {
        ents[i].enc = NULL;
        ents[i].enc_len = cbor_serialize_alloc(ents[i].key, &ents[i].enc, &cap);
        if (ents[i].enc_len == 0)
            nk_oom();
    }
    qsort(ents, n, sizeof(ents[0]), by_encoding);
    for (i = 0; i < n; i++) {
        check(cbor_map_add(
            map, (struct cbor_pair){.key = cbor_move(ents[i].key),
                                    .value = cbor_move(ents[i].value)}));
        free(ents[i].enc);
    }
    return map;
}

static cbor_item_t *attr_value(const struct nk_attr *a)
{
    if (a->type == NK_ATTR_TEXT)
        return text_item(a->text);
    /* Tag 1 with an integer: the only time form notation accepts. */
    return tagged(CBOR_EPOCH_TAG, int_item(a->time));
}

static cbor_item_t *protected_map(const struct nk_envelope *e)
{
    struct entry ents[NK_ATTRS_MAX + 3];
    cbor_item_t *crit = must(cbor_new_definite_array(e->n_crit));
    size_t n = 0, i;

    for (i = 0; i < e->n_crit; i++)
        check(cbor_array_push(crit, cbor_move(text_item(e->crit[i]))));
    ents[n++] = (struct entry){int_item(LABEL_ALG),
                               int_item(nk_keyspec_cose_alg(e->spec)), NULL, 0};
    ents[n++] = (struct entry){int_item(LABEL_CRIT), crit, NULL, 0};
    ents[n++] = (struct entry){int_item(LABEL_CTY), text_item(NK_PAYLOAD_TYPE),
                               NULL, 0};
    for (i = 0; i < e->n_prot; i++)
        ents[n++] = (struct entry){text_item(e->prot[i].name),
                                   attr_value(&e->prot[i]), NULL, 0};
    return sorted_map(ents, n);
}

/* Serialises item into a malloc'd buffer and releases it. */
static void serialize(cbor_item_t *item, unsigned char **out, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0;

    *len = cbor_serialize_alloc(item, &buf, &cap);
    cbor_decref(&item);
    if (*len == 0)
        nk_oom();
    *out = buf;
}

int nk_cose_tbs(struct nk_envelope *e, struct nk_err *err)
{
    cbor_item_t *tbs = must(cbor_new_definite_array(4));

    (void)err;
    free(e->prot_enc);
    free(e->tbs);
    serialize(protected_map(e), &e->prot_enc, &e->prot_len);
    check(cbor_array_push(tbs, cbor_move(text_item("Signature1"))));
    check(
        cbor_array_push(tbs, cbor_move(bytes_item(e->prot_enc, e->prot_len))));
    check(cbor_array_push(tbs, cbor_move(bytes_item(NULL, 0))));
    check(cbor_array_push(tbs,
                          cbor_move(bytes_item(e->payload, e->payload_len))));
    serialize(tbs, &e->tbs, &e->tbs_len);
    return 0;
}

/* x5chain is always an array, even for one certificate: notation reads
 * nothing else. */
static cbor_item_t *x5chain(STACK_OF(X509) * chain, struct nk_err *err)
{
    cbor_item_t *arr = must(cbor_new_definite_array(sk_X509_num(chain)));
    unsigned char *der;
    int i, len;

    for (i = 0; i < sk_X509_num(chain); i++) {
        der = NULL;
        len = i2d_X509(sk_X509_value(chain, i), &der);
        if (len <= 0) {
            cbor_decref(&arr);
            nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode certificate %d", i);
            return NULL;
        }
        check(cbor_array_push(arr, cbor_move(bytes_item(der, len))));
        OPENSSL_free(der);
    }
    return arr;
}

static cbor_item_t *unprotected_map(const struct nk_envelope *e,
                                    struct nk_err *err)
{
    struct entry ents[3];
    cbor_item_t *chain = x5chain(e->chain, err);
    size_t n = 0;

    if (chain == NULL)
        return NULL;
    ents[n++] = (struct entry){int_item(LABEL_X5CHAIN), chain, NULL, 0};
    ents[n++] =
        (struct entry){text_item(NK_HDR_AGENT), text_item(e->agent), NULL, 0};
    if (e->tst != NULL)
        ents[n++] = (struct entry){text_item(NK_HDR_TIMESTAMP),
                                   bytes_item(e->tst, e->tst_len), NULL, 0};
    return sorted_map(ents, n);
}

int nk_cose_build(const struct nk_envelope *e, unsigned char **out,
                  size_t *outlen, struct nk_err *err)
{
    cbor_item_t *arr, *unprot;

    *out = NULL;
    *outlen = 0;
    if (e->prot_enc == NULL || e->sig == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "COSE: nothing signed yet (internal error)");
    unprot = unprotected_map(e, err);
    if (unprot == NULL)
        return -1;
    arr = must(cbor_new_definite_array(4));
    check(
        cbor_array_push(arr, cbor_move(bytes_item(e->prot_enc, e->prot_len))));
    check(cbor_array_push(arr, cbor_move(unprot)));
    check(cbor_array_push(arr,
                          cbor_move(bytes_item(e->payload, e->payload_len))));
    check(cbor_array_push(arr, cbor_move(bytes_item(e->sig, e->sig_len))));
    serialize(tagged(COSE_SIGN1_TAG, arr), out, outlen);
    return 0;
}
