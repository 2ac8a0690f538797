/* notation-keystore: prepare stdio, read one request, dispatch one command,
 * write one response (stdout) or one error JSON (stderr, exit 1). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "companion.h"

static const struct {
    const char *name;
    nk_cmd_fn fn;
} commands[] = {
    {"get-plugin-metadata", nk_cmd_get_plugin_metadata},
    {"describe-key", nk_cmd_describe_key},
    {"generate-signature", nk_cmd_generate_signature},
    {"generate-envelope", nk_cmd_generate_envelope},
    {"verify-signature", nk_cmd_verify_signature},
};

/* No core dumps or ptrace-by-peers while a PIN may be in memory. */
static void harden(void)
{
    struct rlimit rl = {0, 0};

    (void)setrlimit(RLIMIT_CORE, &rl);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Moves the real stdout to a private descriptor and points fd 1 at stderr,
 * so anything a library or PKCS#11 module prints cannot corrupt the JSON. */
static int guard_stdout(void)
{
    int fd = fcntl(1, F_DUPFD_CLOEXEC, 3);

    if (fd < 0 || dup2(2, 1) < 0)
        return -1;
    return fd;
}

static int write_all(int fd, const char *s, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fail(const struct nk_err *err)
{
    char *json = nk_proto_error_json(err);

    nk_info("error %s: %s", nk_errcode_name(err->code), err->msg);
    (void)write_all(2, json, strlen(json));
    (void)write_all(2, "\n", 1);
    free(json);
    return 1;
}

static int run(nk_cmd_fn fn, const char *name, int out_fd)
{
    struct nk_err err = {0};
    struct nk_buf in;
    struct nk_request req = {0};
    cJSON *resp = NULL;
    char *text = NULL;
    double t0 = nk_log_now_ms();
    size_t i;
    int rc = 1;

    nk_buf_init(&in, NK_MAX_REQUEST);
    if (nk_buf_read_fd(&in, 0, "request on stdin", &err) != 0)
        goto out;
    /* notation always sends an object; a person running the metadata
     * command by hand may send nothing. */
    if (in.len == 0 && fn == nk_cmd_get_plugin_metadata &&
        nk_buf_appendstr(&in, "{}", &err) != 0)
        goto out;
    if (nk_proto_parse((const char *)in.data, in.len, &req, &err) != 0)
        goto out;
    nk_info("command %s", name);
    nk_debug("request: %zu bytes, %zu pluginConfig keys", in.len, req.cfg.n);
    /* The tree holds all of it now: no second copy of a pin-value while
     * the command runs. */
    nk_buf_release(&in);
    /* keys only: values may name files or hold identifiers */
    for (i = 0; i < req.cfg.n; i++)
        nk_debug("pluginConfig \"%s\"", req.cfg.keys[i]);
    if (fn(&req, &resp, &err) != 0)
        goto out;
    text = nk_proto_print(resp);
    if (text == NULL || write_all(out_fd, text, strlen(text)) != 0 ||
        write_all(out_fd, "\n", 1) != 0) {
        nk_err_set(&err, NK_ERR_GENERIC, "cannot write the response: %s",
                   strerror(errno));
        goto out;
    }
    rc = 0;
out:
    nk_info("command %s %s in %.1f ms", name, rc == 0 ? "done" : "failed",
            nk_log_now_ms() - t0);
    if (rc != 0)
        fail(&err);
    if (text != NULL)
        nk_freezero(text, strlen(text));
    nk_json_wipe(resp);
    cJSON_Delete(resp);
    nk_request_release(&req);
    nk_buf_release(&in);
    return rc;
}

int main(int argc, char **argv)
{
    struct nk_err err = {0};
    size_t i;
    int out_fd, rc;

    harden();
    nk_mem_init();
    nk_log_init();
    if (argc < 2)
        return nk_companion_usage(2);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (argc != 2) {
            nk_err_set(&err, NK_ERR_VALIDATION,
                       "\"%s\" takes no arguments: the request is read from "
                       "stdin",
                       argv[1]);
            return fail(&err);
        }
        out_fd = guard_stdout();
        if (out_fd < 0) {
            nk_err_set(&err, NK_ERR_GENERIC, "cannot set up stdout");
            return fail(&err);
        }
        rc = run(commands[i].fn, argv[1], out_fd);
        close(out_fd);
        nk_log_close();
        return rc;
    }
    return nk_companion_main(argc, argv);
}
