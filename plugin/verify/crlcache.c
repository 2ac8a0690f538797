/* The on-disk CRL cache: one file per distribution point URL, named by the
 * SHA-256 of the URL, holding a header line, the URL and the DER CRL.
 * Written through a temp file + fsync + rename, so readers running in
 * parallel see either the old or the new entry, never a torn one. Used only
 * when the directory and its parent are private (common/privdir.c): an
 * old CRL the issuer really signed, planted by someone else, would
 * otherwise hide a revocation until its nextUpdate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/privdir.h"
#include "verify/revoke.h"

#define MAGIC "nk-crl-cache 1\n"
#define TMP_MARK ".tmp."

static char *entry_path(const char *dir, const char *url)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char hex[2 * EVP_MAX_MD_SIZE + 1];

    if (!EVP_Digest(url, strlen(url), md, &n, EVP_sha256(), NULL))
        return NULL;
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return nk_xasprintf("%s/%s", dir, hex);
}

/* dir (".../notation-keystore/crl") and its parent must both be private:
 * whoever may write to the parent may swap dir for one of theirs. */
static int private_dirs(const char *dir)
{
    char *parent = nk_xstrdup(dir), *slash = strrchr(parent, '/');
    int r;

    if (slash != NULL && slash != parent)
        *slash = '\0';
    r = nk_privdir_check(parent, "crl cache") != 0 ||
                nk_privdir_check(dir, "crl cache") != 0
            ? -1
            : 0;
    free(parent);
    return r;
}

X509_CRL *nk_crlcache_get(const char *dir, const char *url)
{
    struct nk_buf b;
    struct nk_err err = {0};
    X509_CRL *crl = NULL;
    char *path = entry_path(dir, url);
    const unsigned char *p, *end;
    size_t hlen = strlen(MAGIC) + strlen(url) + 1;

    nk_buf_init(&b, NK_CRL_MAX_SIZE + hlen);
    if (path == NULL || private_dirs(dir) != 0 ||
        nk_privdir_read(path, &b, &err) != 0)
        goto out; /* a miss */
    if (b.len <= hlen || memcmp(b.data, MAGIC, strlen(MAGIC)) != 0 ||
        memcmp(b.data + strlen(MAGIC), url, strlen(url)) != 0 ||
        b.data[hlen - 1] != '\n') {
        nk_debug("crl cache: ignoring damaged entry \"%s\"", path);
        goto out;
    }
    p = b.data + hlen;
    end = b.data + b.len;
    crl = d2i_X509_CRL(NULL, &p, (long)(end - p));
    if (crl != NULL && p != end) {
        X509_CRL_free(crl);
        crl = NULL;
    }
    if (crl == NULL)
        nk_debug("crl cache: ignoring unparsable entry \"%s\"", path);
out:
    nk_buf_release(&b);
    free(path);
    return crl;
}

/* mkdir -p with mode 0700 for every component we create. */
static int make_dirs(const char *dir, struct nk_err *err)
{
    char *p = nk_xstrdup(dir), *s, c;
    int ret = 0;

    for (s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            ret = nk_err_set(err, NK_ERR_GENERIC, "cannot create \"%s\": %s", p,
                             strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return ret;
}

int nk_crlcache_put(const char *dir, const char *url, const unsigned char *der,
                    size_t len, struct nk_err *err)
{
    const struct nk_privdir_part parts[] = {
        {MAGIC, strlen(MAGIC)}, {url, strlen(url)}, {"\n", 1}, {der, len}};
    char *path;
    int ret;

    if (make_dirs(dir, err) != 0)
        return -1;
    if (private_dirs(dir) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "\"%s\" or its parent is not a private directory",
                          dir);
    path = entry_path(dir, url);
    if (path == NULL)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot hash the CRL URL");
    ret = nk_privdir_write(path, TMP_MARK, parts, 4, 1, err);
    free(path);
    return ret;
}
