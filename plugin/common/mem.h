/* Allocation that cannot fail (out of memory ends the process with an
 * ERROR JSON on stderr) and wiping of secrets. */
#ifndef NK_MEM_H
#define NK_MEM_H

#include <stddef.h>

void *nk_xmalloc(size_t n);
void *nk_xcalloc(size_t count, size_t size);
void *nk_xrealloc(void *p, size_t n);
char *nk_xstrdup(const char *s);
char *nk_xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *nk_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipes memory in a way the compiler cannot drop. */
void nk_memzero(void *p, size_t n);
/* Wipes then frees; NULL is fine. */
void nk_freezero(void *p, size_t n);
void nk_strfreezero(char *s);

#endif
