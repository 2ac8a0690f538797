/* Private cache directories and the entries read from them: the rule the
 * key cache and the CRL cache share. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
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

int nk_privdir_read(const char *path, struct nk_buf *b, struct nk_err *err)
{
    struct stat st;
    int fd, r;

    /* O_NONBLOCK: opening a FIFO without a writer would block forever. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot open \"%s\": %s",
                          path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
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

/* name is <64 lower-case hex><marker><6 letters or digits>. */
static int temp_name(const char *name, const char *marker)
{
    size_t mlen = strlen(marker), i;

    if (strlen(name) != 64 + mlen + 6 ||
        memcmp(name + 64, marker, mlen) != 0)
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
            nk_info("cache: removed \"%s/%s\", left by a writer that died",
                    dir, e->d_name);
    }
    closedir(d);
}
