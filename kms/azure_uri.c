/* Azure key ids (azurekms://, Key Vault object URLs), the cloud a host
 * belongs to, returned key ids, and the key type table. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_uri.h"
#include "common/http.h"
#include "common/mem.h"

#define COSIGN "azurekms://"

/* The host suffixes of the services, with each cloud's token resource and
 * login authority (Azure public, China, US Government). */
static const struct {
    const char *suffix;
    const char *resource;
    const char *authority;
    int mhsm;
} clouds[] = {
    {".vault.azure.net", "https://vault.azure.net",
     "https://login.microsoftonline.com", 0},
    {".vault.azure.cn", "https://vault.azure.cn",
     "https://login.chinacloudapi.cn", 0},
    {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net",
     "https://login.microsoftonline.us", 0},
    {".managedhsm.azure.net", "https://managedhsm.azure.net",
     "https://login.microsoftonline.com", 1},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int nk_azure_handles(const char *key_id)
{
    return strncmp(key_id, COSIGN, strlen(COSIGN)) == 0 ||
           strncasecmp(key_id, "https://", 8) == 0 ||
           strncasecmp(key_id, "http://", 7) == 0;
}

void nk_azure_id_release(struct nk_azure_id *id)
{
    if (id == NULL)
        return;
    free(id->base);
    free(id->name);
    free(id->version);
    memset(id, 0, sizeof(*id));
}

/* [A-Za-z0-9-]{1,max} (Key Vault object names), or alphanumerics only
 * when dash is 0 (versions). */
static int word(const char *s, size_t n, size_t max, int dash)
{
    size_t i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !(dash && s[i] == '-'))
            return 0;
    return 1;
}

/* Which service and cloud a (lower-case) host names: one DNS label before
 * a known suffix. */
static int pick_cloud(struct nk_azure_id *id, const char *host)
{
    size_t i, hl = strlen(host), sl;

    for (i = 0; i < N_OF(clouds); i++) {
        sl = strlen(clouds[i].suffix);
        if (hl > sl && strcmp(host + hl - sl, clouds[i].suffix) == 0 &&
            word(host, hl - sl, 63, 1)) {
            id->resource = clouds[i].resource;
            id->authority = clouds[i].authority;
            id->mhsm = clouds[i].mhsm;
            return 0;
        }
    }
    return -1;
}

/* Splits "host[:port]" (host may be a bracketed IPv6 address) and checks
 * both; host is lower-cased into hbuf, *port points at the digits or is
 * NULL. */
static int split_authority(const char *a, size_t n, char *hbuf, size_t hn,
                           const char **port, size_t *plen)
{
    const char *end = a + n, *colon;
    size_t i, hl;

    *port = NULL;
    *plen = 0;
    if (n > 0 && a[0] == '[') {
        colon = memchr(a, ']', n);
        if (colon == NULL)
            return -1;
        colon++;
        if (colon < end && *colon != ':')
            return -1;
    } else {
        colon = memchr(a, ':', n);
        colon = colon != NULL ? colon : end;
    }
    hl = (size_t)(colon - a);
    if (hl == 0 || hl >= hn)
        return -1;
    for (i = 0; i < hl; i++) {
        hbuf[i] = (char)tolower((unsigned char)a[i]);
        if (!isalnum((unsigned char)a[i]) && strchr(".-[]:", a[i]) == NULL)
            return -1;
    }
    hbuf[hl] = '\0';
    if (colon < end) {
        *port = colon + 1;
        *plen = (size_t)(end - *port);
        if (*plen == 0 || *plen > 5 || !word(*port, *plen, 5, 0) ||
            strspn(*port, "0123456789") < *plen || atoi(*port) < 1 ||
            atoi(*port) > 65535)
            return -1;
    }
    return 0;
}

/* Sets base, service and cloud from scheme and authority. */
static int parse_base(struct nk_azure_id *id, const char *scheme, const char *a,
                      size_t n, const char **why)
{
    char host[256], probe[300];
    const char *port;
    size_t plen;
    int dflt;

    if (memchr(a, '@', n) != NULL) {
        *why = "a user name or password in the URL";
        return -1;
    }
    if (split_authority(a, n, host, sizeof(host), &port, &plen) != 0) {
        *why = "a bad host or port";
        return -1;
    }
    snprintf(probe, sizeof(probe), "http://%s/", host);
    id->loopback = nk_http_is_loopback(probe);
    if (pick_cloud(id, host) != 0) {
        if (!id->loopback) {
            *why = "a host that is neither a Key Vault (*.vault.azure.net, "
                   "*.vault.azure.cn, *.vault.usgovcloudapi.net) nor a "
                   "Managed HSM (*.managedhsm.azure.net)";
            return -1;
        }
        /* A test's mock stands in for a Key Vault of the public cloud. */
        id->resource = clouds[0].resource;
        id->authority = clouds[0].authority;
    }
    if (strcmp(scheme, "http") == 0 && !id->loopback) {
        *why = "plain http, which is allowed only for a loopback host; use "
               "https";
        return -1;
    }
    /* The default port is left out, as in the key ids the service
     * returns. */
    dflt = port != NULL && ((strcmp(scheme, "https") == 0 && plen == 3 &&
                             strncmp(port, "443", 3) == 0) ||
                            (strcmp(scheme, "http") == 0 && plen == 2 &&
                             strncmp(port, "80", 2) == 0));
    id->base = port != NULL && !dflt
                   ? nk_xasprintf("%s://%s:%.*s", scheme, host, (int)plen, port)
                   : nk_xasprintf("%s://%s", scheme, host);
    return 0;
}

/* Name and optional version from the path segments after the host (and
 * after "keys/" or "certificates/" for URLs). */
static int parse_name(struct nk_azure_id *id, const char *p, const char **why)
{
    const char *slash = strchr(p, '/'), *v;
    size_t nl = slash != NULL ? (size_t)(slash - p) : strlen(p), vl;

    if (!word(p, nl, 127, 1)) {
        *why = "a bad name (1 to 127 letters, digits and dashes)";
        return -1;
    }
    id->name = nk_xstrndup(p, nl);
    if (slash == NULL || slash[1] == '\0')
        return 0;
    v = slash + 1;
    vl = strcspn(v, "/");
    if (!word(v, vl, 64, 0) || (v[vl] == '/' && v[vl + 1] != '\0')) {
        *why = "a bad version (letters and digits) or more path segments";
        return -1;
    }
    id->version = nk_xstrndup(v, vl);
    return 0;
}

int nk_azure_id_parse(const char *key_id, struct nk_azure_id *out,
                      struct nk_err *err)
{
    const char *scheme, *p, *path, *why = "an unknown form";
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; key_id[i] != '\0'; i++)
        if (isspace((unsigned char)key_id[i]) || key_id[i] == '?' ||
            key_id[i] == '#' || key_id[i] == '%' || key_id[i] == '\\')
            goto bad;
    if (strncmp(key_id, COSIGN, strlen(COSIGN)) == 0) {
        out->form = NK_AZ_FORM_COSIGN;
        scheme = "https";
        p = key_id + strlen(COSIGN);
    } else if (strncasecmp(key_id, "https://", 8) == 0) {
        scheme = "https";
        p = key_id + 8;
    } else if (strncasecmp(key_id, "http://", 7) == 0) {
        scheme = "http";
        p = key_id + 7;
    } else {
        goto bad;
    }
    path = strchr(p, '/');
    if (path == NULL) {
        why = "no key name";
        goto bad;
    }
    if (parse_base(out, scheme, p, (size_t)(path - p), &why) != 0)
        goto bad;
    path++;
    if (out->form != NK_AZ_FORM_COSIGN) {
        if (strncmp(path, "keys/", 5) == 0) {
            out->form = NK_AZ_FORM_KEYS;
            path += 5;
        } else if (strncmp(path, "certificates/", 13) == 0) {
            out->form = NK_AZ_FORM_CERTS;
            path += 13;
        } else {
            why = "a path that is neither /keys/<name> nor "
                  "/certificates/<name>";
            goto bad;
        }
    }
    if (parse_name(out, path, &why) != 0)
        goto bad;
    if (out->mhsm && out->form == NK_AZ_FORM_CERTS) {
        why = "a certificate of a Managed HSM, which holds keys only (use "
              "/keys/<name> and pluginConfig certificate-chain)";
        goto bad;
    }
    return 0;
bad:
    nk_azure_id_release(out);
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "bad Azure key id \"%.200s\" (%s): expected "
                      "azurekms://<vault host>/<key>[/<version>] or "
                      "https://<vault>.vault.azure.net/keys|certificates/"
                      "<name>[/<version>]",
                      key_id, why);
}

int nk_azure_kid_check(const struct nk_azure_id *id, const char *kid,
                       const char *what, char **version, struct nk_err *err)
{
    struct nk_azure_id k;
    struct nk_err e = {NK_ERR_NONE, ""};
    int ok;

    *version = NULL;
    if (kid == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no key id (kid) in the "
                          "answer",
                          what);
    if (strncmp(kid, COSIGN, strlen(COSIGN)) == 0 ||
        nk_azure_id_parse(kid, &k, &e) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the answer's key id "
                          "\"%.200s\" is not a Key Vault key URL",
                          what, kid);
    ok = k.form == NK_AZ_FORM_KEYS && k.version != NULL &&
         strcmp(k.base, id->base) == 0 && strcasecmp(k.name, id->name) == 0;
    if (ok)
        *version = nk_xstrdup(k.version);
    nk_azure_id_release(&k);
    if (!ok)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the answer names key "
                          "\"%.200s\", not a version of key \"%s\" at %s",
                          what, kid, id->name, id->base);
    return 0;
}

enum nk_keyspec nk_azure_keyspec(const char *kty, const char *crv, int bits)
{
    if (kty == NULL)
        return NK_KEYSPEC_NONE;
    if (strcmp(kty, "RSA") == 0 || strcmp(kty, "RSA-HSM") == 0)
        return bits == 2048   ? NK_RSA_2048
               : bits == 3072 ? NK_RSA_3072
               : bits == 4096 ? NK_RSA_4096
                              : NK_KEYSPEC_NONE;
    if ((strcmp(kty, "EC") == 0 || strcmp(kty, "EC-HSM") == 0) && crv != NULL)
        return strcmp(crv, "P-256") == 0   ? NK_EC_256
               : strcmp(crv, "P-384") == 0 ? NK_EC_384
               : strcmp(crv, "P-521") == 0 ? NK_EC_521
                                           : NK_KEYSPEC_NONE;
    return NK_KEYSPEC_NONE;
}

const char *nk_azure_alg(enum nk_keyspec spec)
{
    /* Notation's table: the JWS names are exactly Key Vault's. */
    return spec == NK_KEYSPEC_NONE ? NULL : nk_keyspec_jws_alg(spec);
}
