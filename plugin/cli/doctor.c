/* notation-keystore doctor: runs each step a signing run depends on, in
 * order, and prints pass/fail with the fix for each failure. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/mem.h"
#include "verify/chain.h"
#include "verify/verify.h"

static const char doctor_usage[] =
    "usage: notation-keystore doctor --id <key-id>\n"
    "           [--plugin-config KEY=VALUE]... [--json]\n"
    "\n"
    "Runs every check a signing run depends on, with the same key id and\n"
    "pluginConfig notation would pass: key id syntax, module or service\n"
    "reachable and credentials accepted, key found and of a spec notation\n"
    "supports, certificate chain complete and valid for notation, a test\n"
    "signature verified, revocation status reachable, and the plugin\n"
    "installed where notation looks. Exit status 1 when any check fails.\n"
    "KMS keys are read from the service, not from the public key cache.\n"
    "\n"
    "  --id <key-id>           pkcs11:..., awskms://..., hashivault://...,\n"
    "                          azurekms://..., https://<vault>/keys/...,\n"
    "                          gcpkms://...\n"
    "  --plugin-config K=V     pluginConfig, as in notation key add\n"
    "  --json                  print the report as JSON\n";

/* The fix to suggest for a failed open, by error code. */
static const char *open_fix(enum nk_errcode code)
{
    switch (code) {
    case NK_ERR_ACCESS:
        return "check the credentials: NOTATION_KEYSTORE_PIN or "
               "pluginConfig pin-file for PKCS#11, the AWS role or keys, "
               "VAULT_TOKEN for Vault, AZURE_* variables, a managed "
               "identity or az login for Azure, "
               "GOOGLE_APPLICATION_CREDENTIALS or \"gcloud auth "
               "application-default login\" for Cloud KMS, and the "
               "key's permissions";
    case NK_ERR_VALIDATION:
        return "check the key id: \"notation-keystore keys --module <.so>\" "
               "lists PKCS#11 keys with ready-to-use ids";
    case NK_ERR_TIMEOUT:
    case NK_ERR_THROTTLED:
        return "the service is slow or throttling; retry, or raise "
               "pluginConfig timeout";
    default:
        return "check that the PKCS#11 module loads (module-path) or that "
               "the KMS endpoint is reachable; NOTATION_KEYSTORE_LOG=debug "
               "with NOTATION_KEYSTORE_LOG_FILE traces each step";
    }
}

/* The credential source a KMS backend used and why it skipped the ones
 * before it (the backend says; PKCS#11 has none). */
static void check_credentials(struct nk_signing *sg, struct nk_report *r)
{
    char detail[1200];
    int k;

    if (sg->signer->ops->credential_report == NULL)
        return;
    k = sg->signer->ops->credential_report(sg->signer, detail, sizeof(detail));
    if (k >= 0)
        nk_report_add(r, k > 0 ? NK_CHECK_PASS : NK_CHECK_FAIL, "credentials",
                      detail,
                      "see the credential sources in order in the "
                      "backend's page (docs/aws-kms.md, vault.md, azure.md, "
                      "gcp.md)");
}

/* Opens and describes the key, one report line per step. */
static int check_key(struct nk_signing *sg, const char *id,
                     const struct nk_config *cfg, struct nk_report *r)
{
    const struct nk_signer_ops *ops;
    struct nk_err err = {0};
    enum nk_keyspec spec;
    char fp[65], detail[256];
    double t0 = nk_log_now_ms();

    ops = nk_signer_lookup(id, &err);
    if (ops == NULL) {
        nk_report_add(r, NK_CHECK_FAIL, "key id", err.msg,
                      "use pkcs11:token=...;object=...?module-path=..., "
                      "awskms:///alias/<name>, hashivault://<key> or "
                      "gcpkms://projects/.../cryptoKeyVersions/<n>");
        return -1;
    }
    nk_report_add(r, NK_CHECK_PASS, "key id", ops->name, NULL);
    /* Some backends only reach the store in describe, and a PKCS#11 token
     * that shows the key's public half is logged in to only by login():
     * all count as "key store", so wrong credentials show there. */
    if (ops->open(id, cfg, &sg->signer, &err) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "key store", err.msg,
                      open_fix(err.code));
        return -1;
    }
    if (ops->describe(sg->signer, &sg->info, &err) != 0 ||
        (ops->login != NULL && ops->login(sg->signer, &err) != 0)) {
        nk_report_add(r, NK_CHECK_FAIL, "key store", err.msg,
                      open_fix(err.code));
        check_credentials(sg, r);
        return -1;
    }
    snprintf(detail, sizeof(detail), "key found (%.0f ms)",
             nk_log_now_ms() - t0);
    nk_report_add(r, NK_CHECK_PASS, "key store", detail, NULL);
    check_credentials(sg, r);
    if (sg->info.pub == NULL ||
        nk_keyspec_of_pkey(sg->info.pub, &spec, &err) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "key spec",
                      err.msg[0] ? err.msg : "no public key",
                      "notation signs with RSA 2048/3072/4096 or EC "
                      "P-256/P-384/P-521 keys only");
        return -1;
    }
    sg->info.spec = spec;
    nk_cli_pubkey_sha256(sg->info.pub, fp);
    snprintf(detail, sizeof(detail), "%s, %s, public key sha256:%.16s...",
             nk_keyspec_name(spec), nk_keyspec_signing_alg(spec), fp);
    nk_report_add(r, NK_CHECK_PASS, "key spec", detail, NULL);
    return 0;
}

static int check_chain(struct nk_signing *sg, const struct nk_config *cfg,
                       struct nk_report *r)
{
    struct nk_err err = {0};
    char detail[640], until[32], *subj;
    X509 *leaf;
    time_t end;

    if (nk_signing_prepare(sg, cfg, &err) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "certificate chain", err.msg,
                      "store a certificate beside the key (notation-keystore "
                      "cert generate-test --id <key-id> <name> --store), or "
                      "set --plugin-config certificate-chain=<PEM, leaf "
                      "first, ending in the root>");
        return -1;
    }
    leaf = sk_X509_value(sg->chain, 0);
    subj = nk_cert_name(leaf);
    nk_cli_cert_not_after(leaf, until);
    snprintf(detail, sizeof(detail),
             "%d certificate%s, leaf \"%s\", valid "
             "until %s",
             sk_X509_num(sg->chain), sk_X509_num(sg->chain) == 1 ? "" : "s",
             subj, until);
    free(subj);
    nk_report_add(r, NK_CHECK_PASS, "certificate chain", detail, NULL);
    if (nk_time_from_asn1(X509_get0_notAfter(leaf), &end) == 0 &&
        end - time(NULL) < 30L * 86400)
        nk_report_add(r, NK_CHECK_WARN, "certificate expiry",
                      "the signing certificate expires within 30 days; "
                      "signatures without a timestamp stop verifying then",
                      NULL);
    return 0;
}

static void check_sign(struct nk_signing *sg, struct nk_report *r)
{
    struct nk_err err = {0};
    unsigned char probe[32], *sig = NULL;
    size_t n = 0;
    char detail[128];
    double t0 = nk_log_now_ms();

    /* A fresh random payload: a service must really sign (no replayed or
     * canned answer passes), and the check against the leaf proves it. */
    if (RAND_bytes(probe, sizeof(probe)) != 1) {
        nk_report_add(r, NK_CHECK_FAIL, "test signature",
                      "no random bytes for the probe", NULL);
        return;
    }
    if (nk_signing_sign(sg, probe, sizeof(probe), &sig, &n, &err) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "test signature", err.msg,
                      "the key must allow signing (CKA_SIGN, KMS key usage "
                      "SIGN_VERIFY, Cloud KMS roles/cloudkms.signer) with "
                      "RSASSA-PSS or ECDSA");
        return;
    }
    free(sig);
    snprintf(detail, sizeof(detail), "%s signature verified (%.0f ms)",
             nk_keyspec_signing_alg(sg->info.spec), nk_log_now_ms() - t0);
    nk_report_add(r, NK_CHECK_PASS, "test signature", detail, NULL);
}

static void check_revocation(struct nk_signing *sg, const struct nk_config *cfg,
                             struct nk_report *r)
{
    struct nk_verify_opts o;
    struct nk_revocation_result res = {0};
    struct nk_verdict v = {0};
    struct nk_err err = {0};

    if (nk_verify_opts_init(&o, cfg, &err) != 0 ||
        nk_revocation_check_chain(sg->chain, &o, &res, &err) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "revocation", err.msg, NULL);
        nk_verify_opts_release(&o);
        return;
    }
    nk_revocation_verdict(&res, &v);
    if (!v.success)
        nk_report_add(r, NK_CHECK_FAIL, "revocation", v.reason,
                      res.worst == NK_REV_REVOKED
                          ? "the certificate is revoked: get a new one"
                          : "the OCSP responder or CRL named in the "
                            "certificates must be reachable over http from "
                            "signers and verifiers");
    else
        nk_report_add(r, NK_CHECK_PASS, "revocation",
                      nk_cli_revocation_detail(&res), NULL);
    nk_revocation_result_release(&res);
    nk_verify_opts_release(&o);
}

/* Where notation looks for the plugin. */
static void check_installed(struct nk_report *r)
{
    const char *lib = getenv("NOTATION_LIBEXEC");
    char *conf = nk_cli_notation_config_dir();
    char *path = nk_xasprintf("%s/plugins/keystore/notation-keystore",
                              lib != NULL && lib[0] ? lib : conf);

    if (access(path, X_OK) == 0)
        nk_report_add(r, NK_CHECK_PASS, "plugin installed", path, NULL);
    else
        nk_report_add(r, NK_CHECK_WARN, "plugin installed",
                      "notation will not find the plugin: run notation "
                      "plugin install --file <tarball>, or make install",
                      NULL);
    free(path);
    free(conf);
}

int nk_cli_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"plugin-config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct nk_config cfg;
    struct nk_signing sg;
    struct nk_report r;
    struct nk_err err = {0};
    const char *id = NULL;
    int c, json = 0, rc = NK_CLI_USAGE;
    cJSON *extra;

    nk_config_init(&cfg);
    memset(&sg, 0, sizeof(sg));
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'i')
            id = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h') {
            fputs(doctor_usage, stdout);
            rc = NK_CLI_OK;
            goto out;
        } else if (c != 'c' || nk_cli_plugin_config(&cfg, optarg, &err) != 0) {
            rc = nk_cli_usage_error("doctor", "%s",
                                    err.msg[0] ? err.msg : "unknown option");
            goto out;
        }
    }
    if (id == NULL || optind != argc) {
        rc = nk_cli_usage_error("doctor", "--id <key-id> is required and "
                                          "takes no other argument");
        goto out;
    }
    /* Ask the KMS, not the on-disk public key cache, so that credentials
     * are really checked. */
    if (nk_config_get(&cfg, "cache") == NULL)
        nk_config_set(&cfg, "cache", "false");
    nk_report_init(&r, json);
    if (check_key(&sg, id, &cfg, &r) == 0 && check_chain(&sg, &cfg, &r) == 0) {
        check_sign(&sg, &r);
        check_revocation(&sg, &cfg, &r);
    }
    check_installed(&r);
    extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "keyId", id);
    rc = nk_report_finish(&r, extra);
out:
    nk_signing_release(&sg);
    nk_config_release(&cfg);
    return rc;
}
