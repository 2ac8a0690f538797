/* Tokens from the Azure CLI of a developer machine or a pipeline step
 * that ran "az login": az account get-access-token --output json
 * --resource <resource> [--tenant <AZURE_TENANT_ID>], run without a shell
 * and stopped at the deadline. Its answer carries accessToken and
 * expires_on (Unix time, CLI 2.54 and later) or expiresOn (local time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure_auth.h"
#include "common/child.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"

#define CLI_OUT_MAX (64u * 1024)
#define CLI_ERR_MAX (16u * 1024)

/* expiresOn: "2023-10-31 21:59:10.000000", local time. */
static double local_time(const char *s)
{
    struct tm tm;
    int n = 0;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return (double)mktime(&tm);
}

int nk_azure_cli_answer(const char *out, size_t len, struct nk_azure_token *t,
                        struct nk_err *err)
{
    const char *what = "Azure CLI";
    cJSON *o = cJSON_ParseWithLength(out, len);
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "expires_on");
    const char *tok = nk_kms_jstr(o, "accessToken");
    double now = (double)time(NULL);
    int ret = -1;

    if (tok == NULL || tok[0] == '\0') {
        nk_err_set(err, NK_ERR_GENERIC,
                   "%s: \"az account get-access-token\" "
                   "printed no accessToken",
                   what);
        goto out;
    }
    if (cJSON_IsNumber(on))
        t->expires = on->valuedouble;
    else if (cJSON_IsString(on))
        t->expires = strtod(on->valuestring, NULL);
    else
        t->expires = local_time(nk_kms_jstr(o, "expiresOn"));
    if (t->expires <= now) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "%s: the token printed has no valid "
                   "expiry (expires_on, expiresOn)",
                   what);
        goto out;
    }
    t->value = nk_xstrdup(tok);
    ret = 0;
out:
    nk_json_wipe(o);
    cJSON_Delete(o);
    return ret;
}

/* People need the gist of az's complaint, never the whole output. */
void nk_azure_cli_error(const char *s, char *buf, size_t n)
{
    const char *e = strstr(s, "ERROR:");

    e = e != NULL ? e : s;
    while (*e == ' ' || *e == '\n')
        e++;
    snprintf(buf, n, "%.*s",
             (int)(strcspn(e, "\r\n") < 200 ? strcspn(e, "\r\n") : 200), e);
    nk_json_scrub_utf8(buf);
}

int nk_azure_cli_token(const struct nk_azure_auth *a, struct nk_azure_token *t,
                       char *why, size_t n, struct nk_err *err)
{
    const char *tenant = getenv("AZURE_TENANT_ID");
    const char *argv[10];
    struct nk_child c;
    char line[256];
    int i = 0, ret = -1;

    t->source = "Azure CLI";
    argv[i++] = "az";
    argv[i++] = "account";
    argv[i++] = "get-access-token";
    argv[i++] = "--output";
    argv[i++] = "json";
    argv[i++] = "--resource";
    argv[i++] = a->resource;
    if (tenant != NULL && tenant[0] != '\0') {
        argv[i++] = "--tenant";
        argv[i++] = tenant;
    }
    argv[i] = NULL;
    if (nk_child_run(argv, nk_kms_net_left(a->net), CLI_OUT_MAX, CLI_ERR_MAX,
                     "Azure CLI", &c, err) != 0)
        goto out;
    if (c.not_found) {
        snprintf(why, n, "the Azure CLI (az) is not on PATH");
        ret = 1;
        goto out;
    }
    if (c.status != 0) {
        nk_azure_cli_error((const char *)c.err.data, line, sizeof(line));
        nk_err_set(err, NK_ERR_ACCESS,
                   "Azure CLI: \"az account "
                   "get-access-token\" failed (exit status %d): %s%s",
                   c.status, line,
                   strstr(line, "az login") != NULL ? "" : " (run az login)");
        goto out;
    }
    ret = nk_azure_cli_answer((const char *)c.out.data, c.out.len, t, err);
out:
    nk_child_release(&c);
    return ret;
}
