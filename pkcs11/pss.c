/* EMSA-PSS encoding (RFC 8017 section 9.1.1) for tokens without a PSS
 * mechanism: the token then only does the raw RSA operation. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mem.h"
#include "p11.h"

/* MGF1 (RFC 8017 B.2.1) XORed into out. */
static int mgf1_xor(const EVP_MD *md, const unsigned char *seed, size_t slen,
                    unsigned char *out, size_t n)
{
    unsigned char c[4], h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    size_t done = 0, i;
    unsigned long counter = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ret = -1;

    if (ctx == NULL)
        return -1;
    while (done < n) {
        c[0] = (unsigned char)(counter >> 24);
        c[1] = (unsigned char)(counter >> 16);
        c[2] = (unsigned char)(counter >> 8);
        c[3] = (unsigned char)counter;
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
            EVP_DigestUpdate(ctx, seed, slen) != 1 ||
            EVP_DigestUpdate(ctx, c, 4) != 1 ||
            EVP_DigestFinal_ex(ctx, h, &hlen) != 1)
            goto out;
        for (i = 0; i < hlen && done < n; i++)
            out[done++] ^= h[i];
        counter++;
    }
    ret = 0;
out:
    EVP_MD_CTX_free(ctx);
    return ret;
}

int nk_p11_pss_encode(enum nk_hash h, const unsigned char *digest, size_t dlen,
                      int modbits, unsigned char *out, size_t k,
                      struct nk_err *err)
{
    static const unsigned char zeros[8] = {0};
    const EVP_MD *md = nk_hash_md(h);
    size_t hlen = nk_hash_len(h), slen = hlen, embits, emlen, dblen;
    unsigned char salt[EVP_MAX_MD_SIZE], hh[EVP_MAX_MD_SIZE];
    unsigned char *em, *db;
    unsigned int n = 0;
    EVP_MD_CTX *ctx = NULL;
    int ret = -1;

    if (md == NULL || dlen != hlen || modbits < 16)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "PSS encoding: bad digest or modulus size");
    embits = (size_t)modbits - 1;
    emlen = (embits + 7) / 8;
    if (k != ((size_t)modbits + 7) / 8 || emlen < hlen + slen + 2)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "PSS encoding: modulus of %d bits is too small",
                          modbits);
    memset(out, 0, k);
    em = out + (k - emlen); /* a leading zero byte when modbits % 8 == 1 */
    dblen = emlen - hlen - 1;
    db = em;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || RAND_bytes(salt, (int)slen) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC, "PSS encoding: no random salt");
        goto out;
    }
    /* H = Hash(0x00 * 8 || mHash || salt) */
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, zeros, sizeof(zeros)) != 1 ||
        EVP_DigestUpdate(ctx, digest, dlen) != 1 ||
        EVP_DigestUpdate(ctx, salt, slen) != 1 ||
        EVP_DigestFinal_ex(ctx, hh, &n) != 1 || n != hlen) {
        nk_err_ssl(err, NK_ERR_GENERIC, "PSS encoding: hash failed");
        goto out;
    }
    /* DB = PS || 0x01 || salt, then masked with MGF1(H) */
    db[dblen - slen - 1] = 0x01;
    memcpy(db + dblen - slen, salt, slen);
    if (mgf1_xor(md, hh, hlen, db, dblen) != 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "PSS encoding: MGF1 failed");
        goto out;
    }
    db[0] &= (unsigned char)(0xff >> (8 * emlen - embits));
    memcpy(em + dblen, hh, hlen);
    em[emlen - 1] = 0xbc;
    ret = 0;
out:
    nk_memzero(salt, sizeof(salt));
    EVP_MD_CTX_free(ctx);
    return ret;
}
