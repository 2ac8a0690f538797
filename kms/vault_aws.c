/* Vault's AWS auth method, iam flavour: what the Vault CLI's
 * `vault login -method=aws` sends, built with our credential chain and
 * SigV4. The request targets the global STS endpoint signed for
 * us-east-1, as the CLI's default does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_creds.h"
#include "aws_sts.h"
#include "common/b64.h"
#include "common/mem.h"
#include "vault_aws.h"

#define STS_URL "https://sts.amazonaws.com/"
#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define STS_REGION "us-east-1"

/* base64 of text, added to o under name. */
static void add_b64(cJSON *o, const char *name, const char *text)
{
    char *b = nk_b64_encode((const unsigned char *)text, strlen(text));

    cJSON_AddStringToObject(o, name, b);
    free(b);
}

/* The signed headers as Vault wants them: a JSON object of name ->
 * [value]. */
static char *headers_json(const struct nk_aws_signed *sg)
{
    cJSON *o = cJSON_CreateObject(), *list;
    char *text;
    size_t i;

    for (i = 0; i < sg->n; i++) {
        list = cJSON_AddArrayToObject(o, sg->h[i].name);
        cJSON_AddItemToArray(list, cJSON_CreateString(sg->h[i].value));
    }
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int nk_vault_aws_login_body(const struct nk_config *cfg,
                            const struct nk_kms_net *net, const char *role,
                            const char *server_id, cJSON **body, char *source,
                            size_t source_len, struct nk_err *err)
{
    struct nk_http_header extra = {"X-Vault-AWS-IAM-Server-ID", server_id};
    struct nk_aws_creds c;
    struct nk_aws_signed sg;
    char *hdrs = NULL;
    int ret = -1;

    *body = NULL;
    memset(&c, 0, sizeof(c));
    memset(&sg, 0, sizeof(sg));
    if (nk_aws_creds_get(cfg, STS_REGION, net, &c, err) != 0) {
        nk_err_prefix(err, "Vault AWS login");
        goto out;
    }
    snprintf(source, source_len, "%s", c.source);
    if (nk_aws_sts_sign(STS_URL, STS_REGION, &c, STS_BODY, &extra,
                        server_id != NULL ? 1 : 0, &sg, err) != 0)
        goto out;
    hdrs = headers_json(&sg);
    *body = cJSON_CreateObject();
    cJSON_AddStringToObject(*body, "role", role);
    cJSON_AddStringToObject(*body, "iam_http_request_method", "POST");
    add_b64(*body, "iam_request_url", STS_URL);
    add_b64(*body, "iam_request_body", STS_BODY);
    add_b64(*body, "iam_request_headers", hdrs);
    ret = 0;
out:
    nk_strfreezero(hdrs);
    nk_sigv4_out_release(&sg.so);
    nk_aws_creds_release(&c);
    return ret;
}
