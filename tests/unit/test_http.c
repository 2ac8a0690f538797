/* Unit tests for plugin/common/http.c: loopback detection, Retry-After
 * parsing, URL rules, and the fault handling against a scripted server on
 * 127.0.0.1 (forked child): retries, body cap, truncation, reset, timeout. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/http.h"
#include "common/log.h"

static void test_loopback(void **state)
{
    (void)state;
    assert_true(nk_http_is_loopback("http://127.0.0.1:8200/v1/x"));
    assert_true(nk_http_is_loopback("https://127.8.9.10/"));
    assert_true(nk_http_is_loopback("http://localhost/"));
    assert_true(nk_http_is_loopback("http://LOCALHOST:99"));
    assert_true(nk_http_is_loopback("http://[::1]:8080/"));
    assert_true(nk_http_is_loopback("http://[::ffff:127.0.0.1]/"));
    assert_true(nk_http_is_loopback("http://user:pw@127.0.0.1/"));
    assert_false(nk_http_is_loopback("http://128.0.0.1/"));
    assert_false(nk_http_is_loopback("http://localhost.evil.com/"));
    assert_false(nk_http_is_loopback("http://127.0.0.1.evil.com/"));
    assert_false(nk_http_is_loopback("http://evil.com/127.0.0.1"));
    assert_false(nk_http_is_loopback("http://127.0.0.1@evil.com/"));
    assert_false(nk_http_is_loopback("http://169.254.169.254/"));
    assert_false(nk_http_is_loopback("http://[::2]/"));
    assert_false(nk_http_is_loopback("127.0.0.1"));
    assert_false(nk_http_is_loopback(""));
}

static void test_retry_after(void **state)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT */
    long long t = 784111777;

    (void)state;
    assert_true(nk_http_parse_retry_after("3", t) == 3.0);
    assert_true(nk_http_parse_retry_after(" 120\r\n", t) == 120.0);
    assert_true(nk_http_parse_retry_after("0", t) == 0.0);
    assert_true(nk_http_parse_retry_after("1.5", t) == 1.5);
    assert_true(nk_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t) ==
                0.0);
    assert_true(nk_http_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", t) ==
                10.0);
    assert_true(nk_http_parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", t) ==
                86400.0);
    assert_true(nk_http_parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", t) ==
                0.0);
    assert_true(nk_http_parse_retry_after("-1", t) < 0);
    assert_true(nk_http_parse_retry_after("soon", t) < 0);
    assert_true(nk_http_parse_retry_after("5 s", t) < 0);
    assert_true(nk_http_parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", t) <
                0);
    assert_true(nk_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", t) <
                0);
    assert_true(nk_http_parse_retry_after(NULL, t) < 0);
}

static void expect_url_error(const char *url, int allow_http,
                             enum nk_errcode code, const char *needle)
{
    struct nk_http_req req = {
        .method = "GET", .url = url, .timeout = 1, .allow_http = allow_http};
    struct nk_http_resp resp;
    struct nk_err err = {NK_ERR_NONE, ""};

    assert_int_equal(nk_http_do(&req, "test", &resp, &err), -1);
    assert_int_equal(err.code, code);
    assert_non_null(strstr(err.msg, needle));
}

static void test_url_rules(void **state)
{
    (void)state;
    expect_url_error("http://kms.us-east-1.amazonaws.com/", 0,
                     NK_ERR_VALIDATION, "\"kms.us-east-1.amazonaws.com\"");
    expect_url_error("ftp://127.0.0.1/", 1, NK_ERR_VALIDATION, "only https");
    expect_url_error("file:///etc/passwd", 1, NK_ERR_VALIDATION, "only https");
    expect_url_error("https:///nohost", 0, NK_ERR_VALIDATION, "no host");
}

static void expect_shown(const char *url, const char *want)
{
    char buf[128];

    assert_string_equal(nk_http_url_loggable(url, buf, sizeof(buf)), want);
}

/* What a message or the log may show of a URL: never userinfo or query. */
static void test_url_loggable(void **state)
{
    char small[8];

    (void)state;
    expect_shown("https://vault.example:8200", "https://vault.example:8200");
    expect_shown("https://user:s3cret@127.0.0.1:99/tsa?apikey=k#frag",
                 "https://127.0.0.1:99/tsa");
    expect_shown("http://u:p@ss@host/x", "http://host/x");
    expect_shown("http://host/a@b?x=1", "http://host/a@b");
    expect_shown("http://host?token=t", "http://host");
    expect_shown("user:pw@host/path?q", "host/path");
    /* A "://" inside the query starts no scheme. */
    expect_shown("u:pw@host/p?r=https://x", "host/p");
    expect_shown("ftp://a:b@127.0.0.1/", "ftp://127.0.0.1/");
    expect_shown("https:///nohost", "https:///nohost");
    expect_shown("", "");
    assert_string_equal(
        nk_http_url_loggable("https://a:b@longhost/", small, sizeof(small)),
        "https:/");
    assert_string_equal(nk_http_url_loggable("x", small, 0), "");
}

static void test_url_error_hides_credentials(void **state)
{
    (void)state;
    expect_url_error("ftp://user:s3cret@127.0.0.1/x?key=k2", 1,
                     NK_ERR_VALIDATION, "\"ftp://127.0.0.1/x\"");
    expect_url_error("https://user:s3cret@/x?key=k2", 0, NK_ERR_VALIDATION,
                     "\"https:///x\" has no host");
}

/* ---- a scripted HTTP server in a child process ---- */

static pid_t child;
static int port;
static int faults_final; /* the policy run() uses, for the test that sets it */

static void read_request(int fd)
{
    char buf[8192];
    size_t got = 0;
    ssize_t n;
    char *end, *cl;
    long body = 0;

    for (;;) {
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            return;
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL)
            break;
    }
    cl = strstr(buf, "Content-Length:");
    if (cl != NULL)
        body = strtol(cl + 15, NULL, 10);
    body -= (long)(got - (size_t)(end + 4 - buf));
    while (body > 0) {
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        body -= n;
    }
}

static void serve(int lfd, const char *const *script)
{
    const char *const *s;
    struct linger lg = {1, 0};
    int fd;

    for (s = script; *s != NULL; s++) {
        fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        read_request(fd);
        if (strcmp(*s, "RESET") == 0) {
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        } else if (strcmp(*s, "SLOWRESET") == 0) {
            usleep(350 * 1000);
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        } else if (strcmp(*s, "HANG") == 0) {
            sleep(30);
        } else if (write(fd, *s, strlen(*s)) < 0) {
            _exit(1);
        }
        close(fd);
    }
    _exit(0);
}

/* Starts a server answering successive connections from script. */
static void start(const char *const *script)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(lfd >= 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    port = ntohs(a.sin_port);
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        serve(lfd, script);
    close(lfd);
}

static void stop(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    child = 0;
}

static int run(const char *const *script, int retry, double timeout,
               size_t max_body, struct nk_http_resp *resp, struct nk_err *err)
{
    char url[64];
    static const struct nk_http_header h[] = {
        {"X-Vault-Token", "s.secret"}, {"Content-Type", "application/json"}};
    struct nk_http_req req = {.method = "POST",
                              .url = url,
                              .headers = h,
                              .n_headers = 2,
                              .body = (const unsigned char *)"{}",
                              .body_len = 2,
                              .timeout = timeout,
                              .max_body = max_body};
    struct nk_http_retry pol = {.max_attempts = 3,
                                .base_delay = 0.01,
                                .max_delay = 0.05,
                                .faults_final = faults_final};
    int r;

    start(script);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/x?q=1", port);
    nk_err_clear(err);
    if (retry)
        r = nk_http_do_retry(&req, &pol, "test call", resp, err);
    else
        r = nk_http_do(&req, "test call", resp, err);
    stop();
    return r;
}

#define OK200                                                                  \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"                    \
    "X-Amzn-RequestId: req-42\r\nConnection: close\r\n"                        \
    "Content-Length: 11\r\n\r\n{\"ok\":true}"

static void test_ok(void **state)
{
    static const char *const s[] = {OK200, NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 0, 5, 0, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal((char *)resp.body.data, "{\"ok\":true}");
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.request_id, "req-42");
    assert_true(resp.retry_after < 0);
    nk_http_resp_release(&resp);
}

static void test_retry_429_then_ok(void **state)
{
    static const char *const s[] = {
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        OK200, NULL};
    struct nk_http_resp resp;
    struct nk_err err;
    double t0 = nk_log_now_ms();

    (void)state;
    assert_int_equal(run(s, 1, 5, 0, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    /* Retry-After: 1 was honoured. */
    assert_true(nk_log_now_ms() - t0 >= 1000);
    nk_http_resp_release(&resp);
}

static void test_retry_exhausted(void **state)
{
    static const char *const s[] = {
        "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 429 Slow\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 1, 5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_THROTTLED);
    assert_non_null(strstr(err.msg, "HTTP 429 after 3 attempts"));
}

static void test_retry_after_beyond_budget(void **state)
{
    static const char *const s[] = {
        "HTTP/1.1 429 Slow\r\nRetry-After: 60\r\nConnection: close\r\n"
        "Content-Length: 0\r\n\r\n",
        NULL};
    struct nk_http_resp resp;
    struct nk_err err;
    double t0 = nk_log_now_ms();

    (void)state;
    assert_int_equal(run(s, 1, 2, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_THROTTLED);
    assert_true(nk_log_now_ms() - t0 < 1500);
    /* one attempt, said in good English */
    assert_non_null(strstr(err.msg, "HTTP 429 after 1 attempt in"));
}

static void test_no_retry_on_4xx(void **state)
{
    static const char *const s[] = {
        "HTTP/1.1 403 Forbidden\r\nConnection: close\r\n"
        "Content-Length: 2\r\n\r\n{}",
        NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 1, 5, 0, &resp, &err), 0);
    assert_int_equal(resp.status, 403);
    nk_http_resp_release(&resp);
}

static void test_body_cap(void **state)
{
    static const char *const s[] = {OK200, NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 0, 5, 5, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "exceeds 5 bytes"));
    assert_null(strstr(err.msg, "s.secret"));
}

static void test_truncated(void **state)
{
    static const char *const s[] = {
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n"
        "{\"short\"",
        NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 0, 5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "\"127.0.0.1\""));
}

static void test_reset_then_ok(void **state)
{
    static const char *const s[] = {"RESET", OK200, NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 1, 5, 0, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    nk_http_resp_release(&resp);
}

static void test_reset_no_retry(void **state)
{
    static const char *const s[] = {"RESET", NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 0, 5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "test call"));
}

static void test_timeout(void **state)
{
    static const char *const s[] = {"HANG", NULL};
    struct nk_http_resp resp;
    struct nk_err err;
    double t0 = nk_log_now_ms();

    (void)state;
    assert_int_equal(run(s, 1, 0.5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_TIMEOUT);
    assert_true(nk_log_now_ms() - t0 < 3000);
}

/* A reset that used most of the budget is reported as what it is, not
 * as the TIMEOUT of a last attempt squeezed into what was left. */
static void test_retry_no_sliver(void **state)
{
    static const char *const s[] = {"SLOWRESET", "SLOWRESET", NULL};
    struct nk_http_resp resp;
    struct nk_err err;

    (void)state;
    assert_int_equal(run(s, 1, 0.5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "after 1 attempt: "));
    assert_non_null(strstr(err.msg, "broke off"));
}

/* faults_final (instance metadata): a reset is final, not retried, but an
 * answer asking for another try gets it, after its Retry-After. */
static void test_faults_final(void **state)
{
    static const char *const reset[] = {"RESET", OK200, NULL};
    static const char *const wait[] = {
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: 0\r\n\r\n",
        OK200, NULL};
    struct nk_http_resp resp;
    struct nk_err err;
    double t0;

    (void)state;
    faults_final = 1;
    assert_int_equal(run(reset, 1, 5, 0, &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_null(strstr(err.msg, "attempts"));
    t0 = nk_log_now_ms();
    assert_int_equal(run(wait, 1, 5, 0, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_true(nk_log_now_ms() - t0 >= 1000);
    nk_http_resp_release(&resp);
    faults_final = 0;
}

static void test_refused(void **state)
{
    struct nk_http_req req = {
        .method = "GET", .url = "http://127.0.0.1:1/", .timeout = 2};
    struct nk_http_resp resp;
    struct nk_err err = {NK_ERR_NONE, ""};

    (void)state;
    assert_int_equal(nk_http_do(&req, "probe", &resp, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "cannot connect to \"127.0.0.1\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_url_loggable),
        cmocka_unit_test(test_url_error_hides_credentials),
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_retry_429_then_ok),
        cmocka_unit_test(test_retry_exhausted),
        cmocka_unit_test(test_retry_after_beyond_budget),
        cmocka_unit_test(test_no_retry_on_4xx),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_reset_then_ok),
        cmocka_unit_test(test_reset_no_retry),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_retry_no_sliver),
        cmocka_unit_test(test_faults_final),
        cmocka_unit_test(test_refused),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);

    nk_http_cleanup();
    return r;
}
