/* Dispatch of the commands for people. */
#include <stdio.h>
#include <string.h>

#include "companion.h"

static const char usage[] =
    "usage: notation-keystore <command>\n"
    "\n"
    "A notation plugin (name \"keystore\") that signs with keys kept in\n"
    "PKCS#11 tokens and KMS services. notation runs it with one of:\n"
    "  get-plugin-metadata  describe-key  generate-signature\n"
    "  generate-envelope    verify-signature\n"
    "each reading one JSON request on stdin and writing one JSON response.\n"
    "\n"
    "Options:\n"
    "  --version   print the version\n"
    "  --help      print this help\n"
    "\n"
    "Install: make install (or notation plugin install --file <tarball>)\n"
    "Key IDs: pkcs11:token=<label>;object=<key label>?module-path=<.so>\n"
    "Docs: README.md, https://github.com/notation-keystore/notation-keystore\n";

int nk_companion_usage(int status)
{
    fputs(usage, status == 0 ? stdout : stderr);
    return status;
}

int nk_companion_main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--version") ||
                      !strcmp(argv[1], "version"))) {
        printf("notation-keystore %s\n", NK_VERSION);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help")))
        return nk_companion_usage(0);
    /* An unknown word may be a protocol command from a newer notation:
     * answer in the protocol's error format (VALIDATION_ERROR, exit 1). */
    fprintf(stderr,
            "{\"errorCode\":\"VALIDATION_ERROR\",\"errorMessage\":"
            "\"command is not supported; run notation-keystore --help\"}\n");
    return 1;
}
