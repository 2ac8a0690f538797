/* The one HTTP(S) layer, shared by the KMS backends, the verifier (OCSP,
 * CRL) and the timestamp client. libcurl is loaded with dlopen on the first
 * request, so processes that never talk HTTP never pay for it.
 *
 * Rules: TLS verification is always on (a CA bundle may be set, never
 * turned off); plain http:// only when the caller allows it (OCSP/CRL/TSA
 * URLs are http by nature) or for a loopback host; proxies from the usual
 * environment variables unless no_proxy is set (metadata endpoints); connect
 * and total timeouts; response bodies capped. */
#ifndef NK_HTTP_H
#define NK_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct nk_http_header {
    const char *name;
    const char *value;
};

struct nk_http_req {
    const char *method; /* "GET", "POST", "PUT" */
    const char *url;
    const struct nk_http_header *headers; /* n_headers entries */
    size_t n_headers;
    const unsigned char *body; /* may be NULL */
    size_t body_len;
    double timeout;          /* total seconds for this attempt (required) */
    double connect_timeout;  /* seconds; 0 means min(timeout, 5) */
    size_t max_body;         /* response cap in bytes; 0 means 1 MiB */
    const char *ca_bundle;   /* PEM file of trusted CAs, or NULL for system */
    const char *client_cert; /* PEM client certificate (chain) to present
                              * over TLS, with client_key; or NULL */
    const char *client_key;
    int allow_http;    /* 1: plain http:// allowed for any host */
    int no_proxy;      /* 1: never use a proxy (metadata endpoints) */
    int max_redirects; /* 0: a redirect is an error naming its target;
                        * N: up to N followed within timeout, to
                        * http(s) only, never from https to http */
};

struct nk_http_resp {
    long status;
    struct nk_buf body; /* NUL-terminated */
    char *content_type; /* or NULL */
    char *request_id;   /* x-amzn-RequestId / x-request-id, or NULL */
    double retry_after; /* seconds from Retry-After, or -1 */
    double elapsed_ms;
    int unreachable; /* set when a request fails because the host
                      * could not be resolved or reached, or the
                      * connection broke off (a retry may help) */
};

/* One request, no retries. Fails (returns -1) when no HTTP status was
 * received: TIMEOUT for timeouts, ERROR for connection/TLS faults naming the
 * host, VALIDATION_ERROR for a URL that breaks the rules above; and with
 * ERROR for a redirect that is not followed (max_redirects). Any other
 * status, including 4xx/5xx, is a success for this call: the caller
 * decides. what
 * names the request in error messages ("OCSP request", "AWS KMS Sign"). */
int nk_http_do(const struct nk_http_req *req, const char *what,
               struct nk_http_resp *resp, struct nk_err *err) NK_MUST_CHECK;

/* url fit for an error message or the log: scheme://host[:port]/path,
 * without user:password@, query or fragment, which may carry credentials
 * or API keys. Every URL shown anywhere goes through this. Writes into out
 * (cut to n - 1 bytes) and returns it. */
const char *nk_http_url_loggable(const char *url, char *out, size_t n);

/* True for 127.0.0.0/8, ::1 and "localhost" hosts in url. */
int nk_http_is_loopback(const char *url);

void nk_http_resp_release(struct nk_http_resp *resp);

/* ---- Additions (KMS engineer) ---- */

/* Retry policy for nk_http_do_retry; zero fields mean the defaults. */
struct nk_http_retry {
    int max_attempts;  /* attempts in all; 0 means 4 */
    double budget;     /* seconds for all attempts and waits together;
                        * 0 means req->timeout */
    double base_delay; /* first backoff in seconds; 0 means 0.1 */
    double max_delay;  /* cap on one backoff; 0 means 5 */
    /* Nonzero when a (non-5xx) response means "slow down", e.g. AWS's
     * 400 ThrottlingException; NULL means status 429 only. */
    int (*is_throttle)(const struct nk_http_resp *resp, void *arg);
    /* Writes the service's error code, message and request id of resp into
     * buf for the THROTTLED message; may be NULL. */
    void (*detail)(const struct nk_http_resp *resp, char *buf, size_t n,
                   void *arg);
    void *arg;
    /* Nonzero: a connection fault (refused, reset, cut short) is final,
     * not retried, for a service that may not be there at all (instance
     * metadata), where retries only cost. Answers that ask for another try
     * are still retried, after the wait they ask for. */
    int faults_final;
};

/* nk_http_do with retries: 5xx, throttling responses and connection faults
 * (refused, reset, cut short) are retried with exponential backoff and full
 * jitter, waiting at least Retry-After, bounded by max_attempts and budget
 * (each attempt's timeout shrinks to the time left). Returns 0 with the
 * first response that is not retryable (the caller maps 4xx). When retries
 * run out: THROTTLED for throttling/5xx responses, the last attempt's error
 * (ERROR, TIMEOUT) for faults. Timeouts, TLS and URL errors are not
 * retried. policy may be NULL. */
int nk_http_do_retry(const struct nk_http_req *req,
                     const struct nk_http_retry *policy, const char *what,
                     struct nk_http_resp *resp,
                     struct nk_err *err) NK_MUST_CHECK;

/* True when resp has no Content-Type or one that contains word (case
 * insensitive): "json" for JSON APIs, "xml" for STS. A proxy's or a login
 * page's text/html is the usual misfit. */
int nk_http_type_is(const struct nk_http_resp *resp, const char *word);

/* Seconds a Retry-After value asks for (delta-seconds or an IMF-fixdate
 * relative to now; a past date gives 0), or -1 when unparsable. */
double nk_http_parse_retry_after(const char *value, long long now);

/* Frees the kept libcurl handle (and its connections). Optional. */
void nk_http_cleanup(void);

#endif
