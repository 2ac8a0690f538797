/* notation's trust store on disk: where it lives, adding a certificate as
 * ca:<name>, and reading a store directory the way notation does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cli/cli.h"
#include "common/certs.h"
#include "common/mem.h"

char *nk_cli_notation_config_dir(void)
{
    const char *v = getenv("NOTATION_CONFIG");

    if (v != NULL && v[0] != '\0')
        return nk_xstrdup(v);
    v = getenv("XDG_CONFIG_HOME");
    if (v != NULL && v[0] == '/')
        return nk_xasprintf("%s/notation", v);
    v = getenv("HOME");
    return nk_xasprintf("%s/.config/notation", v != NULL ? v : ".");
}

int nk_cli_store_name_ok(const char *name)
{
    size_t i;

    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (i = 0; name[i] != '\0'; i++)
        if (!(name[i] >= 'a' && name[i] <= 'z') &&
            !(name[i] >= 'A' && name[i] <= 'Z') &&
            !(name[i] >= '0' && name[i] <= '9') && !strchr("_.-", name[i]))
            return 0;
    return 1;
}

/* mkdir -p with mode 0700 for the parts it creates. */
static int mkdirs(char *path, struct nk_err *err)
{
    char *p;

    for (p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            nk_err_set(err, NK_ERR_GENERIC, "cannot create \"%s\": %s", path,
                       strerror(errno));
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot create \"%s\": %s", path,
                          strerror(errno));
    return 0;
}

char *nk_cli_trust_store_dir(const char *name)
{
    char *conf = nk_cli_notation_config_dir();
    char *dir = nk_xasprintf("%s/truststore/x509/ca/%s", conf, name);

    free(conf);
    return dir;
}

int nk_cli_trust_exists(const char *name)
{
    char *dir = nk_cli_trust_store_dir(name);
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    /* An empty directory holds no anchor; anything in it counts. */
    while (d != NULL && !found) {
        e = readdir(d);
        if (e == NULL)
            break;
        found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d != NULL)
        closedir(d);
    free(dir);
    return found;
}

int nk_cli_trust_add(const char *name, X509 *cert, int replace, char **path,
                     struct nk_err *err)
{
    char *dir = nk_cli_trust_store_dir(name);
    FILE *f = NULL;
    int fd, ret = -1;

    *path = NULL;
    if (!nk_cli_store_name_ok(name)) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "trust store name \"%s\" must "
                   "match [A-Za-z0-9_.-]+",
                   name);
        goto out;
    }
    if (mkdirs(dir, err) != 0)
        goto out;
    *path = nk_xasprintf("%s/%s.crt", dir, name);
    /* Without replace, a file that appeared since the caller looked is
     * not overwritten either. */
    fd = open(*path,
              O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL),
              0600);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        nk_err_set(err, NK_ERR_GENERIC, "cannot write \"%s\": %s", *path,
                   strerror(errno));
        goto out;
    }
    if (PEM_write_X509(f, cert) != 1 || fclose(f) != 0) {
        f = NULL;
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot write \"%s\"", *path);
        goto out;
    }
    f = NULL;
    ret = 0;
out:
    if (f != NULL)
        fclose(f);
    if (ret != 0) {
        free(*path);
        *path = NULL;
    }
    free(dir);
    return ret;
}

/* Adds the certificates of one directory entry to all. */
static int load_entry(const char *dir, const char *name, STACK_OF(X509) * all,
                      struct nk_err *err)
{
    char *path = nk_xasprintf("%s/%s", dir, name);
    STACK_OF(X509) *sk = NULL;
    struct stat st;
    int ret = -1;

    if (lstat(path, &st) != 0) {
        nk_err_set(err, NK_ERR_VALIDATION, "cannot read \"%s\": %s", path,
                   strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "trust store entry \"%s\" is not "
                   "a regular file (notation refuses directories and "
                   "symbolic links)",
                   path);
        goto out;
    }
    if (nk_certs_load_file(path, "trust store", &sk, err) != 0)
        goto out;
    while (sk_X509_num(sk) > 0)
        sk_X509_push(all, sk_X509_shift(sk));
    ret = 0;
out:
    sk_X509_pop_free(sk, X509_free);
    free(path);
    return ret;
}

int nk_cli_trust_load(const char *dir, STACK_OF(X509) * *out,
                      struct nk_err *err)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    DIR *d = opendir(dir);
    struct dirent *e;
    int ret = -1;

    *out = NULL;
    if (d == NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "cannot open trust store \"%s\": "
                   "%s",
                   dir, strerror(errno));
        goto out;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (load_entry(dir, e->d_name, all, err) != 0)
            goto out;
    }
    if (sk_X509_num(all) == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "trust store \"%s\" holds no "
                   "certificate",
                   dir);
        goto out;
    }
    *out = all;
    all = NULL;
    ret = 0;
out:
    if (d != NULL)
        closedir(d);
    sk_X509_pop_free(all, X509_free);
    return ret;
}
