/* The access-token cache (see token_cache.h): one JSON file per token
 * identity, named by the SHA-256 of the identity, in the user's private
 * runtime or cache directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/privdir.h"
#include "token_cache.h"

#define TOKEN_MAX (64u * 1024) /* a JWT access token is a few KiB */
#define TMP_MARK ".json."

int nk_token_cache_enabled(const struct nk_config *cfg)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    int on = 1;

    return nk_config_bool(cfg, "token-cache", 1, &on, &e) == 0 && on;
}

/* <dir>/<sha256 hex of ident>.json, or NULL when no private directory. */
static char *entry_path(const char *ident, char *hash12)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hexs[2 * SHA256_DIGEST_LENGTH + 1], *dir, *p;
    size_t i;

    SHA256((const unsigned char *)ident, strlen(ident), md);
    for (i = 0; i < sizeof(md); i++)
        snprintf(hexs + 2 * i, 3, "%02x", md[i]);
    snprintf(hash12, 13, "%.12s", hexs);
    dir = nk_privdir_user(1, "tokens", "token cache");
    if (dir == NULL)
        return NULL;
    p = nk_xasprintf("%s/%s.json", dir, hexs);
    free(dir);
    return p;
}

int nk_token_cache_get(const char *ident, double margin, char **token,
                       double *expires)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    char hash[13], *path = entry_path(ident, hash);
    const cJSON *who, *tok, *exp;
    struct nk_buf b;
    cJSON *o = NULL;
    int ret = -1;

    *token = NULL;
    *expires = 0;
    nk_buf_init(&b, TOKEN_MAX);
    if (path == NULL || nk_privdir_read_secret(path, &b, &e) != 0)
        goto out;
    o = cJSON_ParseWithLength((const char *)b.data, b.len);
    who = cJSON_GetObjectItemCaseSensitive(o, "ident");
    tok = cJSON_GetObjectItemCaseSensitive(o, "token");
    exp = cJSON_GetObjectItemCaseSensitive(o, "expires");
    if (!cJSON_IsString(who) || strcmp(who->valuestring, ident) != 0 ||
        !cJSON_IsString(tok) || tok->valuestring[0] == '\0' ||
        !cJSON_IsNumber(exp) || exp->valuedouble < time(NULL) + margin)
        goto out;
    *token = nk_xstrdup(tok->valuestring);
    *expires = exp->valuedouble;
    ret = 0;
out:
    nk_debug("token cache %s: %s", hash, ret == 0 ? "hit" : "miss");
    nk_json_wipe(o);
    cJSON_Delete(o);
    nk_memzero(b.data, b.len);
    nk_buf_release(&b);
    free(path);
    return ret;
}

void nk_token_cache_put(const char *ident, const char *token, double expires)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    char hash[13], *path = entry_path(ident, hash), *text;
    struct nk_privdir_part part;
    cJSON *o;

    if (path == NULL)
        return;
    o = cJSON_CreateObject();
    nk_json_add_string(o, "ident", ident);
    nk_json_add_string(o, "token", token);
    cJSON_AddNumberToObject(o, "expires", expires);
    text = nk_json_print(o);
    part.p = text;
    part.n = strlen(text);
    if (nk_privdir_write(path, TMP_MARK, &part, 1, 0, &e) != 0)
        nk_info("token cache %s: not stored: %s", hash, e.msg);
    else
        nk_debug("token cache %s: stored", hash);
    nk_memzero(text, part.n);
    cJSON_free(text);
    nk_json_wipe(o);
    cJSON_Delete(o);
    free(path);
}

void nk_token_cache_drop(const char *ident)
{
    char hash[13], *path = entry_path(ident, hash);

    if (path != NULL && unlink(path) == 0)
        nk_info("token cache %s: dropped", hash);
    free(path);
}
