/* PIN sources in their order of precedence, and PIN files with the
 * one-trailing-newline rule of RFC 7512 pin-source users. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mem.h"
#include "pinhook.h"
#include "pinprompt.h"
#include "pin.h"
#include "pkcs11.h"

#define PIN_FILE_MAX 1024

int nk_p11_pin_read_file(const char *path, const char *from, char **pin,
                         struct nk_err *err)
{
    char buf[PIN_FILE_MAX + 1];
    size_t n = 0;
    ssize_t r;
    int fd, ret = -1;

    *pin = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "cannot read PIN file \"%s\" (from %s): %s", path,
                          from, strerror(errno));
    while (n < sizeof(buf)) {
        r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            nk_err_set(err, NK_ERR_ACCESS,
                       "cannot read PIN file \"%s\" (from %s): %s", path, from,
                       strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > PIN_FILE_MAX) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "PIN file \"%s\" (from %s) is larger than %d bytes", path,
                   from, PIN_FILE_MAX);
        goto out;
    }
    /* Exactly one line ending is dropped: "1234\n\n" keeps one '\n'. */
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    if (n == 0) {
        nk_err_set(err, NK_ERR_ACCESS, "PIN file \"%s\" (from %s) is empty",
                   path, from);
        goto out;
    }
    if (memchr(buf, '\0', n) != NULL) {
        nk_err_set(err, NK_ERR_ACCESS,
                   "PIN file \"%s\" (from %s) contains a NUL byte", path, from);
        goto out;
    }
    *pin = nk_xstrndup(buf, n);
    ret = 0;
out:
    nk_memzero(buf, sizeof(buf));
    close(fd);
    return ret;
}

int nk_p11_pin_source(const char *src, char **pin, struct nk_err *err)
{
    const char *p = src, *slash;

    *pin = NULL;
    if (src[0] == '|')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pin-source commands (\"|...\") are not supported; "
                          "give a file path or a file: URI");
    if (strncasecmp(p, "file:", 5) == 0) {
        p += 5;
        if (strncmp(p, "//", 2) == 0) {
            p += 2;
            slash = strchr(p, '/');
            if (slash == NULL ||
                !(slash == p ||
                  (slash - p == 9 && strncasecmp(p, "localhost", 9) == 0)))
                return nk_err_set(err, NK_ERR_VALIDATION,
                                  "pin-source \"%s\": only local file: URIs "
                                  "are supported",
                                  src);
            p = slash;
        }
    }
    if (p[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "pin-source in the key id is empty");
    return nk_p11_pin_read_file(p, "pin-source", pin, err);
}

int nk_p11_pin_resolve(const struct nk_p11_uri *u, const struct nk_config *cfg,
                       char **pin, const char **from, struct nk_err *err)
{
    const char *v;

    *pin = NULL;
    *from = NULL;
    if (u->pin_source != NULL) {
        *from = "pin-source";
        return nk_p11_pin_source(u->pin_source, pin, err);
    }
    if (u->pin_value != NULL) {
        *from = "pin-value";
        *pin = nk_xstrdup(u->pin_value);
        return 0;
    }
    v = getenv("NOTATION_KEYSTORE_PIN");
    if (v != NULL && v[0] != '\0') {
        *from = "NOTATION_KEYSTORE_PIN";
        *pin = nk_xstrdup(v);
        return 0;
    }
    v = nk_config_str(cfg, "pin-file");
    if (v != NULL) {
        *from = "pluginConfig pin-file";
        return nk_p11_pin_read_file(v, *from, pin, err);
    }
    return nk_pin_hook_ask(NULL, pin, from, err);
}

int nk_p11_pin_missing(const char *token, struct nk_err *err)
{
    return nk_err_set(err, NK_ERR_ACCESS,
                      "token \"%s\" needs a PIN: set "
                      "NOTATION_KEYSTORE_PIN, add pin-source=<file> "
                      "to the key id, or set pluginConfig pin-file "
                      "(there is no terminal to ask on, and no "
                      "pluginConfig pinentry)",
                      token);
}

/* No PIN source: the person running `agent add`, named the token and the
 * key as the URI names them (the token is not opened here). */
static int ask_key_pin(const struct nk_p11_uri *u, const struct nk_config *cfg,
                       char **pin, struct nk_err *err)
{
    char key[96];
    const char *from;
    struct nk_pinprompt q = {.token = u->token != NULL ? u->token : "?",
                             .key = key,
                             .pinentry = nk_config_str(cfg, "pinentry")};

    nk_p11_uri_key_name(u, key, sizeof(key));
    if (nk_pinprompt_ask(&q, pin, &from, err) != 0)
        return -1;
    if (*pin == NULL)
        return nk_p11_pin_missing(q.token, err);
    return 0;
}

int nk_p11_key_pin(const char *key_id, const struct nk_config *cfg, char **pin,
                   struct nk_err *err)
{
    struct nk_p11_uri *u = NULL;
    const char *from;
    int r;

    *pin = NULL;
    if (nk_p11_uri_parse(key_id, &u, err) != 0)
        return -1;
    r = nk_p11_pin_resolve(u, cfg, pin, &from, err);
    if (r == 0 && *pin == NULL)
        r = ask_key_pin(u, cfg, pin, err);
    nk_p11_uri_free(u);
    return r;
}
