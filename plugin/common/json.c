/* cJSON helpers (see json.h). A NULL from cJSON here can only mean memory
 * ran out, which follows the one policy: nk_oom. */
#include <stdlib.h>

#include "b64.h"
#include "json.h"
#include "mem.h"

void nk_json_add_string(cJSON *obj, const char *name, const char *value)
{
    if (cJSON_AddStringToObject(obj, name, value) == NULL)
        nk_oom();
}

cJSON *nk_json_cert_array(STACK_OF(X509) *chain)
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
