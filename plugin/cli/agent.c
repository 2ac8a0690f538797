/* notation-keystore agent: start the agent (eval its output, or run a
 * command under it) and the commands that talk to it: add, list, remove,
 * lock, unlock, stop. The agent itself is plugin/agent/. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/client.h"
#include "agent/server.h"
#include "agent/sock.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pinprompt.h"
#include "pkcs11/pkcs11.h"

static const char agent_usage[] =
    "usage: notation-keystore agent [-t SECONDS] [-D]\n"
    "       notation-keystore agent [-t SECONDS] -- COMMAND [ARGS...]\n"
    "       notation-keystore agent add [-t SECONDS] [--plugin-config K=V]... "
    "<key-id>\n"
    "       notation-keystore agent list [--json]\n"
    "       notation-keystore agent remove <key-id> | --all\n"
    "       notation-keystore agent lock | unlock [--plugin-config K=V]... | "
    "stop\n"
    "\n"
    "A signing agent, like ssh-agent: it logs in to a token once and keeps\n"
    "the session (and a KMS key's connection and token), and the plugin\n"
    "signs through it whenever NOTATION_KEYSTORE_AGENT names it and it holds\n"
    "the key; otherwise the plugin opens the key itself as usual.\n"
    "\n"
    "  eval \"$(notation-keystore agent)\"   start it in the background and "
    "set\n"
    "                                     NOTATION_KEYSTORE_AGENT\n"
    "  -D                  stay in the foreground\n"
    "  -- COMMAND          run COMMAND with the agent, stop with it, exit "
    "with\n"
    "                      its status\n"
    "  -t SECONDS          lifetime of a key's login (also 10m, 2h); the key\n"
    "                      is removed when it runs out\n"
    "  add <key-id>        open the key and log in once; the PIN comes from\n"
    "                      the key id, NOTATION_KEYSTORE_PIN or pin-file, as "
    "for\n"
    "                      signing, else it is asked here (pinentry or the\n"
    "                      terminal); it goes to the agent through a pipe\n"
    "  list                the keys it holds\n"
    "  remove              log out and forget a key (or --all)\n"
    "  lock                log out of every key; describe and sign are "
    "refused\n"
    "  unlock              log in again (the PIN as for add)\n"
    "  stop                log out of everything and exit\n";

/* Seconds one exchange may take; opening a key may log in to a network
 * HSM or go through a KMS's retries. */
#define CLI_TIMEOUT 120.0

/* "90", "90s", "10m", "2h": seconds up to the protocol's cap. */
static int parse_lifetime(const char *s, unsigned *out)
{
    char *end = NULL;
    unsigned long v;
    unsigned long mul = 1;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        return -1;
    if (*end == 'm')
        mul = 60;
    else if (*end == 'h')
        mul = 3600;
    else if (*end != 's' && *end != '\0')
        return -1;
    if (*end != '\0' && end[1] != '\0')
        return -1;
    if (v == 0 || v > NK_AGENT_MAX_LIFETIME / mul)
        return -1;
    *out = (unsigned)(v * mul);
    return 0;
}

static int connect_agent(struct nk_agent_conn **c, struct nk_err *err)
{
    const char *path = getenv("NOTATION_KEYSTORE_AGENT");

    if (path == NULL || path[0] == '\0')
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s is not set: start an agent with "
                          "eval \"$(notation-keystore agent)\"",
                          NK_AGENT_ENV);
    return nk_agent_open(path, CLI_TIMEOUT, c, err);
}

/* One request with no fields; the reply stays in (*c)->reply. */
static int simple(enum nk_agent_type t, struct nk_agent_conn **c,
                  struct nk_err *err)
{
    if (connect_agent(c, err) != 0)
        return -1;
    nk_agent_begin(&(*c)->out, t);
    if (nk_agent_call(*c, -1, err) != 0)
        return -1;
    if ((*c)->reply.type == NK_AGENT_FAIL)
        return nk_agent_fail_err(&(*c)->reply, err);
    return 0;
}

/* ---- start ---- */

/* The shell lines that point a shell at the agent. The path is quoted
 * for sh: $XDG_RUNTIME_DIR may hold anything. */
static void print_env(const char *path, long pid)
{
    const char *p;

    printf("%s='", NK_AGENT_ENV);
    for (p = path; *p != '\0'; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    printf("'; export %s;\n# notation-keystore agent pid %ld\n", NK_AGENT_ENV,
           pid);
    fflush(stdout);
}

/* The agent never needs a PIN of its own environment, and never asks
 * for one: PINs come from `agent add`. */
static void forget_pin_env(void)
{
    nk_pinprompt_disable();
    char *v = getenv("NOTATION_KEYSTORE_PIN");

    if (v != NULL)
        nk_memzero(v, strlen(v));
    unsetenv("NOTATION_KEYSTORE_PIN");
    unsetenv(NK_AGENT_ENV);
}

/* The background agent keeps nothing of the shell that started it: no
 * terminal, no working directory, no inherited descriptor (a pipe held
 * open would keep a reader of the shell's output waiting). The listening
 * socket becomes fd 3; the log is opened again. */
static int detach(int lfd)
{
    int fd;

    (void)setsid();
    if (chdir("/") != 0)
        return -1;
    nk_log_close();
    fd = open("/dev/null", O_RDWR);
    if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 ||
        (lfd != 3 && dup2(lfd, 3) < 0))
        return -1;
    closefrom(4);
    if (fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
        return -1;
    nk_log_init();
    return 3;
}

/* The agent keeps PKCS#11 modules loaded while it runs (see
 * nk_p11_hold_modules) and unloads them once every key is closed. */
static int serve(int lfd, const struct nk_agent_serve_opts *o)
{
    int rc;

    nk_p11_hold_modules();
    rc = nk_agent_serve(lfd, o);
    nk_p11_release_modules();
    return rc;
}

/* agent -- COMMAND: the command runs as our child with the variable set;
 * we serve until it ends and exit with its status. */
static int run_command(int lfd, const char *path, unsigned ttl, char **cmd)
{
    struct nk_agent_serve_opts o = {ttl, 0};
    pid_t pid = fork();

    if (pid < 0) {
        fprintf(stderr, "notation-keystore agent: fork: %s\n", strerror(errno));
        return NK_CLI_FAIL;
    }
    if (pid == 0) {
        setenv(NK_AGENT_ENV, path, 1);
        execvp(cmd[0], cmd);
        fprintf(stderr, "notation-keystore agent: cannot run \"%s\": %s\n",
                cmd[0], strerror(errno));
        _exit(127);
    }
    forget_pin_env();
    o.child = pid;
    return serve(lfd, &o);
}

static int start(unsigned ttl, int foreground, char **cmd)
{
    struct nk_agent_serve_opts o = {ttl, 0};
    struct nk_err err = {0};
    char *dir = NULL, *path = NULL;
    int lfd, rc = NK_CLI_OK;
    pid_t pid;

    if (nk_agent_listen(&dir, &path, &lfd, &err) != 0)
        return nk_cli_fail("agent", 0, &err);
    if (cmd != NULL) {
        rc = run_command(lfd, path, ttl, cmd);
    } else if (foreground) {
        print_env(path, (long)getpid());
        forget_pin_env();
        serve(lfd, &o);
    } else {
        pid = fork();
        if (pid < 0) {
            nk_err_set(&err, NK_ERR_GENERIC, "fork: %s", strerror(errno));
            rc = nk_cli_fail("agent", 0, &err);
        } else if (pid > 0) {
            /* The socket is listening already: usable at once. */
            print_env(path, (long)pid);
            close(lfd);
            free(dir);
            free(path);
            return NK_CLI_OK;
        } else {
            lfd = detach(lfd);
            if (lfd < 0)
                _exit(1);
            forget_pin_env();
            serve(lfd, &o);
        }
    }
    close(lfd);
    nk_agent_unlink(dir, path);
    free(dir);
    free(path);
    return rc;
}

/* ---- add ---- */

/* A pipe holding the PIN, its write end closed: the read end goes to the
 * agent beside the request. -1 when there is no PIN. */
static int pin_pipe(const char *pin, struct nk_err *err)
{
    int p[2];
    size_t n = strlen(pin);

    if (pipe(p) != 0)
        return nk_err_set(err, NK_ERR_GENERIC, "pipe: %s", strerror(errno));
    /* At most 1 KiB: a pipe buffer takes it without a reader. */
    if (write(p[1], pin, n) != (ssize_t)n) {
        close(p[0]);
        close(p[1]);
        return nk_err_set(err, NK_ERR_GENERIC, "cannot pass the PIN");
    }
    close(p[1]);
    return p[0];
}

/* The PIN of a PKCS#11 key from its usual sources, else asked here, in
 * the client (none for KMS keys). */
static int key_pin(const struct nk_signer_ops *ops, const char *id,
                   const struct nk_config *cfg, int *fd, struct nk_err *err)
{
    char *pin = NULL;

    *fd = -1;
    if (strcmp(ops->name, "pkcs11") != 0)
        return 0;
    if (nk_p11_key_pin(id, cfg, &pin, err) != 0)
        return -1;
    if (pin != NULL)
        *fd = pin_pipe(pin, err);
    nk_strfreezero(pin);
    return pin != NULL && *fd < 0 ? -1 : 0;
}

static int put_config(struct nk_buf *b, const struct nk_config *cfg,
                      struct nk_err *err)
{
    size_t i, n = 0;

    for (i = 0; i < cfg->n; i++)
        n += strcmp(cfg->keys[i], "pin-file") != 0;
    if (nk_agent_put_u32(b, (uint32_t)n, err) != 0)
        return -1;
    for (i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->keys[i], "pin-file") == 0)
            continue;
        if (nk_agent_put_str(b, cfg->keys[i], strlen(cfg->keys[i]), err) != 0 ||
            nk_agent_put_str(b, cfg->vals[i], strlen(cfg->vals[i]), err) != 0)
            return -1;
    }
    return 0;
}

static void print_key(const char *id, const struct nk_agent_msg *m,
                      const char *what)
{
    printf("%s %s: %.*s %s%s\n", what, id, (int)m->backend.n,
           (const char *)m->backend.p, nk_keyspec_name(m->spec),
           m->flags & NK_AGENT_F_PIN_PER_SIGN
               ? " (the key asks for the PIN at every signature: the agent "
                 "keeps it until the key is removed, locked or expires)"
               : "");
}

/* ADD or UNLOCK of one key, with its PIN. */
static int send_key(struct nk_agent_conn *c, enum nk_agent_type t,
                    const char *id, unsigned ttl, const struct nk_config *cfg,
                    struct nk_err *err)
{
    const struct nk_signer_ops *ops = nk_signer_lookup(id, err);
    char *pub = ops != NULL ? nk_signer_public_id(ops, id, err) : NULL;
    int fd = -1, r = -1;

    if (pub == NULL || key_pin(ops, id, cfg, &fd, err) != 0)
        goto out;
    nk_agent_begin(&c->out, t);
    if (nk_agent_put_str(&c->out, pub, strlen(pub), err) != 0 ||
        (t == NK_AGENT_ADD && (nk_agent_put_u32(&c->out, ttl, err) != 0 ||
                               put_config(&c->out, cfg, err) != 0)) ||
        nk_agent_call(c, fd, err) != 0)
        goto out;
    if (c->reply.type == NK_AGENT_FAIL) {
        nk_agent_fail_err(&c->reply, err);
        goto out;
    }
    print_key(pub, &c->reply, t == NK_AGENT_ADD ? "added" : "unlocked");
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    free(pub);
    return r;
}

static int add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"lifetime", required_argument, NULL, 't'},
        {"plugin-config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct nk_agent_conn *c = NULL;
    struct nk_config cfg;
    struct nk_err err = {0};
    unsigned ttl = 0;
    int o, rc = NK_CLI_USAGE;

    nk_config_init(&cfg);
    optind = 1;
    while ((o = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(agent_usage, stdout);
            rc = NK_CLI_OK;
            goto out;
        }
        if ((o == 't' && parse_lifetime(optarg, &ttl) != 0) ||
            (o == 'c' && nk_cli_plugin_config(&cfg, optarg, &err) != 0) ||
            (o != 't' && o != 'c')) {
            rc = nk_cli_usage_error("agent add", "%s",
                                    err.msg[0] ? err.msg
                                               : "bad option or lifetime");
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = nk_cli_usage_error("agent add", "give one key id");
        goto out;
    }
    rc = connect_agent(&c, &err) != 0 ||
                 send_key(c, NK_AGENT_ADD, argv[optind], ttl, &cfg, &err) != 0
             ? nk_cli_fail("agent add", 0, &err)
             : NK_CLI_OK;
out:
    nk_agent_close(c);
    nk_config_release(&cfg);
    return rc;
}

/* ---- list, remove, lock, unlock, stop ---- */

static cJSON *listed_json(const struct nk_agent_listed *k)
{
    cJSON *o = cJSON_CreateObject();
    char *id = nk_agent_blob_str(k->key), *be = nk_agent_blob_str(k->backend);

    cJSON_AddStringToObject(o, "keyId", id);
    cJSON_AddStringToObject(o, "backend", be);
    cJSON_AddStringToObject(o, "keySpec", nk_keyspec_name(k->spec));
    cJSON_AddStringToObject(
        o, "state", k->state == NK_AGENT_READY ? "ready" : "logged-out");
    if (k->ttl > 0)
        cJSON_AddNumberToObject(o, "expiresIn", k->ttl);
    cJSON_AddBoolToObject(o, "pinKept",
                          (k->flags & NK_AGENT_F_PIN_PER_SIGN) != 0);
    free(id);
    free(be);
    return o;
}

static int list(int argc, char **argv)
{
    struct nk_agent_conn *c = NULL;
    struct nk_err err = {0};
    const struct nk_agent_msg *m;
    cJSON *doc, *arr;
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    size_t i;

    if (argc > 2 || (argc == 2 && !json)) {
        return nk_cli_usage_error("agent list", "only --json is allowed");
    }
    if (simple(NK_AGENT_LIST, &c, &err) != 0) {
        nk_agent_close(c);
        return nk_cli_fail("agent list", json, &err);
    }
    m = &c->reply;
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, "keys");
    for (i = 0; i < m->nkeys; i++)
        cJSON_AddItemToArray(arr, listed_json(&m->keys[i]));
    if (json) {
        nk_cli_print_json(doc);
    } else {
        if (m->nkeys == 0)
            printf("the agent holds no keys\n");
        for (i = 0; i < m->nkeys; i++) {
            const struct nk_agent_listed *k = &m->keys[i];

            printf("%.*s\n  %.*s %s, %s", (int)k->key.n, (const char *)k->key.p,
                   (int)k->backend.n, (const char *)k->backend.p,
                   nk_keyspec_name(k->spec),
                   k->state == NK_AGENT_READY ? "ready"
                                              : "logged out (locked)");
            if (k->ttl > 0)
                printf(", removed in %u s", (unsigned)k->ttl);
            printf("%s\n",
                   k->flags & NK_AGENT_F_PIN_PER_SIGN ? ", PIN kept" : "");
        }
        cJSON_Delete(doc);
    }
    nk_agent_close(c);
    return NK_CLI_OK;
}

static int remove_key(int argc, char **argv)
{
    struct nk_agent_conn *c = NULL;
    struct nk_err err = {0};
    const struct nk_signer_ops *ops;
    char *pub = NULL;
    int all = argc == 2 && strcmp(argv[1], "--all") == 0, rc = NK_CLI_FAIL;

    if (argc != 2)
        return nk_cli_usage_error("agent remove", "give a key id or --all");
    if (!all) {
        ops = nk_signer_lookup(argv[1], &err);
        pub = ops != NULL ? nk_signer_public_id(ops, argv[1], &err) : NULL;
        if (pub == NULL)
            return nk_cli_fail("agent remove", 0, &err);
    }
    if (connect_agent(&c, &err) == 0) {
        nk_agent_begin(&c->out, NK_AGENT_REMOVE);
        if (nk_agent_put_str(&c->out, pub, all ? 0 : strlen(pub), &err) == 0 &&
            nk_agent_call(c, -1, &err) == 0) {
            if (c->reply.type == NK_AGENT_FAIL)
                nk_agent_fail_err(&c->reply, &err);
            else
                rc = NK_CLI_OK;
        }
    }
    if (rc == NK_CLI_OK)
        printf("removed %s\n", all ? "every key" : pub);
    else
        rc = nk_cli_fail("agent remove", 0, &err);
    free(pub);
    nk_agent_close(c);
    return rc;
}

static const struct option unlock_opts[] = {
    {"plugin-config", required_argument, NULL, 'c'},
    {NULL, 0, NULL, 0},
};

/* Logs in again to every logged-out key, then ends the lock. A key that
 * fails stays logged out (the plugin opens it itself meanwhile). */
static int unlock(int argc, char **argv)
{
    struct nk_agent_conn *c = NULL;
    struct nk_config cfg;
    struct nk_err err = {0};
    char *ids[NK_AGENT_MAX_KEYS];
    size_t n = 0, i;
    int o, failed = 0;

    nk_config_init(&cfg);
    optind = 1;
    while ((o = getopt_long(argc, argv, "", unlock_opts, NULL)) != -1) {
        if (o != 'c' || nk_cli_plugin_config(&cfg, optarg, &err) != 0) {
            nk_config_release(&cfg);
            return nk_cli_usage_error("agent unlock", "%s",
                                      err.msg[0] ? err.msg : "bad option");
        }
    }
    if (simple(NK_AGENT_LIST, &c, &err) == 0)
        for (i = 0; i < c->reply.nkeys; i++)
            if (c->reply.keys[i].state == NK_AGENT_LOGGED_OUT)
                ids[n++] = nk_agent_blob_str(c->reply.keys[i].key);
    for (i = 0; i < n && err.code == NK_ERR_NONE; i++) {
        if (send_key(c, NK_AGENT_UNLOCK, ids[i], 0, &cfg, &err) != 0) {
            fprintf(stderr, "notation-keystore agent unlock: %s: %s\n", ids[i],
                    err.msg);
            nk_err_clear(&err);
            failed = 1;
        }
    }
    for (i = 0; i < n; i++)
        free(ids[i]);
    nk_config_release(&cfg);
    if (err.code == NK_ERR_NONE) {
        nk_agent_begin(&c->out, NK_AGENT_UNLOCK);
        if (nk_agent_put_str(&c->out, "", 0, &err) == 0 &&
            nk_agent_call(c, -1, &err) == 0 && c->reply.type == NK_AGENT_FAIL)
            nk_agent_fail_err(&c->reply, &err);
    }
    nk_agent_close(c);
    if (err.code != NK_ERR_NONE)
        return nk_cli_fail("agent unlock", 0, &err);
    printf("agent unlocked\n");
    return failed ? NK_CLI_FAIL : NK_CLI_OK;
}

static int one_word(enum nk_agent_type t, const char *cmd, const char *done,
                    int argc)
{
    struct nk_agent_conn *c = NULL;
    struct nk_err err = {0};
    int rc = NK_CLI_OK;

    if (argc != 1)
        return nk_cli_usage_error(cmd, "takes no arguments");
    if (simple(t, &c, &err) != 0)
        rc = nk_cli_fail(cmd, 0, &err);
    else
        printf("%s\n", done);
    nk_agent_close(c);
    return rc;
}

/* agent [-t SECONDS] [-D] [-- COMMAND...] */
static int start_cmd(int argc, char **argv)
{
    unsigned ttl = 0;
    int o, fg = 0;

    optind = 1;
    while ((o = getopt(argc, argv, "+t:Dh")) != -1) {
        if (o == 'h') {
            fputs(agent_usage, stdout);
            return NK_CLI_OK;
        }
        if (o == 'D')
            fg = 1;
        else if (o != 't' || parse_lifetime(optarg, &ttl) != 0)
            return nk_cli_usage_error("agent", "bad option or lifetime");
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
        return nk_cli_usage_error("agent", "unknown command \"%s\"",
                                  argv[optind]);
    if (fg && optind < argc)
        return nk_cli_usage_error("agent", "-D and a command do not mix");
    return start(ttl, fg, optind < argc ? argv + optind : NULL);
}

int nk_cli_agent(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "";

    if (strcmp(w, "add") == 0)
        return add(argc - 1, argv + 1);
    if (strcmp(w, "list") == 0)
        return list(argc - 1, argv + 1);
    if (strcmp(w, "remove") == 0)
        return remove_key(argc - 1, argv + 1);
    if (strcmp(w, "lock") == 0)
        return one_word(NK_AGENT_LOCK, "agent lock", "agent locked", argc - 1);
    if (strcmp(w, "unlock") == 0)
        return unlock(argc - 1, argv + 1);
    if (strcmp(w, "stop") == 0)
        return one_word(NK_AGENT_STOP, "agent stop", "agent stopped", argc - 1);
    if (nk_cli_is_help(w)) {
        fputs(agent_usage, stdout);
        return NK_CLI_OK;
    }
    return start_cmd(argc, argv);
}
