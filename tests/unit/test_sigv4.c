/* SigV4 against botocore itself (python3-botocore signs a fresh set of
 * requests at test time, tests/lib/sigv4_botocore.py), against every case
 * of the AWS signing test suite in shared/vectors/sigv4 when it is beside
 * the project (canonical request, string to sign, signature and
 * Authorization, header form), and against fixed botocore-made KMS
 * vectors. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/b64.h"
#include "kms/sigv4.h"

static char vecdir[4096];

static char *slurp(const char *dir, const char *name)
{
    char path[8192];
    FILE *f;
    long n;
    char *s;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

struct parsed {
    char method[16];
    char *target;
    struct nk_http_header h[32];
    char *names[32], *values[32];
    size_t n;
    const char *body;
};

/* request.txt: "METHOD TARGET HTTP/1.1", header lines (a line starting
 * with white space continues the previous value), a blank line, body. */
static void parse_request(char *req, struct parsed *p)
{
    char *line = req, *next, *colon, *sp, *old;

    memset(p, 0, sizeof(*p));
    next = strchr(line, '\n');
    assert_non_null(next);
    *next = '\0';
    sp = strchr(line, ' ');
    assert_non_null(sp);
    assert_true((size_t)(sp - line) < sizeof(p->method));
    memcpy(p->method, line, (size_t)(sp - line));
    p->target = strdup(sp + 1);
    *strrchr(p->target, ' ') = '\0'; /* drop " HTTP/1.1" */
    p->body = "";
    for (line = next + 1; *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        else
            next = line + strlen(line);
        if (*line == '\0') {
            p->body = next;
            break;
        }
        if (*line == ' ' || *line == '\t') {
            assert_true(p->n > 0);
            old = p->values[p->n - 1];
            p->values[p->n - 1] = malloc(strlen(old) + strlen(line) + 2);
            sprintf(p->values[p->n - 1], "%s\n%s", old, line);
            free(old);
            continue;
        }
        colon = strchr(line, ':');
        assert_non_null(colon);
        assert_true(p->n < 32);
        p->names[p->n] = strndup(line, (size_t)(colon - line));
        p->values[p->n] = strdup(colon + 1);
        p->n++;
    }
    for (size_t i = 0; i < p->n; i++) {
        p->h[i].name = p->names[i];
        p->h[i].value = p->values[i];
    }
}

static void free_parsed(struct parsed *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->target);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
static void amz(const char *ts, char out[17])
{
    size_t j = 0;

    for (; *ts != '\0' && j < 16; ts++)
        if (*ts != '-' && *ts != ':')
            out[j++] = *ts;
    out[j] = '\0';
}

static void run_vector(void **state)
{
    const char *name = *state;
    char dir[8192], date[17], *want, *line;
    char *ctx_s, *req_s;
    cJSON *ctx, *cred;
    struct parsed req;
    struct nk_sigv4_params p;
    struct nk_sigv4_out out;
    struct nk_err err = {NK_ERR_NONE, ""};

    snprintf(dir, sizeof(dir), "%s/%s", vecdir, name);
    ctx_s = slurp(dir, "context.json");
    req_s = slurp(dir, "request.txt");
    assert_non_null(ctx_s);
    assert_non_null(req_s);
    ctx = cJSON_Parse(ctx_s);
    assert_non_null(ctx);
    cred = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
    amz(jstr(ctx, "timestamp"), date);
    memset(&p, 0, sizeof(p));
    p.access_key = jstr(cred, "access_key_id");
    p.secret_key = jstr(cred, "secret_access_key");
    p.token = jstr(cred, "token");
    p.region = jstr(ctx, "region");
    p.service = jstr(ctx, "service");
    p.amz_date = date;
    p.normalize = jbool(ctx, "normalize");
    p.sign_body = jbool(ctx, "sign_body");
    p.omit_token = jbool(ctx, "omit_session_token");
    parse_request(req_s, &req);

    assert_int_equal(nk_sigv4_sign(&p, req.method, req.target, req.h, req.n,
                                   (const unsigned char *)req.body,
                                   strlen(req.body), &out, &err),
                     0);
    want = slurp(dir, "header-canonical-request.txt");
    assert_non_null(want);
    assert_string_equal(out.creq, want);
    free(want);
    want = slurp(dir, "header-string-to-sign.txt");
    assert_non_null(want);
    assert_string_equal(out.sts, want);
    free(want);
    want = slurp(dir, "header-signature.txt");
    assert_non_null(want);
    assert_string_equal(out.signature, want);
    free(want);
    /* The Authorization line of the signed request. */
    want = slurp(dir, "header-signed-request.txt");
    assert_non_null(want);
    line = strstr(want, "\nAuthorization:");
    assert_non_null(line);
    line += strlen("\nAuthorization:");
    line[strcspn(line, "\r\n")] = '\0';
    assert_string_equal(out.add[out.n_add - 1].name, "Authorization");
    assert_string_equal(out.add[out.n_add - 1].value, line);
    free(want);

    nk_sigv4_out_release(&out);
    free_parsed(&req);
    cJSON_Delete(ctx);
    free(ctx_s);
    free(req_s);
}

/* The botocore-made KMS Sign vectors of kms.md section 4. */
static void kms_vector(const char *token, const char *want)
{
    static const char body[] =
        "{\"KeyId\":\"alias/notation\",\"Message\":\"n4bQgYhMfWWaL+qgxVrQFaO/"
        "TxsrC4Is0V1sFbDwCgg=\",\"MessageType\":\"DIGEST\","
        "\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}";
    const struct nk_http_header h[] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "TrentService.Sign"},
        {"Host", "kms.us-east-1.amazonaws.com"},
    };
    struct nk_sigv4_params p = {.access_key = "AKIDEXAMPLE",
                                .secret_key =
                                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                .token = token,
                                .region = "us-east-1",
                                .service = "kms",
                                .amz_date = "20150830T123600Z",
                                .normalize = 1};
    struct nk_sigv4_out out;
    struct nk_err err = {NK_ERR_NONE, ""};

    assert_int_equal(nk_sigv4_sign(&p, "POST", "/", h, 3,
                                   (const unsigned char *)body, strlen(body),
                                   &out, &err),
                     0);
    assert_non_null(strstr(out.creq, "\n26817012363705d38e1c5a5184b736d45c5b"
                                     "cecad87f5e86292405c2a2cf107c"));
    assert_string_equal(out.signature, want);
    if (token != NULL)
        assert_non_null(strstr(out.add[out.n_add - 1].value,
                               "SignedHeaders=content-type;host;x-amz-date;"
                               "x-amz-security-token;x-amz-target,"));
    nk_sigv4_out_release(&out);
}

static void test_kms_botocore(void **state)
{
    (void)state;
    kms_vector(NULL, "554044e98079de58b17d8ca8d730665284d85c5e4b401815a542"
                     "ca61b753a4d8");
    kms_vector("FQoGZXIvYXdzEXAMPLESESSIONTOKEN",
               "898f1fb290fde7cb07292be2d90c7f40c7e77d68a7a8731bbb1fa38745d0"
               "2eaa");
}

/* One case of sigv4_botocore.py: everything botocore computed must come
 * out of nk_sigv4_sign byte for byte. */
static void botocore_case(const cJSON *c)
{
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(c, "headers"), *h;
    struct nk_http_header hdr[8];
    struct nk_sigv4_params p = {0};
    struct nk_sigv4_out out;
    struct nk_err err = {NK_ERR_NONE, ""};
    unsigned char *body = NULL;
    size_t n = 0, blen = 0;

    cJSON_ArrayForEach(h, hs)
    {
        assert_true(n < 8);
        hdr[n].name = cJSON_GetArrayItem(h, 0)->valuestring;
        hdr[n].value = cJSON_GetArrayItem(h, 1)->valuestring;
        n++;
    }
    assert_int_equal(nk_b64_decode(jstr(c, "body"), "body", &body, &blen, &err),
                     0);
    p.access_key = jstr(c, "access_key");
    p.secret_key = jstr(c, "secret_key");
    p.token = jstr(c, "token");
    p.region = jstr(c, "region");
    p.service = jstr(c, "service");
    p.amz_date = jstr(c, "amz_date");
    p.normalize = 1;
    assert_int_equal(nk_sigv4_sign(&p, jstr(c, "method"), jstr(c, "target"),
                                   hdr, n, body, blen, &out, &err),
                     0);
    assert_string_equal(out.creq, jstr(c, "creq"));
    assert_string_equal(out.sts, jstr(c, "sts"));
    assert_string_equal(out.signature, jstr(c, "signature"));
    assert_string_equal(out.add[out.n_add - 1].name, "Authorization");
    assert_string_equal(out.add[out.n_add - 1].value, jstr(c, "authorization"));
    nk_sigv4_out_release(&out);
    free(body);
}

/* Requests signed by botocore now, with a seed printed for a rerun
 * (NK_SIGV4_SEED). A missing python3-botocore is a failure, not a skip:
 * it is a Debian package the suite installs. */
static void test_botocore_live(void **state)
{
    const char *root = getenv("NK_ROOT"), *env = getenv("NK_SIGV4_SEED");
    unsigned long seed = env != NULL ? strtoul(env, NULL, 10)
                                     : (unsigned long)time(NULL) % 100000;
    char cmd[4200], *json = NULL;
    size_t len = 0, cap = 0, r;
    const cJSON *c;
    cJSON *cases;
    FILE *f;
    int count = 0;

    (void)state;
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/tests/lib/sigv4_botocore.py %lu",
             root != NULL ? root : ".", seed);
    print_message("botocore seed %lu (rerun with NK_SIGV4_SEED=%lu)\n", seed,
                  seed);
    f = popen(cmd, "r");
    assert_non_null(f);
    do {
        if (len + 4096 > cap) {
            cap = cap * 2 + 8192;
            json = realloc(json, cap + 1);
            assert_non_null(json);
        }
        r = fread(json + len, 1, cap - len, f);
        len += r;
    } while (r > 0);
    assert_int_equal(pclose(f), 0);
    json[len] = '\0';
    cases = cJSON_Parse(json);
    assert_non_null(cases);
    cJSON_ArrayForEach(c, cases)
    {
        botocore_case(c);
        count++;
    }
    assert_true(count >= 20);
    cJSON_Delete(cases);
    free(json);
}

static void test_amz_date(void **state)
{
    char buf[17];

    (void)state;
    nk_sigv4_amz_date(1440938160LL, buf);
    assert_string_equal(buf, "20150830T123600Z");
}

static int find_vectors(void)
{
    const char *env = getenv("NK_SIGV4_VECTORS"), *root = getenv("NK_ROOT");
    const char *cands[3] = {env, NULL, "../shared/vectors/sigv4"};
    char buf[4096];
    struct stat st;
    int i;

    if (root != NULL) {
        snprintf(buf, sizeof(buf), "%s/../shared/vectors/sigv4", root);
        cands[1] = buf;
    }
    for (i = 0; i < 3; i++) {
        if (cands[i] != NULL && stat(cands[i], &st) == 0 &&
            S_ISDIR(st.st_mode)) {
            snprintf(vecdir, sizeof(vecdir), "%s", cands[i]);
            return 0;
        }
    }
    return -1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    struct CMUnitTest tests[128];
    char *names[128];
    size_t n = 0, nv = 0, i;
    struct dirent *de;
    DIR *d;
    int r;

    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_kms_botocore);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_amz_date);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_botocore_live);
    if (find_vectors() != 0) {
        /* Not silent: tests/run.sh counts this line as a skipped check. */
        printf("SKIP sigv4 test suite: ../shared/vectors/sigv4 is not beside "
               "the project (set NK_SIGV4_VECTORS)\n");
        return _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);
    }
    d = opendir(vecdir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL && nv < 100) {
        if (de->d_name[0] == '.')
            continue;
        names[nv++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nv, sizeof(names[0]), cmp_names);
    for (i = 0; i < nv; i++) {
        tests[n].name = names[i];
        tests[n].test_func = run_vector;
        tests[n].setup_func = NULL;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = names[i];
        n++;
    }
    if (nv < 38)
        fprintf(stderr, "warning: only %zu sigv4 vectors found\n", nv);
    r = _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);
    for (i = 0; i < nv; i++)
        free(names[i]);
    return r;
}
