/* Time handling for the verifier: RFC 3339 parsing (as Go marshals
 * time.Time), ASN1_TIME conversion, and the expiry check of a signature and
 * the validity windows of its chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>

#include "verify/chain.h"
#include "verify/verify.h"

/* Go's zero time.Time, 0001-01-01T00:00:00Z, in Unix seconds. */
#define GO_ZERO_TIME (-62135596800LL)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* Reads exactly n decimal digits. */
static int digits(const char **p, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, const char *set)
{
    if (**p == '\0' || strchr(set, **p) == NULL)
        return -1;
    (*p)++;
    return 0;
}

int nk_time_parse_rfc3339(const char *s, time_t *out, int *zero,
                          struct nk_err *err)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    long long t;

    *out = 0;
    *zero = 0;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) ||
        expect(&p, "-") || digits(&p, 2, &d) || expect(&p, "Tt") ||
        digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) ||
        expect(&p, ":") || digits(&p, 2, &sec))
        goto bad;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            goto bad;
        while (*p >= '0' && *p <= '9')
            p++; /* fractions are dropped, as notation truncates */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else {
        sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
        if (sign == 0)
            goto bad;
        p++;
        if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om) ||
            oh > 23 || om > 59)
            goto bad;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60)
        goto bad;
    t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
        mi * 60LL + sec - sign * (oh * 3600LL + om * 60LL);
    if (t == GO_ZERO_TIME) {
        *zero = 1;
        return 0;
    }
    if ((long long)(time_t)t != t)
        goto bad;
    *out = (time_t)t;
    return 0;
bad:
    return nk_err_set(err, NK_ERR_VALIDATION, "\"%s\" is not an RFC 3339 time",
                      s);
}

void nk_time_format(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "@%lld", (long long)t);
}

int nk_time_from_asn1(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;

    *out = 0;
    if (a == NULL || !ASN1_TIME_to_tm(a, &tm))
        return -1;
    *out =
        (time_t)(days_from_civil(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1,
                                 (unsigned)tm.tm_mday) *
                     86400LL +
                 tm.tm_hour * 3600LL + tm.tm_min * 60LL + tm.tm_sec);
    return 0;
}

/* Fails v when `at` is outside cert's notBefore..notAfter. */
static int cert_window(X509 *cert, time_t at, struct nk_verdict *v)
{
    time_t nb, na;
    char when[32], lim[32];
    char *name;

    if (nk_time_from_asn1(X509_get0_notBefore(cert), &nb) ||
        nk_time_from_asn1(X509_get0_notAfter(cert), &na))
        nb = na = 0;
    if (at >= nb && at <= na)
        return 0;
    name = nk_cert_name(cert);
    nk_time_format(at, when, sizeof(when));
    nk_time_format(at < nb ? nb : na, lim, sizeof(lim));
    snprintf(v->reason, sizeof(v->reason),
             "certificate \"%s\" is %s at %s (%s %s); renew it or sign with "
             "a valid certificate",
             name ? name : "?", at < nb ? "not yet valid" : "expired", when,
             at < nb ? "valid from" : "expired on", lim);
    free(name);
    v->success = 0;
    return -1;
}

void nk_expiry_check(STACK_OF(X509) * chain, time_t expiry, time_t at,
                     struct nk_verdict *v)
{
    char when[32];
    int i;

    v->success = 1;
    if (expiry != 0 && at >= expiry) {
        v->success = 0;
        nk_time_format(expiry, when, sizeof(when));
        snprintf(v->reason, sizeof(v->reason),
                 "the signature expired on %s; sign the artifact again", when);
        return;
    }
    for (i = 0; i < sk_X509_num(chain); i++)
        if (cert_window(sk_X509_value(chain, i), at, v) != 0)
            return;
    snprintf(v->reason, sizeof(v->reason),
             "the signature has not expired and every certificate is valid");
}
