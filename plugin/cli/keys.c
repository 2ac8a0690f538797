/* notation-keystore keys: what a module's tokens hold (slots, tokens,
 * keys with ready-to-use ids), or a description of one key by id. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/mem.h"
#include "pkcs11/pkcs11.h"
#include "verify/chain.h"

static const char keys_usage[] =
    "usage: notation-keystore keys [--module PATH] [--token LABEL]\n"
    "           [--plugin-config KEY=VALUE]... [--json]\n"
    "       notation-keystore keys --id <key-id> [--plugin-config K=V]... "
    "[--json]\n"
    "\n"
    "Without --id: every slot and token of a PKCS#11 module and the keys on\n"
    "each token, with the key's ready-to-use pkcs11: id, its key spec and\n"
    "whether a certificate sits beside it. Private keys are listed after a\n"
    "login with NOTATION_KEYSTORE_PIN or --plugin-config pin-file=FILE\n"
    "(only on the token named by --token, or the only token); otherwise the\n"
    "public halves are listed.\n"
    "With --id: describes one key through its backend (PKCS#11, AWS KMS,\n"
    "Vault, Azure Key Vault, Google Cloud KMS): backend, key spec, signing\n"
    "algorithm, public key fingerprint and the certificates the store keeps\n"
    "for it.\n"
    "\n"
    "  --module PATH           PKCS#11 module (absolute .so path, or a name\n"
    "                          such as softhsm2); default: "
    "NOTATION_KEYSTORE_PKCS11_MODULE\n"
    "                          or the p11-kit proxy\n"
    "  --token LABEL           the token to log in to\n"
    "  --id <key-id>           describe this key\n"
    "  --plugin-config K=V     pluginConfig (pin-file, aws-region, ...)\n"
    "  --json                  print JSON\n";

static cJSON *key_json(const struct nk_p11_listed_key *k)
{
    cJSON *o = cJSON_CreateObject();
    char *subj;

    cJSON_AddStringToObject(o, "label", k->label);
    cJSON_AddStringToObject(o, "id", k->id_hex);
    cJSON_AddStringToObject(o, "class", k->is_private ? "private" : "public");
    cJSON_AddStringToObject(
        o, "keySpec",
        k->spec != NK_KEYSPEC_NONE ? nk_keyspec_name(k->spec) : "unsupported");
    cJSON_AddBoolToObject(o, "certificate", k->cert != NULL);
    if (k->cert != NULL) {
        subj = nk_cert_name(k->cert);
        cJSON_AddStringToObject(o, "certificateSubject", subj);
        free(subj);
    }
    cJSON_AddStringToObject(o, "uri", k->uri);
    return o;
}

static cJSON *token_json(const struct nk_p11_listed_token *t)
{
    cJSON *o = cJSON_CreateObject(), *keys;
    size_t i;

    cJSON_AddStringToObject(o, "label", t->label);
    cJSON_AddStringToObject(o, "manufacturer", t->manufacturer);
    cJSON_AddStringToObject(o, "model", t->model);
    cJSON_AddStringToObject(o, "serial", t->serial);
    keys = cJSON_AddArrayToObject(o, "keys");
    for (i = 0; i < t->nkeys; i++)
        cJSON_AddItemToArray(keys, key_json(&t->keys[i]));
    cJSON_AddBoolToObject(o, "loggedIn", t->logged_in);
    return o;
}

/* {"module":..., "slots":[{"slotId", "description", "token"}...]} */
static cJSON *listing_json(const struct nk_p11_listing *l)
{
    cJSON *doc = cJSON_CreateObject(), *slots, *o;
    size_t i;

    cJSON_AddStringToObject(doc, "module", l->module);
    slots = cJSON_AddArrayToObject(doc, "slots");
    for (i = 0; i < l->nslots; i++) {
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "slotId", (double)l->slots[i].id);
        if (l->slots[i].description != NULL)
            cJSON_AddStringToObject(o, "description", l->slots[i].description);
        if (l->slots[i].token != NULL)
            cJSON_AddItemToObject(o, "token", token_json(l->slots[i].token));
        else
            cJSON_AddNullToObject(o, "token");
        cJSON_AddItemToArray(slots, o);
    }
    return doc;
}

static void print_key(const cJSON *k)
{
    const char *spec = cJSON_GetStringValue(cJSON_GetObjectItem(k, "keySpec"));
    const cJSON *subj = cJSON_GetObjectItem(k, "certificateSubject");

    printf("  %s key \"%s\" id %s  %s\n",
           cJSON_GetStringValue(cJSON_GetObjectItem(k, "class")),
           cJSON_GetStringValue(cJSON_GetObjectItem(k, "label")),
           cJSON_GetStringValue(cJSON_GetObjectItem(k, "id")), spec);
    printf("    certificate: %s\n",
           subj != NULL ? cJSON_GetStringValue(subj) : "none beside the key");
    printf("    id: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(k, "uri")));
}

static void print_list(const cJSON *doc)
{
    const cJSON *slot, *tok, *k;

    printf("module %s\n",
           cJSON_GetStringValue(cJSON_GetObjectItem(doc, "module")));
    cJSON_ArrayForEach(slot, cJSON_GetObjectItem(doc, "slots"))
    {
        tok = cJSON_GetObjectItem(slot, "token");
        printf("\nslot %.0f \"%s\"",
               cJSON_GetNumberValue(cJSON_GetObjectItem(slot, "slotId")),
               cJSON_GetStringValue(cJSON_GetObjectItem(slot, "description")));
        if (cJSON_IsNull(tok)) {
            printf(": no initialized token\n");
            continue;
        }
        printf(": token \"%s\" (%s %s, serial %s)\n",
               cJSON_GetStringValue(cJSON_GetObjectItem(tok, "label")),
               cJSON_GetStringValue(cJSON_GetObjectItem(tok, "manufacturer")),
               cJSON_GetStringValue(cJSON_GetObjectItem(tok, "model")),
               cJSON_GetStringValue(cJSON_GetObjectItem(tok, "serial")));
        if (!cJSON_IsTrue(cJSON_GetObjectItem(tok, "loggedIn")))
            printf("  (not logged in: public keys only; set "
                   "NOTATION_KEYSTORE_PIN to see private keys)\n");
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(tok, "keys")) print_key(k);
        if (cJSON_GetArraySize(cJSON_GetObjectItem(tok, "keys")) == 0)
            printf("  no keys\n");
    }
}

/* One key through the signer interface. */
static int describe(const char *id, const struct nk_config *cfg, int json)
{
    struct nk_signing sg;
    struct nk_err err = {0};
    char fp[65], until[32], *subj = NULL;
    cJSON *doc;

    if (nk_signing_open(&sg, id, cfg, &err) != 0) {
        nk_signing_release(&sg);
        return nk_cli_fail("keys", json, &err);
    }
    nk_cli_pubkey_sha256(sg.info.pub, fp);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "backend", sg.signer->ops->name);
    cJSON_AddStringToObject(doc, "keySpec", nk_keyspec_name(sg.info.spec));
    cJSON_AddStringToObject(doc, "signingAlgorithm",
                            nk_keyspec_signing_alg(sg.info.spec));
    cJSON_AddStringToObject(doc, "publicKeySha256", fp);
    if (sg.info.cert != NULL) {
        subj = nk_cert_name(sg.info.cert);
        nk_cli_cert_not_after(sg.info.cert, until);
        cJSON_AddStringToObject(doc, "certificateSubject", subj);
        cJSON_AddStringToObject(doc, "certificateNotAfter", until);
    }
    cJSON_AddNumberToObject(doc, "storeCertificates",
                            sg.info.extra ? sk_X509_num(sg.info.extra) : 0);
    if (json) {
        nk_cli_print_json(doc);
    } else {
        printf("key %s\n  backend:     %s\n  key spec:    %s (%s)\n"
               "  public key:  sha256:%s\n  certificate: %s%s%s\n",
               id, sg.signer->ops->name, nk_keyspec_name(sg.info.spec),
               nk_keyspec_signing_alg(sg.info.spec), fp,
               subj != NULL ? subj : "none beside the key",
               subj != NULL ? ", valid until " : "", subj != NULL ? until : "");
        cJSON_Delete(doc);
    }
    free(subj);
    nk_signing_release(&sg);
    return NK_CLI_OK;
}

/* The module's slots, tokens and keys. */
static int list(const char *module, const char *token,
                const struct nk_config *cfg, int json)
{
    struct nk_err err = {0};
    struct nk_p11_listing *l = NULL;
    cJSON *doc;

    if (nk_p11_list(module, token, cfg, &l, &err) != 0)
        return nk_cli_fail("keys", json, &err);
    doc = listing_json(l);
    nk_p11_listing_free(l);
    if (json) {
        nk_cli_print_json(doc);
    } else {
        print_list(doc);
        cJSON_Delete(doc);
    }
    return NK_CLI_OK;
}

int nk_cli_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"module", required_argument, NULL, 'm'},
        {"token", required_argument, NULL, 't'},
        {"id", required_argument, NULL, 'i'},
        {"plugin-config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *module = NULL, *token = NULL, *id = NULL;
    struct nk_config cfg;
    struct nk_err err = {0};
    int c, json = 0, rc = NK_CLI_USAGE;

    nk_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'm')
            module = optarg;
        else if (c == 't')
            token = optarg;
        else if (c == 'i')
            id = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h') {
            fputs(keys_usage, stdout);
            rc = NK_CLI_OK;
            goto out;
        } else if (c != 'c' || nk_cli_plugin_config(&cfg, optarg, &err) != 0) {
            rc = nk_cli_usage_error("keys", "%s",
                                    err.msg[0] ? err.msg : "unknown option");
            goto out;
        }
    }
    if (optind != argc || (id != NULL && (module != NULL || token != NULL))) {
        rc = nk_cli_usage_error("keys", "use either --id or --module/--token, "
                                        "and no other argument");
        goto out;
    }
    if (id != NULL)
        rc = describe(id, &cfg, json);
    else
        rc = list(module, token, &cfg, json);
out:
    nk_config_release(&cfg);
    return rc;
}
