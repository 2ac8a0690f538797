/* Output helpers of the companion commands: usage errors, failures, JSON
 * documents and the pass/fail check report of doctor and verify. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/mem.h"

int nk_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "notation-keystore %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun \"notation-keystore %s --help\" for usage.\n", cmd);
    return NK_CLI_USAGE;
}

int nk_cli_fail(const char *cmd, int json, const struct nk_err *err)
{
    cJSON *doc, *e;

    fprintf(stderr, "notation-keystore %s: %s\n", cmd, err->msg);
    if (json) {
        doc = cJSON_CreateObject();
        e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", nk_errcode_name(err->code));
        cJSON_AddStringToObject(e, "message", err->msg);
        nk_cli_print_json(doc);
    }
    return NK_CLI_FAIL;
}

void nk_cli_print_json(cJSON *doc)
{
    char *text = cJSON_Print(doc);

    if (text != NULL) {
        nk_json_scrub_utf8(text);
        fputs(text, stdout);
        fputc('\n', stdout);
    }
    free(text);
    cJSON_Delete(doc);
}

static const char *status_word(enum nk_check_status st, int upper)
{
    static const char *const lo[] = {"pass", "fail", "warn", "skip"};
    static const char *const up[] = {"PASS", "FAIL", "WARN", "SKIP"};

    return upper ? up[st] : lo[st];
}

void nk_report_init(struct nk_report *r, int json)
{
    r->json = json;
    r->failed = 0;
    r->checks = json ? cJSON_CreateArray() : NULL;
}

void nk_report_add(struct nk_report *r, enum nk_check_status st,
                   const char *name, const char *detail, const char *fix)
{
    cJSON *c;

    if (st == NK_CHECK_FAIL)
        r->failed++;
    if (!r->json) {
        printf("%-4s  %-22s %s\n", status_word(st, 1), name,
               detail != NULL ? detail : "");
        if (st == NK_CHECK_FAIL && fix != NULL)
            printf("      %-22s fix: %s\n", "", fix);
        return;
    }
    c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "check", name);
    cJSON_AddStringToObject(c, "status", status_word(st, 0));
    if (detail != NULL)
        cJSON_AddStringToObject(c, "detail", detail);
    if (st == NK_CHECK_FAIL && fix != NULL)
        cJSON_AddStringToObject(c, "fix", fix);
    cJSON_AddItemToArray(r->checks, c);
}

int nk_report_finish(struct nk_report *r, cJSON *extra)
{
    cJSON *doc, *it;
    int rc = r->failed > 0 ? NK_CLI_FAIL : NK_CLI_OK;

    if (!r->json) {
        if (r->failed > 0)
            printf("\n%d check%s failed\n", r->failed,
                   r->failed == 1 ? "" : "s");
        else
            printf("\nall checks passed\n");
        cJSON_Delete(extra);
        return rc;
    }
    doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "ok", r->failed == 0);
    while (extra != NULL && extra->child != NULL) {
        it = cJSON_DetachItemViaPointer(extra, extra->child);
        cJSON_AddItemToObject(doc, it->string, it);
    }
    cJSON_Delete(extra);
    cJSON_AddItemToObject(doc, "checks", r->checks);
    r->checks = NULL;
    nk_cli_print_json(doc);
    return rc;
}
