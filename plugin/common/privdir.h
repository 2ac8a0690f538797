/* Private cache directories: a cache on disk is only trusted when nobody
 * but the user could have put its files there (key cache, CRL cache). */
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
/* Reads the entry at path into b, opened without following a symlink and
 * without blocking (a FIFO must not hang us), and only when it is a regular
 * file owned by the user and not writable by group or others. -1 with err
 * set otherwise (a cache miss for the caller). */
int nk_privdir_read(const char *path, struct nk_buf *b,
                    struct nk_err *err) NK_MUST_CHECK;
/* Removes the temp files a killed writer left in dir: regular files of the
 * user named <64 hex digits><marker><6 mkstemp characters> that were last
 * written more than NK_PRIVDIR_STALE seconds ago. A live writer renames
 * its temp file within its run, long before that; anything else in dir is
 * left alone. */
#define NK_PRIVDIR_STALE 600
void nk_privdir_sweep(const char *dir, const char *marker);

#endif
