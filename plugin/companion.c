/* Dispatch of the commands for people: --help, --version and the
 * companion commands in plugin/cli/. Never the plugin protocol, except the
 * error JSON for an unknown word (it may be a newer protocol command). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "companion.h"

static const char usage[] =
    "usage: notation-keystore <command> [options]\n"
    "\n"
    "A notation plugin (name \"keystore\") that signs with keys kept in\n"
    "PKCS#11 tokens and KMS services. notation runs it with one of:\n"
    "  get-plugin-metadata  describe-key  generate-signature\n"
    "  generate-envelope    verify-signature\n"
    "each reading one JSON request on stdin and writing one JSON response.\n"
    "\n"
    "Commands for people (plain text, or --json):\n"
    "  keys [--module PATH]        tokens, slots and keys, with key ids\n"
    "  keys --id <key-id>          describe one key (PKCS#11 or KMS)\n"
    "  cert generate-test --id <key-id> <name>\n"
    "                              self-signed test certificate for the key\n"
    "  cert request --id <key-id> --subject <DN>\n"
    "                              certificate signing request for a CA\n"
    "  doctor --id <key-id>        check everything signing depends on\n"
    "  verify <signature-file> --trust-store <dir>\n"
    "                              verify a JWS or COSE signature offline\n"
    "  agent                       a signing agent that logs in once "
    "(eval its\n"
    "                              output); agent add|list|remove|lock|"
    "unlock|stop\n"
    "Run \"notation-keystore <command> --help\" for its options.\n"
    "\n"
    "Options:\n"
    "  --version   print the version\n"
    "  --help      print this help\n"
    "\n"
    "Install: notation plugin install --file "
    "notation-keystore_<v>_linux_<arch>.tar.gz\n"
    "Key IDs: pkcs11:token=<label>;object=<key label>?module-path=<.so>\n"
    "         awskms:///alias/<name>, hashivault://<key>, openbao://<key>\n"
    "         gcpkms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/"
    "cryptoKeyVersions/<n>\n"
    "Trace:   NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=<path>\n"
    "Docs:    man notation-keystore, README.md\n";

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} cli_commands[] = {
    {"keys", nk_cli_keys},     {"cert", nk_cli_cert},
    {"doctor", nk_cli_doctor}, {"verify", nk_cli_verify},
    {"agent", nk_cli_agent},
};

int nk_companion_usage(int status)
{
    fputs(usage, status == 0 ? stdout : stderr);
    return status;
}

int nk_companion_main(int argc, char **argv)
{
    size_t i;
    int rc;

    if (argc == 2 &&
        (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        printf("notation-keystore %s\n", NK_VERSION);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help")))
        return nk_companion_usage(0);
    for (i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++) {
        if (strcmp(argv[1], cli_commands[i].name) != 0)
            continue;
        if (nk_log_refusal() != NULL)
            fprintf(stderr, "notation-keystore: %s\n", nk_log_refusal());
        nk_info("companion command %s", argv[1]);
        rc = cli_commands[i].fn(argc - 1, argv + 1);
        nk_info("companion command %s: exit %d", argv[1], rc);
        nk_log_close();
        return rc;
    }
    /* An unknown word may be a protocol command from a newer notation:
     * answer in the protocol's error format (VALIDATION_ERROR, exit 1). */
    fprintf(stderr,
            "{\"errorCode\":\"VALIDATION_ERROR\",\"errorMessage\":"
            "\"command is not supported; run notation-keystore --help\"}\n");
    return 1;
}
