/* Allocation that cannot fail and wiping of secrets. The one out-of-memory
 * policy: the process ends with an ERROR JSON on stderr and exit status 1,
 * whichever allocator ran out (ours, cJSON's through nk_mem_init, or a
 * NULL from libcbor, which Debian builds without custom allocators). */
#ifndef NK_MEM_H
#define NK_MEM_H

#include <stddef.h>

/* Writes the out-of-memory ERROR JSON to stderr and _exit(1)s. */
void nk_oom(void) __attribute__((noreturn));
/* Makes cJSON allocate through nk_xmalloc. Call once, before any cJSON. */
void nk_mem_init(void);

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

/* A secret string that must outlive its use, kept XOR-masked with a random
 * pad in between: a key id notation wants echoed after signing may hold a
 * pin-value, whose clear bytes then are not in memory while a token signs.
 * Masking, not encryption: the pad sits beside it. */
struct nk_mask {
    char *s;            /* owned; masked while pad is set */
    unsigned char *pad; /* n random bytes while masked, else NULL */
    size_t n;
};

/* Takes ownership of the clear string s. */
void nk_mask_init(struct nk_mask *m, char *s);
/* Masks m->s in place (a no-op when already masked). */
void nk_mask_hide(struct nk_mask *m);
/* Restores m->s and wipes the pad (a no-op when not masked). */
void nk_mask_show(struct nk_mask *m);
/* Wipes and frees the string and the pad; m may be zeroed or released. */
void nk_mask_release(struct nk_mask *m);

#endif
