/* cJSON helpers (see json.h). A NULL from cJSON here can only mean memory
 * ran out, which follows the one policy: nk_oom. */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "json.h"
#include "mem.h"

void nk_json_add_string(cJSON *obj, const char *name, const char *value)
{
    if (cJSON_AddStringToObject(obj, name, value) == NULL)
        nk_oom();
}

cJSON *nk_json_cert_array(STACK_OF(X509) * chain)
{
    cJSON *arr = cJSON_CreateArray();
    unsigned char *der;
    char *b64;
    int i, n;

    if (arr == NULL)
        nk_oom();
    for (i = 0; i < sk_X509_num(chain); i++) {
        der = NULL;
        n = i2d_X509(sk_X509_value(chain, i), &der);
        if (n <= 0)
            nk_oom(); /* a parsed certificate always encodes */
        b64 = nk_b64_encode(der, (size_t)n);
        OPENSSL_free(der);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(b64)))
            nk_oom();
        free(b64);
    }
    return arr;
}

char *nk_json_print(const cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);

    if (s == NULL)
        nk_oom();
    return s;
}

/* The length of the valid UTF-8 sequence at p, or 0: no overlong forms,
 * no surrogates, nothing above U+10FFFF. A NUL ends any sequence. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned long c;
    size_t n, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        c = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        c = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

void nk_json_scrub_utf8(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t n;

    while (*p != '\0') {
        n = utf8_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}

void nk_json_wipe(cJSON *tree)
{
    cJSON *c;

    for (c = tree; c != NULL; c = c->next) {
        if ((cJSON_IsString(c) || cJSON_IsRaw(c)) && c->valuestring != NULL)
            nk_memzero(c->valuestring, strlen(c->valuestring));
        if (c->child != NULL)
            nk_json_wipe(c->child);
    }
}
