/* notation-keystore verify: offline verification of a JWS or COSE
 * signature envelope against a trust store directory, one report line per
 * check (integrity, payload, chain, trust store, identity, expiry,
 * timestamp, revocation), exit status 0 when all pass. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ts.h>

#include "cli/cli.h"
#include "envelope/sigenv.h"
#include "common/buf.h"
#include "common/mem.h"
#include "common/sigcheck.h"
#include "envelope/payload.h"
#include "verify/chain.h"
#include "verify/verify.h"

#define MAX_IDENTITIES 16

static const char verify_usage[] =
    "usage: notation-keystore verify <signature-file> --trust-store <dir>\n"
    "           [--identity \"x509.subject: C=..., ST=..., O=...\"]...\n"
    "           [--payload-digest sha256:<hex>] [--tsa-store <dir>]\n"
    "           [--skip-revocation] [--plugin-config KEY=VALUE]... [--json]\n"
    "\n"
    "Verifies a notation signature envelope (JWS .jws.sig or COSE .cose.sig,\n"
    "as pulled with oras or found in an OCI layout) without a registry:\n"
    "integrity (signature by the leaf key over the signed bytes), payload,\n"
    "certificate chain (notation's code-signing rules at signing time),\n"
    "trust store (a chain certificate equals one in <dir>), trusted\n"
    "identity, expiry, RFC 3161 timestamp and revocation (OCSP, CRL).\n"
    "\n"
    "  --trust-store <dir>     directory of trusted CA/root certificates,\n"
    "                          e.g. "
    "~/.config/notation/truststore/x509/ca/<name>\n"
    "  --identity <id>         trusted identity as in a trust policy; may be\n"
    "                          repeated; \"*\" accepts any\n"
    "  --payload-digest <d>    the artifact digest the signature must cover\n"
    "  --tsa-store <dir>       TSA root certificates to verify a timestamp\n"
    "  --skip-revocation       do not contact OCSP responders or CRL servers\n"
    "  --plugin-config K=V     ocsp-timeout, crl-timeout, crl-cache\n"
    "  --json                  print the report as JSON\n";

struct vopts {
    const char *file, *store, *digest, *tsa;
    const char *ids[MAX_IDENTITIES];
    size_t n_ids;
    int skip_rev, json;
    struct nk_config cfg;
};

static void add_err(struct nk_report *r, const char *name,
                    const struct nk_err *err, const char *fix)
{
    nk_report_add(r, NK_CHECK_FAIL, name, err->msg, fix);
}

static int check_integrity(const struct nk_sigenv *e, struct nk_report *r)
{
    struct nk_err err = {0};
    EVP_PKEY *pub = X509_get0_pubkey(sk_X509_value(e->chain, 0));
    enum nk_keyspec spec;
    unsigned char digest[64];
    size_t dlen;
    char detail[128];

    if (pub == NULL || nk_keyspec_of_pkey(pub, &spec, &err) != 0) {
        add_err(r, "integrity", &err, NULL);
        return -1;
    }
    if (strcmp(e->alg, nk_keyspec_jws_alg(spec)) != 0) {
        snprintf(detail, sizeof(detail),
                 "algorithm %s does not match the "
                 "signing certificate's %s key",
                 e->alg, nk_keyspec_name(spec));
        nk_report_add(r, NK_CHECK_FAIL, "integrity", detail, NULL);
        return -1;
    }
    dlen = nk_hash_digest(nk_keyspec_hash(spec), e->tbs, e->tbs_len, digest);
    if (nk_sig_check(pub, spec, digest, dlen, e->sig, e->sig_len, &err) != 0) {
        nk_err_prefix(&err, "signature does not verify");
        add_err(r, "integrity", &err,
                "the envelope was changed after "
                "signing, or was signed by another key");
        return -1;
    }
    snprintf(detail, sizeof(detail), "%s signature by the leaf key verified",
             e->alg);
    nk_report_add(r, NK_CHECK_PASS, "integrity", detail, NULL);
    return 0;
}

/* The payload is notation's, and covers the expected digest. */
static void check_payload(const struct nk_sigenv *e, const char *want,
                          cJSON *extra, struct nk_report *r)
{
    struct nk_err err = {0};
    cJSON *j = NULL;
    const char *digest;
    char detail[256];

    if (nk_payload_check(e->payload, e->payload_len, &err) != 0 ||
        (j = cJSON_ParseWithLength((const char *)e->payload, e->payload_len)) ==
            NULL) {
        add_err(r, "payload", &err, NULL);
        return;
    }
    digest = cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(j, "targetArtifact"), "digest"));
    if (digest == NULL)
        digest = "";
    cJSON_AddStringToObject(extra, "payloadDigest", digest);
    if (want != NULL && strcmp(want, digest) != 0) {
        snprintf(detail, sizeof(detail),
                 "signature covers \"%.80s\", not "
                 "\"%.80s\"",
                 digest, want);
        nk_report_add(r, NK_CHECK_FAIL, "payload", detail,
                      "this signature belongs to another artifact");
    } else {
        snprintf(detail, sizeof(detail), "target artifact %.100s%s", digest,
                 want != NULL ? " (matches --payload-digest)" : "");
        nk_report_add(r, NK_CHECK_PASS, "payload", detail, NULL);
    }
    cJSON_Delete(j);
}

static void check_chain(const struct nk_sigenv *e, struct nk_report *r)
{
    struct nk_err err = {0};
    char detail[64];

    if (nk_chain_check_codesigning(e->chain, e->signing_time, &err) != 0) {
        add_err(r, "certificate chain", &err,
                "notation rejects this chain "
                "too; sign again with a chain that passes "
                "\"notation-keystore doctor\"");
        return;
    }
    snprintf(detail, sizeof(detail),
             "%d certificate%s, valid for code "
             "signing",
             sk_X509_num(e->chain), sk_X509_num(e->chain) == 1 ? "" : "s");
    nk_report_add(r, NK_CHECK_PASS, "certificate chain", detail, NULL);
}

static void check_trust(const struct nk_sigenv *e, const char *dir,
                        struct nk_report *r)
{
    struct nk_err err = {0};
    STACK_OF(X509) *ts = NULL;
    char detail[600], *name;
    int i, j;

    if (nk_cli_trust_load(dir, &ts, &err) != 0) {
        add_err(r, "trust store", &err, NULL);
        return;
    }
    for (i = 0; i < sk_X509_num(e->chain); i++)
        for (j = 0; j < sk_X509_num(ts); j++)
            if (X509_cmp(sk_X509_value(e->chain, i), sk_X509_value(ts, j)) == 0)
                goto found;
    nk_report_add(r, NK_CHECK_FAIL, "trust store",
                  "no certificate of the "
                  "chain is in the trust store",
                  "add the signer's root: notation cert add --type ca "
                  "--store <name> <root.pem>");
    sk_X509_pop_free(ts, X509_free);
    return;
found:
    name = nk_cert_name(sk_X509_value(e->chain, i));
    snprintf(detail, sizeof(detail),
             "chain certificate \"%.500s\" is "
             "trusted",
             name);
    nk_report_add(r, NK_CHECK_PASS, "trust store", detail, NULL);
    free(name);
    sk_X509_pop_free(ts, X509_free);
}

static void check_identity(const struct nk_sigenv *e, const struct vopts *o,
                           struct nk_report *r)
{
    struct nk_verdict v = {0};

    if (o->n_ids == 0) {
        nk_report_add(r, NK_CHECK_SKIP, "trusted identity",
                      "no --identity "
                      "given",
                      NULL);
        return;
    }
    nk_identity_check(sk_X509_value(e->chain, 0), o->ids, o->n_ids, &v);
    nk_report_add(r, v.success ? NK_CHECK_PASS : NK_CHECK_FAIL,
                  "trusted identity", v.reason,
                  "the signer is not one the given identities allow");
}

/* Verifies the RFC 3161 token over the signature bytes; *at is its time
 * when it verifies. */
static void check_timestamp(const struct nk_sigenv *e, const char *tsa_dir,
                            time_t *at, struct nk_report *r)
{
    struct nk_err err = {0};
    const unsigned char *p = e->tst;
    PKCS7 *tok = NULL;
    TS_TST_INFO *info = NULL;
    TS_VERIFY_CTX *ctx = NULL;
    X509_STORE *store = NULL;
    STACK_OF(X509) *roots = NULL;
    char when[32], detail[160];
    time_t gen = 0;
    int i;

    if (e->tst == NULL) {
        nk_report_add(r, NK_CHECK_SKIP, "timestamp",
                      "the signature has no "
                      "timestamp",
                      NULL);
        return;
    }
    tok = d2i_PKCS7(NULL, &p, (long)e->tst_len);
    info = tok != NULL ? PKCS7_to_TS_TST_INFO(tok) : NULL;
    if (info == NULL ||
        nk_time_from_asn1(TS_TST_INFO_get_time(info), &gen) != 0) {
        nk_report_add(r, NK_CHECK_FAIL, "timestamp",
                      "the timestamp token "
                      "cannot be read",
                      NULL);
        goto out;
    }
    nk_time_format(gen, when, sizeof(when));
    if (tsa_dir == NULL) {
        snprintf(detail, sizeof(detail),
                 "timestamped %s, not verified: "
                 "give --tsa-store",
                 when);
        nk_report_add(r, NK_CHECK_WARN, "timestamp", detail, NULL);
        goto out;
    }
    if (nk_cli_trust_load(tsa_dir, &roots, &err) != 0) {
        add_err(r, "timestamp", &err, NULL);
        goto out;
    }
    store = X509_STORE_new();
    for (i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    ctx = TS_VERIFY_CTX_new();
    TS_VERIFY_CTX_set_flags(ctx,
                            TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
    TS_VERIFY_CTX_set_data(ctx, BIO_new_mem_buf(e->sig, (int)e->sig_len));
    TS_VERIFY_CTX_set_store(ctx, store);
    if (TS_RESP_verify_token(ctx, tok) != 1) {
        nk_err_ssl(&err, NK_ERR_VALIDATION, "timestamp does not verify");
        add_err(r, "timestamp", &err, "check --tsa-store holds the TSA root");
        goto out;
    }
    *at = gen;
    snprintf(detail, sizeof(detail), "timestamped %s by a trusted TSA", when);
    nk_report_add(r, NK_CHECK_PASS, "timestamp", detail, NULL);
out:
    TS_VERIFY_CTX_free(ctx);
    TS_TST_INFO_free(info);
    PKCS7_free(tok);
    sk_X509_pop_free(roots, X509_free);
}

/* Signature expiry now; certificate validity now, or at the verified
 * timestamp (notation's authentic timestamp rule). */
static void check_expiry(const struct nk_sigenv *e, time_t ts,
                         struct nk_report *r)
{
    struct nk_verdict v = {0};
    time_t now = time(NULL);
    char when[32], detail[96];

    if (e->expiry != 0 && now >= e->expiry) {
        nk_time_format(e->expiry, when, sizeof(when));
        snprintf(detail, sizeof(detail), "the signature expired on %s", when);
        nk_report_add(r, NK_CHECK_FAIL, "expiry", detail,
                      "sign the artifact again");
        return;
    }
    nk_expiry_check(e->chain, 0, ts != 0 ? ts : now, &v);
    nk_report_add(r, v.success ? NK_CHECK_PASS : NK_CHECK_FAIL, "expiry",
                  v.success ? (ts != 0 ? "certificates valid at the "
                                         "timestamp"
                                       : "signature and certificates "
                                         "valid now")
                            : v.reason,
                  "a certificate has expired: without a timestamp the "
                  "signature stops verifying then");
}

static void check_revocation(const struct nk_sigenv *e, const struct vopts *o,
                             struct nk_report *r)
{
    struct nk_verify_opts vo;
    struct nk_revocation_result res = {0};
    struct nk_verdict v = {0};
    struct nk_err err = {0};

    if (o->skip_rev) {
        nk_report_add(r, NK_CHECK_SKIP, "revocation", "--skip-revocation",
                      NULL);
        return;
    }
    if (nk_verify_opts_init(&vo, &o->cfg, &err) != 0) {
        add_err(r, "revocation", &err, NULL);
        return;
    }
    if (strcmp(e->scheme, "notary.x509.signingAuthority") == 0)
        vo.signing_time = e->signing_time;
    if (nk_revocation_check_chain(e->chain, &vo, &res, &err) != 0) {
        add_err(r, "revocation", &err, NULL);
    } else {
        nk_revocation_verdict(&res, &v);
        nk_report_add(r, v.success ? NK_CHECK_PASS : NK_CHECK_FAIL,
                      "revocation",
                      v.success ? nk_cli_revocation_detail(&res) : v.reason,
                      res.worst == NK_REV_REVOKED
                          ? "do not trust this "
                            "signature"
                          : "OCSP/CRL servers unreachable: retry "
                            "online, or --skip-revocation in an air gap");
    }
    nk_revocation_result_release(&res);
    nk_verify_opts_release(&vo);
}

static int run(const struct vopts *o)
{
    struct nk_buf in;
    struct nk_sigenv e;
    struct nk_report r;
    struct nk_err err = {0};
    cJSON *extra = cJSON_CreateObject();
    char when[32], *subj;
    time_t ts = 0;

    memset(&e, 0, sizeof(e));
    nk_buf_init(&in, NK_SIGENV_MAX);
    nk_report_init(&r, o->json);
    cJSON_AddStringToObject(extra, "signature", o->file);
    if (nk_buf_read_file(&in, o->file, &err) != 0 ||
        nk_sigenv_parse(in.data, in.len, &e, &err) != 0) {
        add_err(&r, "envelope", &err,
                "give the .jws.sig or .cose.sig blob "
                "of a notation signature");
        goto out;
    }
    nk_time_format(e.signing_time, when, sizeof(when));
    subj = nk_cert_name(sk_X509_value(e.chain, 0));
    cJSON_AddStringToObject(extra, "format", e.cose ? "cose" : "jws");
    cJSON_AddStringToObject(extra, "signingTime", when);
    cJSON_AddStringToObject(extra, "signer", subj);
    free(subj);
    nk_report_add(&r, NK_CHECK_PASS, "envelope",
                  e.cose ? "COSE_Sign1 (application/cose)"
                         : "JWS (application/jose+json)",
                  NULL);
    if (check_integrity(&e, &r) != 0)
        goto out;
    check_payload(&e, o->digest, extra, &r);
    check_chain(&e, &r);
    check_trust(&e, o->store, &r);
    check_identity(&e, o, &r);
    check_timestamp(&e, o->tsa, &ts, &r);
    check_expiry(&e, ts, &r);
    check_revocation(&e, o, &r);
out:
    nk_sigenv_release(&e);
    nk_buf_release(&in);
    return nk_report_finish(&r, extra);
}

int nk_cli_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trust-store", required_argument, NULL, 's'},
        {"identity", required_argument, NULL, 'i'},
        {"payload-digest", required_argument, NULL, 'd'},
        {"tsa-store", required_argument, NULL, 't'},
        {"skip-revocation", no_argument, NULL, 'n'},
        {"plugin-config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vopts o;
    struct nk_err err = {0};
    int c, rc = NK_CLI_USAGE;

    memset(&o, 0, sizeof(o));
    nk_config_init(&o.cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's')
            o.store = optarg;
        else if (c == 'd')
            o.digest = optarg;
        else if (c == 't')
            o.tsa = optarg;
        else if (c == 'n')
            o.skip_rev = 1;
        else if (c == 'j')
            o.json = 1;
        else if (c == 'i' && o.n_ids < MAX_IDENTITIES)
            o.ids[o.n_ids++] = optarg;
        else if (c == 'h') {
            fputs(verify_usage, stdout);
            rc = NK_CLI_OK;
            goto out;
        } else if (c != 'c' ||
                   nk_cli_plugin_config(&o.cfg, optarg, &err) != 0) {
            rc = nk_cli_usage_error(
                "verify", "%s",
                err.msg[0] ? err.msg : "unknown option or too many --identity");
            goto out;
        }
    }
    if (optind != argc - 1 || o.store == NULL) {
        rc = nk_cli_usage_error("verify", "give one <signature-file> and "
                                          "--trust-store <dir>");
        goto out;
    }
    o.file = argv[optind];
    rc = run(&o);
out:
    nk_config_release(&o.cfg);
    return rc;
}
