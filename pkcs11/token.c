/* Loading the module through libp11, the URI's token filter, and login
 * with the rules that keep a PIN counter safe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "module.h"
#include "p11.h"
#include "pin.h"
#include "pinprompt.h"

int nk_p11_load(struct nk_p11 *s, const struct nk_config *cfg,
                struct nk_err *err)
{
    if (s->module == NULL && nk_p11_module_resolve(s->uri, cfg, &s->module,
                                                   &s->module_from, err) != 0)
        return -1;
    if (nk_p11_mod_get(s->module, s->module_from, &s->mod, err) != 0)
        return -1;
    nk_p11_mod_use(s->mod, &s->fl, &s->ctx, &s->slots, &s->nslots);
    return 0;
}

static int str_eq(const char *want, const char *have)
{
    return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

/* library-version: "M" compares the major version only, "M.m" both. */
static int libver_matches(const struct nk_p11 *s)
{
    CK_INFO info;
    char have[32];
    const char *want = s->uri->library_version;

    if (want == NULL)
        return 1;
    if (s->fl->C_GetInfo(&info) != CKR_OK)
        return 0;
    if (strchr(want, '.') == NULL)
        snprintf(have, sizeof(have), "%u", info.libraryVersion.major);
    else
        snprintf(have, sizeof(have), "%u.%u", info.libraryVersion.major,
                 info.libraryVersion.minor);
    return strcmp(want, have) == 0;
}

int nk_p11_token_matches(const struct nk_p11 *s, PKCS11_SLOT *slot)
{
    const struct nk_p11_uri *u = s->uri;
    const PKCS11_TOKEN *t = slot->token;

    if (t == NULL || !t->initialized)
        return 0;
    if (u->has_slot_id && PKCS11_get_slotid_from_slot(slot) != u->slot_id)
        return 0;
    return str_eq(u->token, t->label) &&
           str_eq(u->manufacturer, t->manufacturer) &&
           str_eq(u->model, t->model) && str_eq(u->serial, t->serialnr) &&
           str_eq(u->slot_description, slot->description) &&
           str_eq(u->slot_manufacturer, slot->manufacturer) &&
           str_eq(u->library_manufacturer, s->ctx->manufacturer) &&
           str_eq(u->library_description, s->ctx->description) &&
           libver_matches(s);
}

void nk_p11_pin_drop(struct nk_p11 *s)
{
    nk_strfreezero(s->pin);
    s->pin = NULL;
}

static int is_pin_error(CK_RV rv)
{
    return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
           rv == CKR_PIN_LEN_RANGE;
}

/* pkcs11-provider's rule: never spend the last try, never poke a locked
 * PIN. The flags are read afresh: a module loaded earlier (an agent adding
 * a second key) has token information from back then. */
static int pin_state_ok(const struct nk_p11 *s, PKCS11_SLOT *slot,
                        struct nk_err *err)
{
    const PKCS11_TOKEN *t = slot->token;
    CK_TOKEN_INFO info;
    int locked = t->userPinLocked, final = t->userPinFinalTry;

    if (s->fl->C_GetTokenInfo(PKCS11_get_slotid_from_slot(slot), &info) ==
        CKR_OK) {
        locked = (info.flags & CKF_USER_PIN_LOCKED) != 0;
        final = (info.flags & CKF_USER_PIN_FINAL_TRY) != 0;
    }
    if (locked)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "the user PIN of token \"%s\" is locked; no login "
                          "attempted (unlock it with the token's tools)",
                          t->label);
    if (final)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "token \"%s\" reports its user PIN is on its final "
                          "try; no login attempted, so a wrong PIN cannot "
                          "lock it",
                          t->label);
    return 0;
}

/* Nonzero when the application is already logged in to session's token
 * (login state is shared by every session of the application). */
static int logged_in(const struct nk_p11 *s, CK_SESSION_HANDLE session)
{
    CK_SESSION_INFO info;

    return s->fl->C_GetSessionInfo(session, &info) == CKR_OK &&
           (info.state == CKS_RO_USER_FUNCTIONS ||
            info.state == CKS_RW_USER_FUNCTIONS);
}

/* The one C_Login: with the PIN pad, or with the PIN read from its sources
 * now and wiped as soon as the token has it (or handed to *keep). Our own
 * C_Login, not libp11's PKCS11_login, which keeps a copy of the PIN until
 * the slots are released (through every signature). 0 with *rv set, or -1
 * with err set when there is no PIN. */
static int call_login(struct nk_p11 *s, PKCS11_SLOT *slot,
                      CK_SESSION_HANDLE session, const struct nk_config *cfg,
                      char **keep, CK_RV *rv, struct nk_err *err)
{
    const PKCS11_TOKEN *t = slot->token;
    char *pin = NULL;

    char key[96];
    struct nk_pinprompt q = {.token = t->label,
                             .key = key,
                             .tries_low =
                                 t->userPinCountLow || t->userPinFinalTry,
                             .pinentry = nk_config_str(cfg, "pinentry")};

    nk_p11_uri_key_name(s->uri, key, sizeof(key));
    if (t->secureLogin) {
        /* PIN pad or biometric: the token asks the user itself. */
        nk_debug("pkcs11: protected authentication path on \"%s\"", t->label);
        nk_pinprompt_pad(&q);
        *rv = s->fl->C_Login(session, CKU_USER, NULL, 0);
        return 0;
    }
    if (nk_p11_pin_resolve(s->uri, cfg, &pin, &s->pin_from, err) != 0)
        return -1;
    /* No PIN source: the person at the desk, when there is one. */
    if (pin == NULL && nk_pinprompt_ask(&q, &pin, &s->pin_from, err) != 0)
        return -1;
    if (pin == NULL)
        return nk_p11_pin_missing(t->label, err);
    *rv = s->fl->C_Login(session, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    if (keep != NULL && (*rv == CKR_OK || *rv == CKR_USER_ALREADY_LOGGED_IN))
        *keep = pin;
    else
        nk_strfreezero(pin);
    return 0;
}

int nk_p11_login(struct nk_p11 *s, PKCS11_SLOT *slot, CK_SESSION_HANDLE session,
                 const struct nk_config *cfg, char **keep, struct nk_err *err)
{
    const PKCS11_TOKEN *t = slot->token;
    double t0 = nk_log_now_ms();
    CK_RV rv = CKR_GENERAL_ERROR;

    if (keep != NULL)
        *keep = NULL;
    if (!t->loginRequired || logged_in(s, session))
        return 0;
    if (pin_state_ok(s, slot, err) != 0 ||
        call_login(s, slot, session, cfg, keep, &rv, err) != 0)
        return -1;
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
        nk_info("pkcs11: logged in to token \"%s\" (%.1f ms)", t->label,
                nk_log_now_ms() - t0);
        return 0;
    }
    if (is_pin_error(rv))
        return nk_err_set(err, NK_ERR_ACCESS,
                          "wrong PIN for token \"%s\" (from %s): %s; not "
                          "retried",
                          t->label, s->pin_from ? s->pin_from : "PIN pad",
                          nk_p11_rv_name(rv));
    return nk_p11_rv_err(err, rv, "cannot log in to token \"%s\"", t->label);
}
