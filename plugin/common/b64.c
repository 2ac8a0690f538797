/* Base64 codecs written for strictness: the plugin must reject what Go's
 * decoders reject and produce what they accept. */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "mem.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const unsigned char *p, size_t n, const char *alpha,
                    int pad)
{
    char *out = nk_xmalloc((n + 2) / 3 * 4 + 1);
    size_t i, o = 0;
    unsigned v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        v = (unsigned)p[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

char *nk_b64_encode(const unsigned char *p, size_t n)
{
    return encode(p, n, std_alpha, 1);
}

char *nk_b64url_encode(const unsigned char *p, size_t n)
{
    return encode(p, n, url_alpha, 0);
}

static int value_of(const char *alpha, char c)
{
    const char *hit;

    if (c == '\0')
        return -1;
    hit = strchr(alpha, c);
    return hit ? (int)(hit - alpha) : -1;
}

static int decode(const char *s, const char *alpha, int padded,
                  const char *what, unsigned char **out, size_t *outlen,
                  struct nk_err *err)
{
    size_t len = strlen(s), data = len, i, o = 0;
    unsigned char *res;
    unsigned acc = 0;
    int bits = 0, v;

    *out = NULL;
    *outlen = 0;
    if (padded) {
        if (len % 4 != 0)
            goto bad;
        while (data > 0 && len - data < 2 && s[data - 1] == '=')
            data--;
    } else if (len % 4 == 1) {
        goto bad;
    }
    res = nk_xmalloc(data / 4 * 3 + 3);
    for (i = 0; i < data; i++) {
        v = value_of(alpha, s[i]);
        if (v < 0) {
            free(res);
            goto bad;
        }
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            res[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero (canonical encoding, as Go requires). */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        free(res);
        goto bad;
    }
    res[o] = '\0';
    *out = res;
    *outlen = o;
    return 0;
bad:
    return nk_err_set(err, NK_ERR_VALIDATION, "\"%s\" is not valid %s base64",
                      what, padded ? "standard padded" : "unpadded base64url");
}

int nk_b64_decode(const char *s, const char *what, unsigned char **out,
                  size_t *outlen, struct nk_err *err)
{
    return decode(s, std_alpha, 1, what, out, outlen, err);
}

int nk_b64url_decode(const char *s, const char *what, unsigned char **out,
                     size_t *outlen, struct nk_err *err)
{
    return decode(s, url_alpha, 0, what, out, outlen, err);
}
