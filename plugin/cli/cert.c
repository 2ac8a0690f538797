/* notation-keystore cert generate-test | request: a self-signed test
 * certificate or a CSR, signed by the key in its store. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "common/mem.h"
#include "verify/chain.h"

static const char gen_usage[] =
    "usage: notation-keystore cert generate-test --id <key-id> <name>\n"
    "           [--out FILE] [--days N] [--store] [--trust [--force]]\n"
    "           [--plugin-config KEY=VALUE]... [--json]\n"
    "\n"
    "The external-key version of `notation cert generate-test`: a\n"
    "self-signed certificate, subject C=US, ST=WA, O=Notary, CN=<name>,\n"
    "with the extensions notation requires (key usage critical\n"
    "digitalSignature, extended key usage codeSigning, CA:FALSE), signed by\n"
    "the key in its token or KMS. The private key never leaves the store.\n"
    "\n"
    "  --id <key-id>           pkcs11:..., awskms://..., hashivault://...,\n"
    "                          azurekms://..., https://<vault>/keys/...,\n"
    "                          gcpkms://...\n"
    "  --out FILE              where to write the PEM (default <name>.crt)\n"
    "  --days N                validity in days (default 365)\n"
    "  --store                 also store it on the token beside the key\n"
    "                          (same CKA_ID and label; PKCS#11 keys only)\n"
    "  --trust                 add it to notation's trust store as ca:<name>;\n"
    "                          refused when ca:<name> or the output file\n"
    "                          exists\n"
    "  --force                 with --trust: replace them\n"
    "  --plugin-config K=V     pluginConfig for the key (pin-file, ...)\n"
    "  --json                  print the result as JSON\n";

static const char req_usage[] =
    "usage: notation-keystore cert request --id <key-id> --subject <DN>\n"
    "           [--out FILE] [--plugin-config KEY=VALUE]... [--json]\n"
    "\n"
    "A certificate signing request (PKCS#10) for the key, signed by the key\n"
    "in its store, asking for the extensions notation requires. Give it to\n"
    "your CA; then pass the issued chain as pluginConfig certificate-chain.\n"
    "\n"
    "  --id <key-id>           pkcs11:..., awskms://..., hashivault://...,\n"
    "                          azurekms://..., https://<vault>/keys/...,\n"
    "                          gcpkms://...\n"
    "  --subject <DN>          \"C=US, ST=WA, O=Acme, CN=release\" or\n"
    "                          \"/C=US/ST=WA/O=Acme/CN=release\"; notation\n"
    "                          trust policies need C, ST and O\n"
    "  --out FILE              write the PEM there (default stdout)\n"
    "  --plugin-config K=V     pluginConfig for the key\n"
    "  --json                  print the result as JSON\n";

struct cert_opts {
    const char *id, *out, *subject, *name;
    long days;
    int store, trust, force, json;
    struct nk_config cfg;
};

enum {
    OPT_ID = 256,
    OPT_OUT,
    OPT_DAYS,
    OPT_STORE,
    OPT_TRUST,
    OPT_FORCE,
    OPT_CONFIG,
    OPT_JSON,
    OPT_SUBJECT,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"out", required_argument, NULL, OPT_OUT},
    {"days", required_argument, NULL, OPT_DAYS},
    {"store", no_argument, NULL, OPT_STORE},
    {"trust", no_argument, NULL, OPT_TRUST},
    {"force", no_argument, NULL, OPT_FORCE},
    {"plugin-config", required_argument, NULL, OPT_CONFIG},
    {"json", no_argument, NULL, OPT_JSON},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses argv (argv[0] = "generate-test" or "request"): -1 to go on,
 * else the exit status to return (0 after --help). */
static int parse(int argc, char **argv, const char *cmd, const char *usage,
                 struct cert_opts *o)
{
    struct nk_err err = {0};
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_ID:
            o->id = optarg;
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case OPT_STORE:
            o->store = 1;
            break;
        case OPT_TRUST:
            o->trust = 1;
            break;
        case OPT_FORCE:
            o->force = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_SUBJECT:
            o->subject = optarg;
            break;
        case OPT_DAYS:
            o->days = strtol(optarg, &end, 10);
            if (*end != '\0' || o->days < 1 || o->days > 36500)
                return nk_cli_usage_error(cmd, "--days must be 1 to 36500");
            break;
        case OPT_CONFIG:
            if (nk_cli_plugin_config(&o->cfg, optarg, &err) != 0)
                return nk_cli_usage_error(cmd, "%s", err.msg);
            break;
        case 'h':
        case OPT_HELP:
            fputs(usage, stdout);
            return NK_CLI_OK;
        default:
            return nk_cli_usage_error(cmd, "unknown option");
        }
    }
    if (o->id == NULL)
        return nk_cli_usage_error(cmd, "--id <key-id> is required");
    return -1;
}

/* Adds one "ATTR=value" to name. */
static int add_rdn(X509_NAME *name, char *rdn, struct nk_err *err)
{
    char *eq = strchr(rdn, '='), *v, *e;

    while (*rdn == ' ')
        rdn++;
    if (eq == NULL || eq == rdn)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "subject part \"%s\" is "
                          "not ATTR=value",
                          rdn);
    *eq = '\0';
    for (e = eq; e > rdn && e[-1] == ' '; e--)
        e[-1] = '\0';
    v = eq + 1;
    while (*v == ' ')
        v++;
    for (e = v + strlen(v); e > v && e[-1] == ' '; e--)
        e[-1] = '\0';
    if (*v == '\0' ||
        X509_NAME_add_entry_by_txt(name, rdn, MBSTRING_UTF8,
                                   (const unsigned char *)v, -1, -1, 0) != 1)
        return nk_err_ssl(err, NK_ERR_VALIDATION,
                          "bad subject attribute "
                          "\"%s\"",
                          rdn);
    return 0;
}

/* "C=US, ST=WA, O=Acme, CN=x" (backslash escapes a comma) or
 * "/C=US/ST=WA/O=Acme/CN=x", in the order written. */
static int parse_dn(const char *s, X509_NAME **out, struct nk_err *err)
{
    char sep = s[0] == '/' ? '/' : ',';
    char *copy = nk_xstrdup(s[0] == '/' ? s + 1 : s), *r = copy, *w = copy;
    char *start = copy;
    X509_NAME *name = X509_NAME_new();
    int ret = -1;

    for (;; r++) {
        if (*r == '\\' && r[1] != '\0') {
            *w++ = *++r;
            continue;
        }
        if (*r == sep || *r == '\0') {
            int last = *r == '\0';

            *w = '\0';
            if (add_rdn(name, start, err) != 0)
                goto out;
            if (last)
                break;
            start = w = r + 1;
            continue;
        }
        *w++ = *r;
    }
    *out = name;
    name = NULL;
    ret = 0;
out:
    X509_NAME_free(name);
    free(copy);
    return ret;
}

static int add_ext(X509 *x, int nid, const char *value, struct nk_err *err)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0
              : nk_err_ssl(err, NK_ERR_GENERIC,
                           "cannot add extension "
                           "\"%s\"",
                           value);
}

/* The unsigned test certificate for the key. */
static int build_cert(EVP_PKEY *pub, const char *cn, long days, X509 **out,
                      struct nk_err *err)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    unsigned char serial[16];
    BIGNUM *bn = NULL;

    *out = NULL;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    serial[0] |= 0x40; /* positive, always 16 bytes */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || X509_set_version(x, 2) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8,
                                   (const unsigned char *)"US", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "ST", MBSTRING_UTF8,
                                   (const unsigned char *)"WA", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)"Notary", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) == NULL ||
        X509_set_pubkey(x, pub) != 1)
        goto fail;
    BN_free(bn);
    if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE", err) != 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature", err) != 0 ||
        add_ext(x, NID_ext_key_usage, "codeSigning", err) != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash", err) != 0) {
        X509_free(x);
        return -1;
    }
    *out = x;
    return 0;
fail:
    BN_free(bn);
    X509_free(x);
    return nk_err_ssl(err, NK_ERR_GENERIC, "cannot build the certificate");
}

/* Writes the PEM to path (stdout when NULL); with excl, an existing file
 * is an error rather than replaced. */
static int write_pem(const char *path, int excl, X509 *cert, X509_REQ *req,
                     struct nk_err *err)
{
    FILE *f = path != NULL ? fopen(path, excl ? "wx" : "w") : stdout;
    int ok;

    if (f == NULL)
        return nk_err_set(err, NK_ERR_GENERIC, "cannot write \"%s\": %s", path,
                          strerror(errno));
    ok = cert != NULL ? PEM_write_X509(f, cert) : PEM_write_X509_REQ(f, req);
    if (path != NULL && fclose(f) != 0)
        ok = 0;
    return ok == 1 ? 0
                   : nk_err_ssl(err, NK_ERR_GENERIC, "cannot write \"%s\"",
                                path != NULL ? path : "stdout");
}

/* Prints what was done and the commands to use the certificate. */
static void report_cert(const struct cert_opts *o, X509 *cert, const char *out,
                        const char *trusted, int stored)
{
    char *subj = nk_cert_name(cert), *abs = realpath(out, NULL);
    char until[32];
    cJSON *doc;

    nk_cli_cert_not_after(cert, until);
    if (o->json) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "certificate", abs ? abs : out);
        cJSON_AddStringToObject(doc, "subject", subj);
        cJSON_AddStringToObject(doc, "notAfter", until);
        cJSON_AddBoolToObject(doc, "stored", stored);
        if (trusted != NULL)
            cJSON_AddStringToObject(doc, "trustStore", trusted);
        nk_cli_print_json(doc);
    } else {
        printf("certificate: %s\n  subject:   %s\n  valid until %s\n",
               abs ? abs : out, subj, until);
        if (stored)
            printf("stored on the token beside the key\n");
        if (trusted != NULL)
            printf("added to notation's trust store as ca:%s (%s)\n", o->name,
                   trusted);
        printf("\nUse it:\n  notation key add %s --plugin keystore "
               "--id '%s'",
               o->name, o->id);
        if (!stored)
            printf(" --plugin-config certificate-chain=%s", abs ? abs : out);
        printf("\nTrust policy identity:\n  \"x509.subject: C=US, ST=WA, "
               "O=Notary, CN=%s\"\n",
               o->name);
    }
    free(subj);
    free(abs);
}

/* --trust must not silently replace a trust anchor that trust policies
 * may rely on, nor the certificate file beside it: checked before the key
 * is even opened. */
static int check_not_there(const struct cert_opts *o, const char *out,
                           struct nk_err *err)
{
    struct stat st;
    char *dir;

    if (!o->trust || o->force)
        return 0;
    if (lstat(out, &st) == 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" already exists; add --force to replace it",
                          out);
    if (!nk_cli_trust_exists(o->name))
        return 0;
    dir = nk_cli_trust_store_dir(o->name);
    nk_err_set(err, NK_ERR_VALIDATION,
               "notation's trust store already has ca:%s (\"%s\"); add "
               "--force to replace its %s.crt",
               o->name, dir, o->name);
    free(dir);
    return -1;
}

static int generate_test(struct cert_opts *o)
{
    struct nk_signing sg;
    struct nk_err err = {0};
    STACK_OF(X509) *one = sk_X509_new_null();
    X509 *tbs = NULL, *cert = NULL;
    char *out = NULL, *trusted = NULL;
    int ret = -1, stored = 0;

    memset(&sg, 0, sizeof(sg));
    out = o->out != NULL ? nk_xstrdup(o->out) : nk_xasprintf("%s.crt", o->name);
    if (check_not_there(o, out, &err) != 0 ||
        (o->store ? nk_signing_open_direct(&sg, o->id, &o->cfg, &err)
                  : nk_signing_open(&sg, o->id, &o->cfg, &err)) != 0 ||
        build_cert(sg.info.pub, o->name, o->days, &tbs, &err) != 0 ||
        nk_cli_sign_cert(&sg, tbs, &cert, &err) != 0)
        goto out;
    /* notation's own rules, so a certificate we hand out always signs */
    X509_up_ref(cert);
    sk_X509_push(one, cert);
    if (nk_chain_check_codesigning(one, time(NULL), &err) != 0 ||
        write_pem(out, o->trust && !o->force, cert, NULL, &err) != 0)
        goto out;
    if (o->store && sg.signer->ops->store_cert == NULL) {
        nk_err_set(&err, NK_ERR_VALIDATION,
                   "--store needs a pkcs11: key; keep the file and set "
                   "pluginConfig certificate-chain for KMS keys");
        goto out;
    }
    if (o->store) {
        if (sg.signer->ops->store_cert(sg.signer, cert, &err) != 0)
            goto out;
        stored = 1;
    }
    if (o->trust &&
        nk_cli_trust_add(o->name, cert, o->force, &trusted, &err) != 0)
        goto out;
    report_cert(o, cert, out, trusted, stored);
    ret = 0;
out:
    nk_signing_release(&sg);
    sk_X509_pop_free(one, X509_free);
    X509_free(tbs);
    X509_free(cert);
    free(out);
    free(trusted);
    return ret == 0 ? NK_CLI_OK
                    : nk_cli_fail("cert generate-test", o->json, &err);
}

/* extensionRequest: what notation needs in the issued leaf. */
static int add_req_exts(X509_REQ *r, struct nk_err *err)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *e1, *e2;
    int ok;

    e1 = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
                             "critical,digitalSignature");
    e2 = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "codeSigning");
    ok = e1 != NULL && e2 != NULL && sk_X509_EXTENSION_push(exts, e1) &&
         sk_X509_EXTENSION_push(exts, e2) &&
         X509_REQ_add_extensions(r, exts) == 1;
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (!ok)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "cannot add the requested "
                          "extensions");
    return 0;
}

static int request(struct cert_opts *o)
{
    struct nk_signing sg;
    struct nk_err err = {0};
    X509_NAME *name = NULL;
    X509_REQ *r = X509_REQ_new(), *signed_req = NULL;
    int ret = -1;

    memset(&sg, 0, sizeof(sg));
    if (parse_dn(o->subject, &name, &err) != 0 ||
        nk_signing_open(&sg, o->id, &o->cfg, &err) != 0)
        goto out;
    if (X509_REQ_set_version(r, 0) != 1 ||
        X509_REQ_set_subject_name(r, name) != 1 ||
        X509_REQ_set_pubkey(r, sg.info.pub) != 1) {
        nk_err_ssl(&err, NK_ERR_GENERIC, "cannot build the request");
        goto out;
    }
    if (add_req_exts(r, &err) != 0 ||
        nk_cli_sign_req(&sg, r, &signed_req, &err) != 0 ||
        write_pem(o->out, 0, NULL, signed_req, &err) != 0)
        goto out;
    if (o->out != NULL)
        printf("certificate request: %s\n", o->out);
    ret = 0;
out:
    nk_signing_release(&sg);
    X509_NAME_free(name);
    X509_REQ_free(r);
    X509_REQ_free(signed_req);
    return ret == 0 ? NK_CLI_OK : nk_cli_fail("cert request", o->json, &err);
}

int nk_cli_cert(int argc, char **argv)
{
    struct cert_opts o;
    int gen, rc;

    if (argc < 2 || nk_cli_is_help(argv[1])) {
        fputs(gen_usage, argc < 2 ? stderr : stdout);
        fputs("\n", argc < 2 ? stderr : stdout);
        fputs(req_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? NK_CLI_USAGE : NK_CLI_OK;
    }
    gen = strcmp(argv[1], "generate-test") == 0;
    if (!gen && strcmp(argv[1], "request") != 0)
        return nk_cli_usage_error("cert",
                                  "unknown subcommand \"%s\": use "
                                  "generate-test or request",
                                  argv[1]);
    memset(&o, 0, sizeof(o));
    o.days = 365;
    nk_config_init(&o.cfg);
    rc = parse(argc - 1, argv + 1, gen ? "cert generate-test" : "cert request",
               gen ? gen_usage : req_usage, &o);
    if (rc < 0 && gen) {
        if (o.subject != NULL)
            rc = nk_cli_usage_error("cert generate-test",
                                    "--subject is for request; the test "
                                    "certificate's subject is fixed");
        else if (optind != argc - 2)
            rc = nk_cli_usage_error("cert generate-test",
                                    "give exactly one "
                                    "<name> (the certificate's CN)");
        else if (o.force && !o.trust)
            rc = nk_cli_usage_error("cert generate-test",
                                    "--force goes with --trust");
        else if (!nk_cli_store_name_ok((o.name = argv[optind + 1])))
            rc = nk_cli_usage_error("cert generate-test",
                                    "<name> \"%s\" must "
                                    "match [A-Za-z0-9_.-]+ (it names the "
                                    "trust store)",
                                    o.name);
        else
            rc = generate_test(&o);
    } else if (rc < 0) {
        if (o.store || o.trust || o.force || o.days != 365)
            rc = nk_cli_usage_error("cert request",
                                    "--store, --trust, --force and "
                                    "--days are for generate-test");
        else if (o.subject == NULL || optind != argc - 1)
            rc = nk_cli_usage_error("cert request",
                                    "--subject <DN> is "
                                    "required and takes no other argument");
        else
            rc = request(&o);
    }
    nk_config_release(&o.cfg);
    return rc;
}
