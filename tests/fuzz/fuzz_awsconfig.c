/* libFuzzer: the AWS shared config and credentials file reader (INI), for
 * the section and key names the credential chain and the region lookup
 * ask for. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kms/aws_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const asks[][2] = {
        {"default", "region"},
        {"profile dev", "role_arn"},
        {"profile dev", "web_identity_token_file"},
        {"default", "aws_access_key_id"},
        {"dev", "aws_secret_access_key"},
        {"dev", "aws_session_token"},
    };
    size_t i;
    char *text;

    for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
        /* the reader cuts the text up in place: a fresh copy each time */
        text = fx_str(data, size);
        free(nk_aws_ini_value(text, asks[i][0], asks[i][1]));
        free(text);
    }
    return 0;
}
