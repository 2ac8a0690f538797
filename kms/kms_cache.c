/* Key-description cache files: one JSON file per key identity, named by
 * the SHA-256 of the identity, written to a temporary file and renamed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/privdir.h"
#include "kms_cache.h"

#define CACHE_MAX (64u * 1024)
/* What follows the hash in a temp file's name: "<hash>.json.XXXXXX". */
#define TMP_MARK ".json."

int nk_kms_cache_enabled(const struct nk_config *cfg, double *ttl)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    int on = 1;

    if (nk_config_bool(cfg, "cache", 1, &on, &e) != 0 || !on)
        return 0;
    if (nk_config_seconds(cfg, "cache-ttl", 3600, 86400 * 30, ttl, &e) != 0)
        return 0;
    return 1;
}

char *nk_kms_cache_name(const char *ident)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hexs[2 * SHA256_DIGEST_LENGTH + 1];
    size_t i;

    SHA256((const unsigned char *)ident, strlen(ident), md);
    for (i = 0; i < sizeof(md); i++)
        snprintf(hexs + 2 * i, 3, "%02x", md[i]);
    return nk_xasprintf("%s.json", hexs);
}

/* The entry's path, or NULL when there is no usable cache directory. */
static char *entry_path(const char *ident)
{
    char *dir = nk_privdir_user(0, NULL, "key cache"), *name, *p;

    if (dir == NULL)
        return NULL;
    name = nk_kms_cache_name(ident);
    p = nk_xasprintf("%s/%s", dir, name);
    free(name);
    free(dir);
    return p;
}

/* "chain": standard-base64 DER certificates, leaf first (absent: none). */
static int parse_chain(const cJSON *arr, struct nk_kms_cached *out)
{
    const cJSON *c;
    struct nk_err e = {NK_ERR_NONE, ""};
    unsigned char *der;
    const unsigned char *q;
    size_t n;
    X509 *x;

    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return -1;
    out->chain = sk_X509_new_null();
    cJSON_ArrayForEach(c, arr)
    {
        der = NULL;
        if (!cJSON_IsString(c) ||
            nk_b64_decode(c->valuestring, "chain", &der, &n, &e) != 0)
            return -1;
        q = der;
        x = d2i_X509(NULL, &q, (long)n);
        free(der);
        if (x == NULL || !sk_X509_push(out->chain, x)) {
            X509_free(x);
            return -1;
        }
    }
    return 0;
}

static int parse_entry(const cJSON *o, const char *ident, double ttl,
                       struct nk_kms_cached *out)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(o, "pub");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
    const cJSON *who = cJSON_GetObjectItemCaseSensitive(o, "ident");
    struct nk_err e = {NK_ERR_NONE, ""};
    unsigned char *der = NULL;
    const unsigned char *q;
    size_t dlen;
    double now = (double)time(NULL);

    if (!cJSON_IsString(who) || strcmp(who->valuestring, ident) != 0 ||
        !cJSON_IsNumber(t) || t->valuedouble > now + 60 ||
        now - t->valuedouble > ttl || !cJSON_IsString(pub) ||
        !cJSON_IsString(spec))
        return -1;
    out->spec = nk_keyspec_parse(spec->valuestring);
    if (out->spec == NK_KEYSPEC_NONE ||
        nk_b64_decode(pub->valuestring, "pub", &der, &dlen, &e) != 0)
        return -1;
    q = der;
    out->pub = d2i_PUBKEY(NULL, &q, (long)dlen);
    free(der);
    if (out->pub == NULL)
        return -1;
    out->id = cJSON_IsString(id) ? nk_xstrdup(id->valuestring) : NULL;
    out->version = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
    return parse_chain(cJSON_GetObjectItemCaseSensitive(o, "chain"), out);
}

/* ident on one line for the log (its fields are separated by newlines). */
static char *printable(const char *ident)
{
    char *p = nk_xstrdup(ident), *q;

    for (q = p; *q != '\0'; q++)
        if (*q == '\n')
            *q = ' ';
    return p;
}

int nk_kms_cache_load(const char *ident, double ttl, struct nk_kms_cached *out)
{
    char *path = entry_path(ident), *shown;
    struct nk_err e = {NK_ERR_NONE, ""};
    struct nk_buf b;
    cJSON *o = NULL;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    nk_buf_init(&b, CACHE_MAX);
    if (path == NULL || nk_privdir_read(path, &b, &e) != 0)
        goto out;
    o = cJSON_ParseWithLength((const char *)b.data, b.len);
    if (o == NULL || parse_entry(o, ident, ttl, out) != 0) {
        nk_kms_cached_release(out);
        goto out;
    }
    ret = 0;
out:
    shown = printable(ident);
    nk_info("key cache %s for %s", ret == 0 ? "hit" : "miss", shown);
    free(shown);
    cJSON_Delete(o);
    nk_buf_release(&b);
    free(path);
    return ret;
}

static char *entry_json(const char *ident, const struct nk_kms_cached *c)
{
    unsigned char *der = NULL;
    char *pub, *text;
    int n = i2d_PUBKEY(c->pub, &der);
    cJSON *o;

    if (n <= 0)
        return NULL;
    pub = nk_b64_encode(der, (size_t)n);
    OPENSSL_free(der);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ident", ident);
    cJSON_AddStringToObject(o, "spec", nk_keyspec_name(c->spec));
    cJSON_AddStringToObject(o, "pub", pub);
    if (c->id != NULL)
        cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddNumberToObject(o, "version", (double)c->version);
    if (c->chain != NULL)
        cJSON_AddItemToObject(o, "chain", nk_json_cert_array(c->chain));
    cJSON_AddNumberToObject(o, "time", (double)time(NULL));
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(pub);
    return text;
}

void nk_kms_cache_store(const char *ident, const struct nk_kms_cached *c)
{
    char *path = entry_path(ident), *text = NULL;
    struct nk_privdir_part part;
    struct nk_err e = {NK_ERR_NONE, ""};

    if (path == NULL)
        return;
    text = entry_json(ident, c);
    part.p = text;
    part.n = text != NULL ? strlen(text) : 0;
    /* Not fsync'ed: an entry a power loss left torn does not parse and is
     * described again. */
    if (text != NULL && nk_privdir_write(path, TMP_MARK, &part, 1, 0, &e) != 0)
        nk_info("key cache: not stored: %s", e.msg);
    free(text);
    free(path);
}

void nk_kms_cache_drop(const char *ident)
{
    char *path = entry_path(ident), *shown;

    if (path != NULL && unlink(path) == 0) {
        shown = printable(ident);
        nk_info("key cache: dropped entry for %s", shown);
        free(shown);
    }
    free(path);
}

void nk_kms_cached_release(struct nk_kms_cached *c)
{
    EVP_PKEY_free(c->pub);
    free(c->id);
    sk_X509_pop_free(c->chain, X509_free);
    memset(c, 0, sizeof(*c));
}
