/* The notary payload: {"targetArtifact": <OCI descriptor>}. Checked so a
 * bad request fails here with a clear message rather than in notation
 * after the key has signed it. */
#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "payload.h"

#define WHAT "payload: "

static const char *const descriptor_members[] = {
    "mediaType",   "digest", "size",     "urls",
    "annotations", "data",   "platform", "artifactType",
};

/* Every member of o is in allowed[] and appears once. */
static int check_members(const cJSON *o, const char *where,
                         const char *const *allowed, size_t n,
                         struct nk_err *err)
{
    const cJSON *c, *d;
    size_t i;

    for (c = o->child; c != NULL; c = c->next) {
        for (i = 0; i < n && strcmp(c->string, allowed[i]) != 0; i++)
            ;
        if (i == n)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              WHAT "unknown member \"%.64s\" in %s", c->string,
                              where);
        for (d = c->next; d != NULL; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  WHAT "duplicate member \"%.64s\" in %s",
                                  c->string, where);
    }
    return 0;
}

/* RFC 6838 type "/" subtype, restricted-name characters. */
static int is_media_type(const char *s)
{
    size_t i, slash = 0, n = strlen(s);

    if (n == 0 || n > 255)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (slash != 0 || i == 0 || i + 1 == n)
                return 0;
            slash = i;
        } else if (!isalnum((unsigned char)s[i]) &&
                   strchr("!#$&-^_.+", s[i]) == NULL) {
            return 0;
        }
    }
    return slash != 0;
}

/* "<alg>:<lowercase hex>" with a digest algorithm notation knows. */
static int is_digest(const char *s)
{
    static const struct {
        const char *alg;
        size_t hex;
    } algs[] = {
        {"sha256:", 64},
        {"sha384:", 96},
        {"sha512:", 128},
    };
    size_t i, j, k;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        k = strlen(algs[i].alg);
        if (strncmp(s, algs[i].alg, k) != 0)
            continue;
        if (strlen(s + k) != algs[i].hex)
            return 0;
        for (j = k; s[j] != '\0'; j++)
            if (!isdigit((unsigned char)s[j]) && (s[j] < 'a' || s[j] > 'f'))
                return 0;
        return 1;
    }
    return 0;
}

static int check_optional(const cJSON *ta, struct nk_err *err)
{
    const cJSON *c;

    c = cJSON_GetObjectItemCaseSensitive(ta, "annotations");
    if (c != NULL) {
        const cJSON *a;

        if (!cJSON_IsObject(c))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              WHAT "targetArtifact \"annotations\" must be "
                                   "an object of strings");
        for (a = c->child; a != NULL; a = a->next)
            if (!cJSON_IsString(a))
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  WHAT "annotation \"%.64s\" is not a string",
                                  a->string);
    }
    c = cJSON_GetObjectItemCaseSensitive(ta, "urls");
    if (c != NULL && !cJSON_IsArray(c))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"urls\" must be an array");
    c = cJSON_GetObjectItemCaseSensitive(ta, "artifactType");
    if (c != NULL && !(cJSON_IsString(c) && is_media_type(c->valuestring)))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"artifactType\" is not a "
                               "media type");
    c = cJSON_GetObjectItemCaseSensitive(ta, "data");
    if (c != NULL && !cJSON_IsString(c))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"data\" must be a string");
    c = cJSON_GetObjectItemCaseSensitive(ta, "platform");
    if (c != NULL && !cJSON_IsObject(c))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"platform\" must be an "
                               "object");
    return 0;
}

static int check_descriptor(const cJSON *ta, struct nk_err *err)
{
    const cJSON *mt, *dg, *sz;
    size_t n = sizeof(descriptor_members) / sizeof(descriptor_members[0]);

    if (!cJSON_IsObject(ta))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "\"targetArtifact\" must be an object");
    if (check_members(ta, "targetArtifact", descriptor_members, n, err) != 0)
        return -1;
    mt = cJSON_GetObjectItemCaseSensitive(ta, "mediaType");
    dg = cJSON_GetObjectItemCaseSensitive(ta, "digest");
    sz = cJSON_GetObjectItemCaseSensitive(ta, "size");
    if (!cJSON_IsString(mt) || !is_media_type(mt->valuestring))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"mediaType\" is missing or "
                               "not a media type");
    if (!cJSON_IsString(dg) || !is_digest(dg->valuestring))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"digest\" is missing or not "
                               "\"sha256:\", \"sha384:\" or \"sha512:\" "
                               "and lowercase hex of the right length");
    /* Below 2^53 so the double cJSON keeps is exact. */
    if (!cJSON_IsNumber(sz) || sz->valuedouble < 0 ||
        sz->valuedouble > 9007199254740991.0 ||
        (double)(long long)sz->valuedouble != sz->valuedouble)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          WHAT "targetArtifact \"size\" is missing or not a "
                               "non-negative integer");
    return check_optional(ta, err);
}

int nk_payload_check(const unsigned char *p, size_t n, struct nk_err *err)
{
    static const char *const top[] = {"targetArtifact"};
    cJSON *root = cJSON_ParseWithLength((const char *)p, n);
    const cJSON *ta;
    int ret = -1;

    if (root == NULL || !cJSON_IsObject(root)) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   WHAT "not a JSON object (a notary payload "
                        "{\"targetArtifact\":{...}} was expected)");
        goto out;
    }
    if (check_members(root, "the payload", top, 1, err) != 0)
        goto out;
    ta = cJSON_GetObjectItemCaseSensitive(root, "targetArtifact");
    if (ta == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   WHAT "no \"targetArtifact\": not a notary payload");
        goto out;
    }
    if (check_descriptor(ta, err) != 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(root);
    return ret;
}
