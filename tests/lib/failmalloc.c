/* LD_PRELOAD allocator for out-of-memory tests: counts the allocations the
 * plugin itself, cJSON and libcbor make (malloc, calloc, realloc, strdup
 * called from the code of the executable or those libraries) and makes the
 * NK_FAIL_NTH-th of them fail. Allocations by libcrypto, libp11 or a PKCS#11
 * module are left alone: the test is about our policy, not theirs. At exit the
 * count goes to the file NK_FAIL_COUNT names (when set), so a test knows how
 * many to try.
 *
 *   cc -shared -fPIC -O1 -o failmalloc.so failmalloc.c -ldl
 *   NK_FAIL_NTH=17 LD_PRELOAD=./failmalloc.so notation-keystore ... */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t c, size_t n);
extern void *__libc_realloc(void *p, size_t n);

static long nth = -1; /* -1: not read yet; 0: count only */
static long seen;

/* The code ranges of the executable, cJSON and libcbor, found once. */
static struct {
    unsigned long lo, hi;
} ranges[16];
static int nranges = -1;

static int add_object(struct dl_phdr_info *info, size_t size, void *data)
{
    const char *name = info->dlpi_name, *base = strrchr(name, '/');
    int i, main_exe = name[0] == '\0';

    (void)size;
    (void)data;
    base = base != NULL ? base + 1 : name;
    if (!main_exe && strncmp(base, "libcjson", 8) != 0 &&
        strncmp(base, "libcbor", 7) != 0)
        return 0;
    for (i = 0; i < info->dlpi_phnum && nranges < 16; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD ||
            !(info->dlpi_phdr[i].p_flags & PF_X))
            continue;
        ranges[nranges].lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        ranges[nranges].hi = ranges[nranges].lo + info->dlpi_phdr[i].p_memsz;
        nranges++;
    }
    return 0;
}

/* Nonzero when the code at pc belongs to the executable, cJSON or
 * libcbor. */
static int ours(const void *pc)
{
    unsigned long a = (unsigned long)pc;
    int i;

    if (nranges < 0) {
        nranges = 0;
        dl_iterate_phdr(add_object, NULL);
    }
    for (i = 0; i < nranges; i++)
        if (a >= ranges[i].lo && a < ranges[i].hi)
            return 1;
    return 0;
}

/* Nonzero when this allocation (made from pc) is the one to fail. */
static int fail_now(const void *pc)
{
    const char *v;

    if (nth < 0) {
        v = getenv("NK_FAIL_NTH");
        nth = v != NULL ? atol(v) : 0;
    }
    if (!ours(pc))
        return 0;
    seen++;
    return nth > 0 && seen == nth;
}

void *malloc(size_t n)
{
    if (fail_now(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(n);
}

void *calloc(size_t c, size_t n)
{
    if (fail_now(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(c, n);
}

void *realloc(void *p, size_t n)
{
    if (fail_now(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p;

    if (fail_now(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    p = __libc_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("NK_FAIL_COUNT");
    char buf[32];
    int fd, len;

    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    len = snprintf(buf, sizeof(buf), "%ld\n", seen);
    if (write(fd, buf, (size_t)len) != len)
        len = 0;
    close(fd);
}
