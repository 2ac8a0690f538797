/* libFuzzer: credentials the Azure and Google backends read from the
 * machine, not from a service's answer. Input: one byte choosing the
 * reader (modulo 3), then the bytes:
 *   0 a Google ADC credentials file (nk_gcp_adc_plan on the JSON object:
 *     service_account, authorized_user, external_account and
 *     impersonated_service_account with its source_credentials), up to the
 *     first NUL byte; the bytes after it are what every file the
 *     credentials name reads as (an external_account's subject token
 *     file), served by tests/fuzz/common.c instead of the file system
 *   1 what "az account get-access-token --output json" printed on stdout
 *     (nk_azure_cli_answer)
 *   2 what az printed on stderr (nk_azure_cli_error) */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "kms/azure_auth.h"
#include "kms/gcp_creds.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void adc(const uint8_t *data, size_t size, struct nk_err *err)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    cJSON *f = cJSON_ParseWithLength((const char *)data, n);
    char *ident = NULL, source[240];

    if (nul != NULL)
        fx_files(nul + 1, size - n - 1);
    else
        fx_files((const uint8_t *)"", 0);
    /* as gcp_creds.c reads the file: a JSON object or nothing */
    if (cJSON_IsObject(f) && nk_gcp_adc_plan(f, "fuzz ADC file", &ident, source,
                                             sizeof source, err) == 0)
        fx_note("%s", source);
    fx_files(NULL, 0);
    free(ident);
    cJSON_Delete(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_err err = {0};
    struct nk_azure_token t = {0};
    char *s, line[256];
    int kind;

    if (size < 1)
        return 0;
    kind = data[0] % 3;
    data++;
    size--;
    s = fx_str(data, size);
    if (kind == 0) {
        adc(data, size, &err);
    } else if (kind == 1) {
        if (nk_azure_cli_answer(s, size, &t, &err) == 0)
            nk_azure_token_release(&t);
    } else {
        nk_azure_cli_error(s, line, sizeof line);
        fx_note("%s", line);
    }
    fx_note("%s", err.code != NK_ERR_NONE ? err.msg : "ok");
    free(s);
    return 0;
}
