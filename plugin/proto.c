/* Request parsing and validation, response helpers, the error JSON. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/b64.h"
#include "common/mem.h"
#include "proto.h"

static int read_config(const cJSON *pc, struct nk_config *cfg,
                       struct nk_err *err)
{
    const cJSON *item;

    if (pc == NULL || cJSON_IsNull(pc))
        return 0;
    if (!cJSON_IsObject(pc))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"pluginConfig\" must be an object of strings");
    cJSON_ArrayForEach(item, pc)
    {
        if (!cJSON_IsString(item) || item->string == NULL)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "pluginConfig \"%s\" must be a string",
                              item->string ? item->string : "");
        nk_config_set(cfg, item->string, item->valuestring);
    }
    return 0;
}

int nk_proto_parse(const char *data, size_t len, struct nk_request *req,
                   struct nk_err *err)
{
    req->json = NULL;
    nk_config_init(&req->cfg);
    if (len == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "empty request: expected a JSON object on stdin");
    req->json = cJSON_ParseWithLength(data, len);
    if (req->json == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION, "input is not valid JSON");
    if (!cJSON_IsObject(req->json))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "input must be a JSON object");
    return read_config(
        cJSON_GetObjectItemCaseSensitive(req->json, "pluginConfig"), &req->cfg,
        err);
}

int nk_proto_contract(const struct nk_request *req, struct nk_err *err)
{
    const char *v = NULL;

    if (nk_proto_string(req->json, "contractVersion", &v, err) != 0)
        return -1;
    if (strcmp(v, "1.0") != 0)
        return nk_err_set(err, NK_ERR_CONTRACT,
                          "\"%.64s\" is not a supported notary plugin "
                          "contract version (supported: 1.0)",
                          v);
    return 0;
}

int nk_proto_opt_string(const cJSON *obj, const char *field, const char **out,
                        struct nk_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return nk_err_set(err, NK_ERR_VALIDATION, "\"%s\" must be a string",
                          field);
    *out = v->valuestring;
    return 0;
}

int nk_proto_string(const cJSON *obj, const char *field, const char **out,
                    struct nk_err *err)
{
    if (nk_proto_opt_string(obj, field, out, err) != 0)
        return -1;
    if (*out == NULL || (*out)[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" is required and cannot be empty", field);
    return 0;
}

int nk_proto_bytes(const cJSON *obj, const char *field, unsigned char **out,
                   size_t *len, struct nk_err *err)
{
    const char *s = NULL;

    *out = NULL;
    *len = 0;
    if (nk_proto_string(obj, field, &s, err) != 0)
        return -1;
    return nk_b64_decode(s, field, out, len, err);
}

char *nk_proto_error_json(const struct nk_err *err)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    nk_json_add_string(o, "errorCode", nk_errcode_name(err->code));
    nk_json_add_string(o, "errorMessage",
                       err->msg[0] ? err->msg : "unknown error");
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s != NULL)
        nk_json_scrub_utf8(s);
    return s;
}

int nk_proto_take_key_id(const struct nk_request *req, struct nk_mask *id,
                         struct nk_err *err)
{
    const char *v = NULL;
    cJSON *item;

    nk_mask_init(id, NULL);
    if (nk_proto_string(req->json, "keyId", &v, err) != 0)
        return -1;
    nk_mask_init(id, nk_xstrdup(v));
    item = cJSON_GetObjectItemCaseSensitive(req->json, "keyId");
    nk_memzero(item->valuestring, strlen(item->valuestring));
    return 0;
}

char *nk_proto_print(cJSON *tree)
{
    size_t size = 4096;
    char *buf = nk_xmalloc(size);

    /* cJSON's own printer grows its buffer with realloc, leaving unwiped
     * copies of the text (a key id ...) in freed memory. */
    while (!cJSON_PrintPreallocated(tree, buf, (int)size, 0)) {
        nk_freezero(buf, size);
        if (size > NK_MAX_REQUEST * 8)
            return NULL;
        size *= 2;
        buf = nk_xmalloc(size);
    }
    nk_json_scrub_utf8(buf);
    return buf;
}

void nk_request_release(struct nk_request *req)
{
    nk_json_wipe(req->json);
    cJSON_Delete(req->json);
    req->json = NULL;
    nk_config_release(&req->cfg);
}
