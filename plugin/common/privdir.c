/* Private cache directories and the entries read from them: the rule the
 * key cache and the CRL cache share. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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
