/* libFuzzer: Vault and OpenBao answers. Input: one byte choosing the
 * request (Transit key read, Transit sign, KV v2 read, login) and the key
 * spec or version (for a sign also whether it was pinned to the version),
 * one byte choosing the HTTP status, then the body. Runs the answer
 * handling of vault_conn.c (status, "errors") and, for a JSON object, what
 * vault.c reads from it. */
#include <stdlib.h>

#include "common.h"
#include "kms/kms_util.h"
#include "kms/vault_answer.h"
#include "kms/vault_conn.h"

static const enum nk_keyspec specs[] = {NK_RSA_2048, NK_RSA_3072, NK_RSA_4096,
                                        NK_EC_256,   NK_EC_384,   NK_EC_521};
static const long statuses[] = {200, 204, 400, 403, 404, 429, 500, 503};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_http_resp r;
    struct nk_kms_cached key = {0};
    struct nk_err err = {0};
    STACK_OF(X509) *chain = NULL;
    unsigned char *sig = NULL;
    cJSON *out = NULL;
    size_t siglen, kind, sel;
    long ver;

    if (size < 2)
        return 0;
    kind = data[0] & 3;
    sel = (size_t)(data[0] >> 2);
    fx_resp(&r, statuses[data[1] % 8], data + 2, size - 2);
    if (nk_vault_answer("Vault", "fuzz read", &r, &out, &err) != 0)
        goto out;
    if (kind == 0) {
        /* want: latest, or one of the first versions */
        (void)nk_vault_key_answer(out, "Vault", "fuzz", (long)(sel % 4), &key,
                                  &err);
    } else if (kind == 1) {
        /* version 2; the request pinned it (sel < 32) or named none, as
         * for a cached description */
        if (nk_vault_sign_answer(out, "OpenBao sign with \"fuzz\"",
                                 specs[sel % 6], 2, sel < 32, &ver, &sig,
                                 &siglen, &err) == 0)
            free(sig);
    } else if (kind == 2) {
        (void)nk_vault_kv_answer(out, "certificate", "fuzz KV read", &chain,
                                 &err);
    } else {
        /* what a login keeps */
        (void)nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(out, "auth"),
                          "client_token");
    }
out:
    fx_note("%s", err.code != NK_ERR_NONE ? err.msg : "ok");
    sk_X509_pop_free(chain, X509_free);
    nk_kms_cached_release(&key);
    cJSON_Delete(out);
    nk_http_resp_release(&r);
    return 0;
}
