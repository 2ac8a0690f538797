/* The companion commands for people (keys, cert, doctor, verify): plain
 * text by default, --json for scripts, never the plugin protocol. Each
 * command takes its own argv (argv[0] is the command name) and returns the
 * exit status: 0 ok, 1 failure, 2 usage. */
#ifndef NK_CLI_H
#define NK_CLI_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "signing.h"

#define NK_CLI_OK 0
#define NK_CLI_FAIL 1
#define NK_CLI_USAGE 2

int nk_cli_keys(int argc, char **argv);
int nk_cli_cert(int argc, char **argv);
int nk_cli_doctor(int argc, char **argv);
int nk_cli_verify(int argc, char **argv);
int nk_cli_agent(int argc, char **argv);

/* ---- output.c ---- */

/* "notation-keystore <cmd>: <msg>" and a pointer to --help on stderr;
 * returns NK_CLI_USAGE. */
int nk_cli_usage_error(const char *cmd, const char *fmt, ...) NK_PRINTF(2, 3);
/* Prints a failure (stderr text; with json also {"error":...} on stdout);
 * returns NK_CLI_FAIL. */
int nk_cli_fail(const char *cmd, int json, const struct nk_err *err);
/* Prints and frees a JSON document on stdout (indented). */
void nk_cli_print_json(cJSON *doc);

/* A list of named checks, each pass / fail / warn / skip, with a detail
 * and, for a failure, the fix. Text lines as they come; JSON at the end. */
enum nk_check_status {
    NK_CHECK_PASS,
    NK_CHECK_FAIL,
    NK_CHECK_WARN,
    NK_CHECK_SKIP
};
struct nk_report {
    int json;
    cJSON *checks;
    int failed;
};
void nk_report_init(struct nk_report *r, int json);
void nk_report_add(struct nk_report *r, enum nk_check_status st,
                   const char *name, const char *detail, const char *fix);
/* Prints the summary (or the JSON document, with extra's members added
 * at the top level; extra is consumed), frees r; returns 0 when nothing
 * failed, else 1. */
int nk_report_finish(struct nk_report *r, cJSON *extra);

/* ---- opts.c ---- */

/* notation's --plugin-config rule: split at the first '=', key and value
 * non-empty. VALIDATION_ERROR otherwise. */
int nk_cli_plugin_config(struct nk_config *cfg, const char *kv,
                         struct nk_err *err) NK_MUST_CHECK;
/* Nonzero when arg is --help or -h. */
int nk_cli_is_help(const char *arg);
/* Lower-case hex of SHA-256(der of the public key), into out (65 bytes). */
void nk_cli_pubkey_sha256(EVP_PKEY *pub, char out[65]);
/* The detail line for a revocation result that passed. */
struct nk_revocation_result;
const char *nk_cli_revocation_detail(const struct nk_revocation_result *r);
/* The validity end of a certificate as "2026-01-02T03:04:05Z". */
void nk_cli_cert_not_after(X509 *cert, char out[32]);

/* ---- x509sign.c: certificates and CSRs signed by the external key ---- */

/* Sets x's signature algorithms for the key spec (RSASSA-PSS, salt = hash
 * length, or ecdsa-with-SHA*), has the key sign the TBSCertificate and
 * returns the finished certificate in *out (x is left untouched). */
int nk_cli_sign_cert(struct nk_signing *sg, X509 *x, X509 **out,
                     struct nk_err *err) NK_MUST_CHECK;
int nk_cli_sign_req(struct nk_signing *sg, X509_REQ *r, X509_REQ **out,
                    struct nk_err *err) NK_MUST_CHECK;

/* ---- truststore.c ---- */

/* notation's config directory: $NOTATION_CONFIG, else
 * $XDG_CONFIG_HOME/notation, else ~/.config/notation (malloc'd). */
char *nk_cli_notation_config_dir(void);
/* <config>/truststore/x509/ca/<name>, the directory of ca:<name>
 * (malloc'd). */
char *nk_cli_trust_store_dir(const char *name);
/* Nonzero when ca:<name> exists: its directory holds any entry. */
int nk_cli_trust_exists(const char *name);
/* Writes cert to <config>/truststore/x509/ca/<name>/<name>.crt (dirs
 * 0700, file 0600); an existing file is replaced only when replace is
 * set. *path is malloc'd. name must match [A-Za-z0-9_.-]+. */
int nk_cli_trust_add(const char *name, X509 *cert, int replace, char **path,
                     struct nk_err *err) NK_MUST_CHECK;
/* Every certificate of every regular file in dir (PEM or DER), as notation
 * reads a trust store. */
int nk_cli_trust_load(const char *dir, STACK_OF(X509) * *out,
                      struct nk_err *err) NK_MUST_CHECK;
/* Nonzero when name is a valid trust store name. */
int nk_cli_store_name_ok(const char *name);

#endif
