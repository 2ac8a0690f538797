/* The process's PIN hook (see pinhook.h): one function pointer. */
#include <stddef.h>

#include "pinhook.h"

static struct {
    nk_pin_hook_fn fn;
    void *arg;
    const char *name;
} hook;

void nk_pin_hook_set(nk_pin_hook_fn fn, void *arg, const char *name)
{
    hook.fn = fn;
    hook.arg = arg;
    hook.name = name;
}

int nk_pin_hook_ask(const char *token, char **pin, const char **from,
                    struct nk_err *err)
{
    *pin = NULL;
    if (hook.fn == NULL)
        return 0;
    if (hook.fn(hook.arg, token, pin, err) != 0)
        return -1;
    if (*pin != NULL)
        *from = hook.name;
    return 0;
}
