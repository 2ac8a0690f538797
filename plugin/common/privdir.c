/* Private cache directories and the entries read from them: the rule the
 * key cache and the CRL cache share. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/privdir.h"

int nk_privdir_check(const char *dir, const char *what)
{
    struct stat st;

    /* lstat: a symlink could point anywhere, even at a directory that is
     * ours but meant for something else. */
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
        nk_info("%s: ignoring \"%s\" (not a private directory)", what, dir);
        return -1;
    }
    return 0;
}

int nk_privdir_make(const char *dir, const char *what)
{
    (void)mkdir(dir, 0700); /* EEXIST and the like: the check decides */
    return nk_privdir_check(dir, what);
}

/* $XDG_CACHE_HOME, else $HOME/.cache, when absolute; else NULL. */
static char *cache_base(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (xdg != NULL && xdg[0] == '/')
        return nk_xstrdup(xdg);
    if (home != NULL && home[0] == '/')
        return nk_xasprintf("%s/.cache", home);
    return NULL;
}

char *nk_privdir_user(int runtime, const char *sub, const char *what)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    int in_run = runtime && run != NULL && run[0] == '/';
    char *base = in_run ? nk_xstrdup(run) : cache_base(), *top, *dir;

    if (base == NULL)
        return NULL;
    (void)mkdir(base, 0700);
    top = nk_xasprintf("%s/notation-keystore", base);
    free(base);
    if (nk_privdir_make(top, what) != 0) {
        free(top);
        return NULL;
    }
    if (sub == NULL || in_run)
        return top;
    dir = nk_xasprintf("%s/%s", top, sub);
    free(top);
    if (nk_privdir_make(dir, what) != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* mask: the permission bits group and others must not have. */
static int read_entry(const char *path, mode_t mask, struct nk_buf *b,
                      struct nk_err *err)
{
    struct stat st;
    int fd, r;

    /* O_NONBLOCK: opening a FIFO without a writer would block forever. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot open \"%s\": %s", path,
                          strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & mask) != 0) {
        close(fd);
        nk_info("ignoring cache entry \"%s\" (not a regular file of ours)",
                path);
        return nk_err_set(err, NK_ERR_GENERIC,
                          "\"%s\" is not a private regular file", path);
    }
    r = nk_buf_read_fd(b, fd, path, err);
    close(fd);
    return r;
}

int nk_privdir_read(const char *path, struct nk_buf *b, struct nk_err *err)
{
    return read_entry(path, 022, b, err);
}

int nk_privdir_read_secret(const char *path, struct nk_buf *b,
                           struct nk_err *err)
{
    return read_entry(path, 077, b, err);
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = p;
    ssize_t w;

    while (n > 0) {
        w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int nk_privdir_write(const char *path, const char *marker,
                     const struct nk_privdir_part *parts, size_t nparts,
                     int sync, struct nk_err *err)
{
    char *dir = nk_xstrdup(path), *slash = strrchr(dir, '/'), *tmp;
    int fd, ok = 1, ret = -1;
    size_t i;

    if (slash != NULL)
        *slash = '\0';
    /* <64 hex digits of the entry's name><marker><6 characters>: the name
     * nk_privdir_sweep recognises. */
    tmp = nk_xasprintf(
        "%.*s%sXXXXXX",
        (int)((slash != NULL ? (size_t)(slash - dir) + 1 : 0) + 64), path,
        marker);
    /* A writer killed before its rename (notation kills its plugin on
     * Ctrl-C) leaves its temp file behind. */
    nk_privdir_sweep(slash != NULL ? dir : ".", marker);
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot create \"%s\": %s", tmp,
                   strerror(errno));
        goto out;
    }
    for (i = 0; i < nparts && ok; i++)
        ok = write_all(fd, parts[i].p, parts[i].n) == 0;
    if (ok && sync)
        ok = fsync(fd) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot write \"%s\": %s", tmp,
                   strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot rename \"%s\": %s", tmp,
                   strerror(errno));
        unlink(tmp);
        goto out;
    }
    ret = 0;
out:
    free(tmp);
    free(dir);
    return ret;
}

/* name is <64 lower-case hex><marker><6 letters or digits>. */
static int temp_name(const char *name, const char *marker)
{
    size_t mlen = strlen(marker), i;

    if (strlen(name) != 64 + mlen + 6 || memcmp(name + 64, marker, mlen) != 0)
        return 0;
    for (i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)name[i]) ||
            isupper((unsigned char)name[i]))
            return 0;
    for (i = 64 + mlen; name[i] != '\0'; i++)
        if (!isalnum((unsigned char)name[i]))
            return 0;
    return 1;
}

void nk_privdir_sweep(const char *dir, const char *marker)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    time_t now = time(NULL);

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!temp_name(e->d_name, marker) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
            now - st.st_mtime <= NK_PRIVDIR_STALE)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            nk_info("cache: removed \"%s/%s\", left by a writer that died", dir,
                    e->d_name);
    }
    closedir(d);
}
