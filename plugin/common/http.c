/* The one HTTP(S) layer over libcurl, which is dlopen'ed on the first
 * request so that commands that never talk HTTP never load it. Enforces the
 * TLS, scheme, proxy, timeout and size rules of http.h, and retries. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Types and constants only: every call goes through the pointers below. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "mem.h"

#ifndef NK_VERSION
#define NK_VERSION "0"
#endif

#define DEFAULT_MAX_BODY (1024u * 1024)
#define MAX_HOST 256

/* The few libcurl entry points we use, resolved with dlsym. */
static struct {
    void *lib;
    CURL *easy; /* kept across requests so connections are reused */
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} cu;

/* Per-request state handed to the libcurl callbacks. */
struct xfer {
    struct nk_http_resp *resp;
    int too_big;
};

static int load_curl(struct nk_err *err)
{
    void *lib;

    if (cu.easy != NULL)
        return 0;
    if (cu.lib == NULL) {
        lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "cannot load \"libcurl.so.4\" (install "
                              "libcurl4): %s",
                              dlerror());
            /* POSIX allows the object-to-function pointer cast for dlsym. */
#define SYM(field, name)                                                       \
    *(void **)(&cu.field) = dlsym(lib, name);                                  \
    if (cu.field == NULL)                                                      \
        goto bad;
        SYM(global_init, "curl_global_init");
        SYM(easy_init, "curl_easy_init");
        SYM(easy_reset, "curl_easy_reset");
        SYM(easy_setopt, "curl_easy_setopt");
        SYM(easy_perform, "curl_easy_perform");
        SYM(easy_getinfo, "curl_easy_getinfo");
        SYM(easy_cleanup, "curl_easy_cleanup");
        SYM(easy_strerror, "curl_easy_strerror");
        SYM(slist_append, "curl_slist_append");
        SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
        if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            goto bad;
        cu.lib = lib;
    }
    cu.easy = cu.easy_init();
    if (cu.easy == NULL)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot start libcurl");
    return 0;
bad:
    dlclose(lib);
    memset(&cu, 0, sizeof(cu));
    return nk_err_set(err, NK_ERR_GENERIC,
                      "\"libcurl.so.4\" lacks the functions needed (need "
                      "libcurl 7.85 or later)");
}

void nk_http_cleanup(void)
{
    if (cu.easy != NULL)
        cu.easy_cleanup(cu.easy);
    cu.easy = NULL;
}

/* Copies the host (no port, no brackets) of url into host; "" if none. */
static void url_host(const char *url, char *host, size_t n)
{
    const char *p = strstr(url, "://"), *end, *at;
    size_t len;

    host[0] = '\0';
    if (p == NULL)
        return;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL)
        p = at + 1;
    if (*p == '[') {
        p++;
        end = memchr(p, ']', (size_t)(end - p));
        if (end == NULL)
            return;
    } else {
        at = memchr(p, ':', (size_t)(end - p));
        if (at != NULL)
            end = at;
    }
    len = (size_t)(end - p);
    if (len >= n)
        return;
    memcpy(host, p, len);
    host[len] = '\0';
}

const char *nk_http_url_loggable(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://"), *host, *hend, *q;
    size_t skip = 0;

    if (n == 0)
        return "";
    /* Only a "://" before the first '/', '?' or '#' ends a scheme: a
     * query may hold another URL. */
    if (p != NULL && (size_t)(p - url) < strcspn(url, "/?#"))
        skip = (size_t)(p + 3 - url);
    host = url + skip;
    hend = host + strcspn(host, "/?#");
    /* The last '@' of the authority ends the userinfo, as in curl. */
    for (q = host; q < hend; q++)
        if (*q == '@')
            host = q + 1;
    snprintf(out, n, "%.*s%.*s", (int)skip, url, (int)strcspn(host, "?#"),
             host);
    return out;
}

int nk_http_is_loopback(const char *url)
{
    char host[MAX_HOST];
    unsigned char a[16];

    url_host(url, host, sizeof(host));
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char lo6[16] = {[15] = 1};
        static const unsigned char v4m[12] = {[10] = 0xff, [11] = 0xff};

        if (memcmp(a, lo6, 16) == 0)
            return 1;
        return memcmp(a, v4m, 12) == 0 && a[12] == 127;
    }
    return 0;
}

/* Scheme and host rules; *plain is set for http:// URLs. */
static int check_url(const struct nk_http_req *req, const char *host,
                     int *plain, struct nk_err *err)
{
    char shown[256];

    *plain = 0;
    nk_http_url_loggable(req->url, shown, sizeof(shown));
    if (strncasecmp(req->url, "https://", 8) == 0) {
        /* fine */
    } else if (strncasecmp(req->url, "http://", 7) == 0) {
        if (!req->allow_http && !nk_http_is_loopback(req->url))
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "plain http is allowed only for loopback "
                              "addresses, not \"%s\"; use https",
                              host);
        *plain = 1;
    } else {
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "unsupported URL \"%s\": only https:// is "
                          "allowed",
                          shown);
    }
    if (host[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION, "URL \"%s\" has no host",
                          shown);
    if (req->timeout <= 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "no timeout set for the request to \"%s\"", host);
    if (req->ca_bundle != NULL && access(req->ca_bundle, R_OK) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot read CA bundle \"%s\": %s", req->ca_bundle,
                          strerror(errno));
    if (req->client_cert != NULL && access(req->client_cert, R_OK) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot read client certificate \"%s\": %s",
                          req->client_cert, strerror(errno));
    if (req->client_key != NULL && access(req->client_key, R_OK) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot read client key \"%s\": %s", req->client_key,
                          strerror(errno));
    return 0;
}

static int month_of(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p;

    for (p = names; *p != '\0'; p += 3)
        if (strncmp(p, m, 3) == 0)
            return (int)((p - names) / 3);
    return -1;
}

double nk_http_parse_retry_after(const char *v, long long now)
{
    char wday[4], mon[4], zone[4];
    struct tm tm;
    char *end;
    double d;
    time_t t;

    if (v == NULL)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        errno = 0;
        d = strtod(v, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (errno != 0 || *end != '\0' || d < 0 || d > 86400.0 * 365)
            return -1;
        return d;
    }
    /* IMF-fixdate, the only date form senders may use (RFC 9110 5.6.7). */
    memset(&tm, 0, sizeof(tm));
    if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wday, &tm.tm_mday, mon,
               &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone) != 8)
        return -1;
    tm.tm_mon = month_of(mon);
    if (tm.tm_mon < 0 || strcmp(zone, "GMT") != 0 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return t > now ? (double)(t - now) : 0.0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    struct nk_buf *b = &x->resp->body;
    struct nk_err e = {NK_ERR_NONE, ""};
    size_t n = size * nmemb;

    if (nk_buf_append(b, p, n, &e) != 0) {
        x->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static int is_request_id(const char *name, size_t n)
{
    static const char *const ids[] = {
        "x-amzn-requestid",   "x-amz-request-id", "x-request-id",
        "x-vault-request-id", "x-ms-request-id",  "x-goog-request-id",
    };
    size_t i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (strlen(ids[i]) == n && strncasecmp(name, ids[i], n) == 0)
            return 1;
    return 0;
}

/* Keeps a header value (trimmed, capped at 200 bytes) in *slot. */
static void keep(char **slot, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
                     v[n - 1] == '\t'))
        n--;
    if (n > 200)
        n = 200;
    free(*slot);
    *slot = nk_xstrndup(v, n);
}

static size_t on_header(char *p, size_t size, size_t nitems, void *arg)
{
    struct xfer *x = arg;
    struct nk_http_resp *r = x->resp;
    size_t n = size * nitems, nlen;
    const char *colon, *v;
    char tmp[256];

    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue): forget earlier headers. */
        free(r->content_type);
        free(r->request_id);
        r->content_type = r->request_id = NULL;
        r->retry_after = -1;
        return n;
    }
    colon = memchr(p, ':', n);
    if (colon == NULL)
        return n;
    nlen = (size_t)(colon - p);
    v = colon + 1;
    while (v < p + n && (*v == ' ' || *v == '\t'))
        v++;
    if (nlen == 12 && strncasecmp(p, "content-type", 12) == 0) {
        keep(&r->content_type, v, (size_t)(p + n - v));
    } else if (is_request_id(p, nlen)) {
        keep(&r->request_id, v, (size_t)(p + n - v));
    } else if (nlen == 11 && strncasecmp(p, "retry-after", 11) == 0) {
        size_t vl = (size_t)(p + n - v);

        if (vl >= sizeof(tmp))
            vl = sizeof(tmp) - 1;
        memcpy(tmp, v, vl);
        tmp[vl] = '\0';
        r->retry_after = nk_http_parse_retry_after(tmp, time(NULL));
    }
    return n;
}

/* Builds the header list; the caller wipes and frees it (it may carry
 * tokens). */
static struct curl_slist *make_headers(const struct nk_http_req *req)
{
    struct curl_slist *l = NULL, *n;
    size_t i;
    char *line;

    for (i = 0; i < req->n_headers; i++) {
        line =
            nk_xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
        n = cu.slist_append(l, line);
        nk_strfreezero(line);
        if (n == NULL)
            nk_xmalloc((size_t)-1 / 2); /* out of memory: exits */
        l = n;
    }
    /* Never wait for 100 Continue; curl sends the body at once. */
    n = cu.slist_append(l, "Expect:");
    return n != NULL ? n : l;
}

static void free_headers(struct curl_slist *l)
{
    struct curl_slist *p;

    for (p = l; p != NULL; p = p->next)
        nk_memzero(p->data, strlen(p->data));
    cu.slist_free_all(l);
}

static void set_method(CURL *c, const struct nk_http_req *req)
{
    const char *m = req->method != NULL ? req->method : "GET";
    const char *body = req->body != NULL ? (const char *)req->body : "";

    if (strcmp(m, "GET") == 0 && req->body == NULL) {
        cu.easy_setopt(c, CURLOPT_HTTPGET, 1L);
        return;
    }
    cu.easy_setopt(c, CURLOPT_POSTFIELDS, body);
    cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   (curl_off_t)(req->body != NULL ? req->body_len : 0));
    if (strcmp(m, "POST") != 0)
        cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
}

static void set_options(CURL *c, const struct nk_http_req *req, int plain,
                        struct xfer *x, struct curl_slist *hdrs, char *ebuf)
{
    double ct = req->connect_timeout > 0
                    ? req->connect_timeout
                    : (req->timeout < 5 ? req->timeout : 5);

    cu.easy_setopt(c, CURLOPT_URL, req->url);
    cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https");
    /* A redirect keeps the scheme rules: https stays https. */
    cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                   plain ? "http,https" : "https");
    cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->max_redirects > 0 ? 1L : 0L);
    cu.easy_setopt(c, CURLOPT_MAXREDIRS, (long)req->max_redirects);
    cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    cu.easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (req->ca_bundle != NULL)
        cu.easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle);
    if (req->client_cert != NULL && req->client_key != NULL) {
        cu.easy_setopt(c, CURLOPT_SSLCERT, req->client_cert);
        cu.easy_setopt(c, CURLOPT_SSLKEY, req->client_key);
    }
    /* A proxy can never reach our loopback, and metadata endpoints must
     * not go through one; otherwise libcurl reads the proxy variables. */
    if (req->no_proxy || nk_http_is_loopback(req->url))
        cu.easy_setopt(c, CURLOPT_NOPROXY, "*");
    cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(req->timeout * 1000));
    cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ct * 1000));
    cu.easy_setopt(c, CURLOPT_USERAGENT, "notation-keystore/" NK_VERSION);
    cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    cu.easy_setopt(c, CURLOPT_WRITEDATA, x);
    cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    cu.easy_setopt(c, CURLOPT_HEADERDATA, x);
    set_method(c, req);
}

/* Sets err from a failed transfer; *transient says a retry may help. */
static int transfer_error(CURLcode rc, const struct nk_http_req *req,
                          const char *what, const char *host,
                          const struct xfer *x, const char *ebuf,
                          int *transient, struct nk_err *err)
{
    const char *why = ebuf[0] != '\0' ? ebuf : cu.easy_strerror(rc);
    size_t max = x->resp->body.max;

    *transient = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return nk_err_set(err, NK_ERR_TIMEOUT,
                          "%s: no complete answer from \"%s\" within %.1f s",
                          what, host, req->timeout);
    case CURLE_WRITE_ERROR:
        if (x->too_big)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "%s: response from \"%s\" exceeds %zu bytes",
                              what, host, max);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        *transient = 1;
        return nk_err_set(err, NK_ERR_GENERIC, "%s: cannot resolve \"%s\": %s",
                          what, host, why);
    case CURLE_COULDNT_CONNECT:
        *transient = 1;
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: cannot connect to \"%s\": %s", what, host, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: TLS with \"%s\" failed (check the CA bundle): "
                          "%s",
                          what, host, why);
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* Our own URL passed check_url: only a redirect gets here. */
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"%s\" redirects to a URL that is not "
                          "followed (only http and https, never from https "
                          "to http): %s",
                          what, host, why);
    case CURLE_TOO_MANY_REDIRECTS:
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"%s\" redirects more than %d times", what, host,
                          req->max_redirects);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        *transient = 1;
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: connection to \"%s\" broke off: %s", what, host,
                          why);
    default:
        break;
    }
    return nk_err_set(err, NK_ERR_GENERIC, "%s: request to \"%s\" failed: %s",
                      what, host, why);
}

/* A redirect the request does not follow is an error naming where it
 * pointed: credentials are never carried to another host, and a clear
 * message beats "HTTP 302" (use the final URL). */
static int not_followed(const struct nk_http_req *req, const char *what,
                        const char *host, const struct nk_http_resp *resp,
                        struct nk_err *err)
{
    char *loc = NULL, shown[256];

    if (resp->status < 300 || resp->status > 399 ||
        cu.easy_getinfo(cu.easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
        loc == NULL)
        return 0;
    nk_http_url_loggable(loc, shown, sizeof(shown));
    if (req->max_redirects > 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: \"%s\" redirects to \"%s\" (HTTP %ld), "
                          "which is not followed (only http and https, "
                          "never from https to http)",
                          what, host, shown, resp->status);
    return nk_err_set(err, NK_ERR_GENERIC,
                      "%s: \"%s\" redirects to \"%s\" (HTTP %ld); "
                      "redirects are not followed here, use the final URL",
                      what, host, shown, resp->status);
}

/* One attempt; *transient is set on a connection fault worth retrying. */
static int perform(const struct nk_http_req *req, const char *what,
                   struct nk_http_resp *resp, int *transient,
                   struct nk_err *err)
{
    char host[MAX_HOST], where[300], ebuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    struct xfer x = {resp, 0};
    double t0 = nk_log_now_ms();
    int plain, ret = -1;
    CURLcode rc;

    *transient = 0;
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    nk_buf_init(&resp->body, req->max_body ? req->max_body : DEFAULT_MAX_BODY);
    url_host(req->url, host, sizeof(host));
    nk_http_url_loggable(req->url, where, sizeof(where));
    if (check_url(req, host, &plain, err) != 0 || load_curl(err) != 0)
        goto out;
    ebuf[0] = '\0';
    hdrs = make_headers(req);
    cu.easy_reset(cu.easy);
    set_options(cu.easy, req, plain, &x, hdrs, ebuf);
    rc = cu.easy_perform(cu.easy);
    resp->elapsed_ms = nk_log_now_ms() - t0;
    if (rc != CURLE_OK) {
        transfer_error(rc, req, what, host, &x, ebuf, transient, err);
        nk_info("http %s %s failed after %.1f ms: %s",
                req->method ? req->method : "GET", where, resp->elapsed_ms,
                err->msg);
        goto out;
    }
    cu.easy_getinfo(cu.easy, CURLINFO_RESPONSE_CODE, &resp->status);
    if (not_followed(req, what, host, resp, err) != 0) {
        nk_info("http %s %s -> %ld, not followed",
                req->method ? req->method : "GET", where, resp->status);
        goto out;
    }
    /* An empty body is still a string. */
    if (nk_buf_append(&resp->body, "", 0, err) != 0)
        goto out;
    nk_info("http %s %s -> %ld in %.1f ms%s%s",
            req->method ? req->method : "GET", where, resp->status,
            resp->elapsed_ms, resp->request_id ? " request-id " : "",
            resp->request_id ? resp->request_id : "");
    ret = 0;
out:
    if (hdrs != NULL)
        free_headers(hdrs);
    if (ret != 0) {
        nk_http_resp_release(resp);
        resp->retry_after = -1;
        resp->unreachable = *transient;
    }
    return ret;
}

int nk_http_do(const struct nk_http_req *req, const char *what,
               struct nk_http_resp *resp, struct nk_err *err)
{
    int transient;

    return perform(req, what, resp, &transient, err);
}

int nk_http_type_is(const struct nk_http_resp *resp, const char *word)
{
    const char *t = resp->content_type;
    size_t n = strlen(word);

    if (t == NULL || t[0] == '\0')
        return 1;
    for (; *t != '\0'; t++)
        if (strncasecmp(t, word, n) == 0)
            return 1;
    return 0;
}

void nk_http_resp_release(struct nk_http_resp *resp)
{
    if (resp == NULL)
        return;
    nk_buf_release(&resp->body);
    free(resp->content_type);
    free(resp->request_id);
    resp->content_type = resp->request_id = NULL;
    resp->status = 0;
}

static int default_throttle(const struct nk_http_resp *resp, void *arg)
{
    (void)arg;
    return resp->status == 429;
}

/* Full jitter between half and all of the capped exponential delay. */
static double backoff(const struct nk_http_retry *p, int attempt)
{
    double base = p->base_delay > 0 ? p->base_delay : 0.1;
    double cap = p->max_delay > 0 ? p->max_delay : 5.0;
    double d = base;
    unsigned int r = 0;
    int i;

    for (i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (unsigned int)rand();
    return d / 2 + (d / 2) * ((double)(r % 10001) / 10000.0);
}

static void sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The least time worth giving one more attempt: 0.25 s, or the whole
 * per-attempt timeout when that is shorter. */
static double min_try(const struct nk_http_req *req)
{
    return req->timeout < 0.25 ? req->timeout : 0.25;
}

static int give_up(const struct nk_http_retry *p, const char *what,
                   const char *host, const struct nk_http_resp *resp,
                   int attempts, double spent, struct nk_err *err)
{
    char detail[300] = "";

    if (p->detail != NULL)
        p->detail(resp, detail, sizeof(detail), p->arg);
    return nk_err_set(err, NK_ERR_THROTTLED,
                      "%s: \"%s\" still answered HTTP %ld after %d attempt%s "
                      "in %.1f s%s%s",
                      what, host, resp->status, attempts,
                      attempts == 1 ? "" : "s", spent, detail[0] ? ": " : "",
                      detail);
}

int nk_http_do_retry(const struct nk_http_req *req,
                     const struct nk_http_retry *policy, const char *what,
                     struct nk_http_resp *resp, struct nk_err *err)
{
    static const struct nk_http_retry defaults;
    const struct nk_http_retry *p = policy != NULL ? policy : &defaults;
    int (*throttle)(const struct nk_http_resp *, void *) =
        p->is_throttle != NULL ? p->is_throttle : default_throttle;
    int max = p->max_attempts > 0 ? p->max_attempts : 4;
    double budget = p->budget > 0 ? p->budget : req->timeout;
    double t0 = nk_log_now_ms(), left, wait;
    struct nk_http_req one = *req;
    char host[MAX_HOST];
    int attempt, transient, failed;

    url_host(req->url, host, sizeof(host));
    for (attempt = 1;; attempt++) {
        left = budget - (nk_log_now_ms() - t0) / 1000.0;
        one.timeout = req->timeout < left ? req->timeout : left;
        if (one.timeout < 0.05)
            one.timeout = 0.05;
        failed = perform(&one, what, resp, &transient, err) != 0;
        if (p->faults_final)
            transient = 0;
        /* Only a retried failure says how often it was tried. */
        if (failed && !transient && attempt == 1)
            return -1;
        if (failed && (!transient || attempt >= max))
            return nk_err_prefix(err, "after %d attempt%s", attempt,
                                 attempt == 1 ? "" : "s");
        if (!failed && resp->status < 500 && !throttle(resp, p->arg))
            return 0;
        wait = backoff(p, attempt);
        if (!failed && resp->retry_after > wait)
            wait = resp->retry_after;
        left = budget - (nk_log_now_ms() - t0) / 1000.0;
        /* An attempt left with a sliver of the budget could only time
         * out, and its TIMEOUT would hide the real fault: give up with
         * what we have instead. */
        if (attempt >= max || wait + min_try(req) >= left) {
            if (failed)
                return nk_err_prefix(err, "after %d attempt%s", attempt,
                                     attempt == 1 ? "" : "s");
            give_up(p, what, host, resp, attempt,
                    (nk_log_now_ms() - t0) / 1000.0, err);
            nk_http_resp_release(resp);
            return -1;
        }
        nk_info("http retry %d of \"%s\" in %.2f s", attempt, host, wait);
        if (failed)
            nk_err_clear(err);
        else
            nk_http_resp_release(resp);
        sleep_s(wait);
    }
}
