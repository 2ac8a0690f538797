/* Private cache directories: a cache on disk is only trusted when nobody
 * but the user could have put its files there (key cache, CRL cache,
 * token cache). */
#ifndef NK_PRIVDIR_H
#define NK_PRIVDIR_H

#include "common/buf.h"
#include "common/err.h"

/* 0 when dir is a directory (not a symlink) owned by the effective user
 * that neither group nor others may write to; -1 (logged) otherwise. what
 * names the cache in the log line. */
int nk_privdir_check(const char *dir, const char *what);
/* mkdir(dir, 0700) when missing, then nk_privdir_check. */
int nk_privdir_make(const char *dir, const char *what);
/* The user's private directory for a cache (malloc'd), made 0700 where
 * missing: $XDG_CACHE_HOME (else $HOME/.cache) /notation-keystore, or
 * /notation-keystore/<sub> when sub is set; for runtime, first
 * $XDG_RUNTIME_DIR/notation-keystore when that variable is set (a tmpfs of
 * the user's session: the place for secrets). notation-keystore/ and the
 * returned directory must pass nk_privdir_check. NULL when no directory is
 * usable (logged, naming what). */
char *nk_privdir_user(int runtime, const char *sub, const char *what);
/* Reads the entry at path into b, opened without following a symlink and
 * without blocking (a FIFO must not hang us), and only when it is a regular
 * file owned by the user and not writable by group or others. -1 with err
 * set otherwise (a cache miss for the caller). */
int nk_privdir_read(const char *path, struct nk_buf *b,
                    struct nk_err *err) NK_MUST_CHECK;
/* nk_privdir_read for an entry holding a secret: also refused when group
 * or others may read it. */
int nk_privdir_read_secret(const char *path, struct nk_buf *b,
                           struct nk_err *err) NK_MUST_CHECK;

/* One piece of an entry's contents. */
struct nk_privdir_part {
    const void *p;
    size_t n;
};
/* Writes the parts, in order, as the entry at path, whose name is 64 hex
 * digits (a digest) and maybe an extension, so that readers see the old
 * entry or the new one, never a torn one: a temp file <the 64 digits>
 * <marker>XXXXXX of mode 0600 in the same directory (fsync'ed when sync is
 * nonzero), renamed over path. First sweeps the temp files dead writers left in
 * path's directory (see nk_privdir_sweep). The caller has checked the
 * directory. */
int nk_privdir_write(const char *path, const char *marker,
                     const struct nk_privdir_part *parts, size_t nparts,
                     int sync, struct nk_err *err) NK_MUST_CHECK;
/* Removes the temp files a killed writer left in dir: regular files of the
 * user named <64 hex digits><marker><6 mkstemp characters> that were last
 * written more than NK_PRIVDIR_STALE seconds ago. A live writer renames
 * its temp file within its run, long before that; anything else in dir is
 * left alone. */
#define NK_PRIVDIR_STALE 600
void nk_privdir_sweep(const char *dir, const char *marker);

#endif
