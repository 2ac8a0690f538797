#!/usr/bin/env bash
# Token faults: every C_* function the plugin and libp11 call, failed with
# each CKR_* value PKCS#11 v2.40 lists for it (tests/lib/p11shim.c's
# NK_SHIM_FAIL, forwarding to SoftHSM), each call of the busy functions
# failed in turn, and hostile answers (absurd lengths and counts, garbage
# token labels). Each case is one plugin run checked by
# tests/lib/p11faults.py: the errorCode the table expects (or a response
# where a fault is tolerated), one error JSON and nothing on stdout, no
# signal or sanitizer report, at most one C_Login per user type, C_Finalize
# after every successful C_Initialize. Prints the matrix at the end.
# FAULTS_ONLY=REGEX runs only the cases whose names match.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

if [ ! -x "$NK_BIN" ]; then
    fail "pkcs11-faults: plugin binary $NK_BIN not built"
    exit 1
fi
# Two keys are enough: EC-256 (cheap) for the matrix, RSA-2048 for the
# mechanism fallback; "store" (the EC key again, no certificate) takes the
# certificates cert generate-test --store writes, and "always" (again) has
# CKA_ALWAYS_AUTHENTICATE: a second C_Login (CKU_CONTEXT_SPECIFIC) per
# signature.
PKI_NAMES="rsa2048 ec256"
p11tool() {
    pkcs11-tool --module "$NK_P11_MODULE" --token-label nk-test --login \
        --pin "$NK_P11_PIN" "$@" >/dev/null
}
if ! { softhsm_std_token "$NK_TMP/std" &&
    softhsm_import_key nk-test 10 store "$NK_P11_PKI/ec256.key" &&
    p11tool --write-object "$NK_P11_PKI/ec256.key.der" --type privkey \
        --id 0c --label always --usage-sign --always-auth &&
    p11tool --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey \
        --id 0c --label always &&
    p11tool --write-object "$NK_P11_PKI/ec256.der" --type cert --id 0c \
        --label always; } >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "pkcs11-faults: SoftHSM token setup"
    exit 1
fi
if ! p11shim_build "$NK_TMP/shim.so" 2>"$NK_TMP/shim.log"; then
    cat "$NK_TMP/shim.log"
    fail "pkcs11-faults: shim could not be built"
    exit 1
fi
export NK_SHIM_MODULE=$NK_P11_MODULE NOTATION_KEYSTORE_PIN=$NK_P11_PIN
export FAULTS_SHIM=$NK_TMP/shim.so FAULTS_CA=$NK_P11_CA FAULTS_TMP=$NK_TMP NK_BIN
export NOTATION_CONFIG=$NK_TMP/notation XDG_CACHE_HOME=$NK_TMP/cache
unset NOTATION_KEYSTORE_PKCS11_MODULE
# Under a sanitizer, one CKR_ value per distinct expected result of each
# row (the rest take the same path): keeps make check fast.
FAULTS_REDUCED=0
grep -qa __asan_init "$NK_BIN" && FAULTS_REDUCED=1
export FAULTS_REDUCED

# The table. "FUNCTION[:CALL] COMMAND RV..." fails that call (default the
# first) of FUNCTION with each CKR_ value, the list PKCS#11 v2.40 gives for
# it (CKR_OK left out). Commands: describe (describe-key, EC-256; no login:
# the token shows the public key), describe-any (the same key id without
# token=), sign-ec, sign-rsa, sign-aa, sign-any (generate-signature; "always"
# logs in again at each signature; sign-any has no token=), keys (keys
# --json), store (cert generate-test --store --json).
# "expect FUNCTION[:CALLS] RV|* RESULT" overrides the expected result, which
# is otherwise rv.c's mapping (CKR_PIN_*, CKR_USER_* and cancelled or
# rejected functions ACCESS_DENIED; a key, mechanism or data the token
# refuses VALIDATION_ERROR; everything else ERROR) with the CKR_ name in
# the message. RESULT is ok or an errorCode; "~" after it: the message
# need not name the CKR_ value.
# "+RV" lets the call reach the module before it answers RV.
# "sweep COMMAND RV FUNCTION..." fails each call of each FUNCTION in turn.
# "hostile NAME COMMAND RESULT VAR=VALUE..." runs with the shim's VARs.
# "leaky FUNCTION...": when those fail, a LeakSanitizer report is accepted
# if libp11 itself allocated everything it lists.
cat >"$NK_TMP/table" <<'EOF'
C_GetFunctionList:1 describe ARGUMENTS_BAD FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY
C_GetFunctionList:2 describe ARGUMENTS_BAD FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY
C_Initialize:1 describe ARGUMENTS_BAD CANT_LOCK FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY NEED_TO_CREATE_THREADS +CRYPTOKI_ALREADY_INITIALIZED
C_Initialize:2 describe ARGUMENTS_BAD CANT_LOCK FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY NEED_TO_CREATE_THREADS CRYPTOKI_ALREADY_INITIALIZED
C_Finalize describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY
C_GetInfo describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY
C_GetSlotList describe ARGUMENTS_BAD BUFFER_TOO_SMALL CRYPTOKI_NOT_INITIALIZED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY
C_GetSlotInfo describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SLOT_ID_INVALID
C_GetTokenInfo describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SLOT_ID_INVALID TOKEN_NOT_PRESENT TOKEN_NOT_RECOGNIZED
C_OpenSession describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SESSION_COUNT SESSION_PARALLEL_NOT_SUPPORTED SESSION_READ_WRITE_SO_EXISTS SLOT_ID_INVALID TOKEN_NOT_PRESENT TOKEN_NOT_RECOGNIZED TOKEN_WRITE_PROTECTED
C_GetSessionInfo sign-ec ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SESSION_CLOSED SESSION_HANDLE_INVALID
C_Login sign-ec ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_CANCELED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_NOT_INITIALIZED PIN_INCORRECT PIN_LOCKED SESSION_CLOSED SESSION_HANDLE_INVALID SESSION_READ_ONLY_EXISTS +USER_ALREADY_LOGGED_IN USER_ANOTHER_ALREADY_LOGGED_IN USER_PIN_NOT_INITIALIZED USER_TOO_MANY_TYPES USER_TYPE_INVALID PIN_EXPIRED PIN_INVALID PIN_LEN_RANGE
C_Login:2 sign-aa ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_CANCELED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_NOT_INITIALIZED PIN_INCORRECT PIN_LOCKED SESSION_CLOSED SESSION_HANDLE_INVALID SESSION_READ_ONLY_EXISTS USER_ANOTHER_ALREADY_LOGGED_IN USER_PIN_NOT_INITIALIZED USER_TOO_MANY_TYPES USER_TYPE_INVALID PIN_EXPIRED PIN_INVALID PIN_LEN_RANGE
C_FindObjectsInit describe ARGUMENTS_BAD ATTRIBUTE_TYPE_INVALID ATTRIBUTE_VALUE_INVALID CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_ACTIVE PIN_EXPIRED SESSION_CLOSED SESSION_HANDLE_INVALID
C_FindObjects describe ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_NOT_INITIALIZED SESSION_CLOSED SESSION_HANDLE_INVALID
C_FindObjectsFinal describe CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_NOT_INITIALIZED SESSION_CLOSED SESSION_HANDLE_INVALID
C_GetAttributeValue describe ARGUMENTS_BAD ATTRIBUTE_SENSITIVE ATTRIBUTE_TYPE_INVALID BUFFER_TOO_SMALL CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OBJECT_HANDLE_INVALID SESSION_CLOSED SESSION_HANDLE_INVALID
C_CloseSession describe CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SESSION_CLOSED SESSION_HANDLE_INVALID
C_CloseAllSessions describe CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SLOT_ID_INVALID TOKEN_NOT_PRESENT
C_GetMechanismList sign-ec ARGUMENTS_BAD BUFFER_TOO_SMALL CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SLOT_ID_INVALID TOKEN_NOT_PRESENT TOKEN_NOT_RECOGNIZED
C_GetMechanismInfo sign-ec ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY MECHANISM_INVALID SLOT_ID_INVALID TOKEN_NOT_PRESENT TOKEN_NOT_RECOGNIZED
C_GetMechanismInfo sign-rsa MECHANISM_INVALID
C_SignInit sign-ec ARGUMENTS_BAD CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_CANCELED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY KEY_FUNCTION_NOT_PERMITTED KEY_HANDLE_INVALID KEY_SIZE_RANGE KEY_TYPE_INCONSISTENT MECHANISM_INVALID MECHANISM_PARAM_INVALID OPERATION_ACTIVE PIN_EXPIRED SESSION_CLOSED SESSION_HANDLE_INVALID USER_NOT_LOGGED_IN
C_Sign sign-ec ARGUMENTS_BAD BUFFER_TOO_SMALL CRYPTOKI_NOT_INITIALIZED DATA_INVALID DATA_LEN_RANGE DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_CANCELED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OPERATION_NOT_INITIALIZED SESSION_CLOSED SESSION_HANDLE_INVALID USER_NOT_LOGGED_IN FUNCTION_REJECTED
C_Logout keys CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY SESSION_CLOSED SESSION_HANDLE_INVALID USER_NOT_LOGGED_IN
C_DestroyObject store ACTION_PROHIBITED CRYPTOKI_NOT_INITIALIZED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY OBJECT_HANDLE_INVALID PIN_EXPIRED SESSION_CLOSED SESSION_HANDLE_INVALID SESSION_READ_ONLY TOKEN_WRITE_PROTECTED
C_CreateObject store ARGUMENTS_BAD ATTRIBUTE_READ_ONLY ATTRIBUTE_TYPE_INVALID ATTRIBUTE_VALUE_INVALID CRYPTOKI_NOT_INITIALIZED CURVE_NOT_SUPPORTED DEVICE_ERROR DEVICE_MEMORY DEVICE_REMOVED DOMAIN_PARAMS_INVALID FUNCTION_FAILED GENERAL_ERROR HOST_MEMORY PIN_EXPIRED SESSION_CLOSED SESSION_HANDLE_INVALID SESSION_READ_ONLY TEMPLATE_INCOMPLETE TEMPLATE_INCONSISTENT TOKEN_WRITE_PROTECTED USER_NOT_LOGGED_IN

# The second C_GetFunctionList is libp11's, which keeps no CKR_ value.
expect C_GetFunctionList:2 * ERROR~
# A module someone else initialised is fine; our own C_Initialize normally
# finds the module initialised by libp11.
expect C_Initialize CRYPTOKI_ALREADY_INITIALIZED ok
# libp11 takes a token that is not there or not recognised for an empty
# slot: the key is not found.
expect C_GetTokenInfo TOKEN_NOT_PRESENT VALIDATION_ERROR~
expect C_GetTokenInfo TOKEN_NOT_RECOGNIZED VALIDATION_ERROR~
# Only saves a C_Login when already logged in; without it we log in.
# describe-key makes neither call: C_GetSessionInfo and C_Login are failed
# in generate-signature, which logs in once the key is described.
expect C_GetSessionInfo * ok
expect C_Login USER_ALREADY_LOGGED_IN ok
# An attribute the object does not have or keeps secret. describe-key
# (and generate-signature's describe step) logs in to no token: its first
# read is the public key's CKA_KEY_TYPE, and a public key without one is
# skipped (the certificate with the key's label describes the key). The
# private key's CKA_KEY_TYPE is generate-signature's 12th read, after the
# login: without it the key is not one notation signs with. The other
# reads have a way round (the label, the id, the public key from the
# certificate, a key without a certificate).
expect C_GetAttributeValue ATTRIBUTE_TYPE_INVALID ok
expect C_GetAttributeValue ATTRIBUTE_SENSITIVE ok
expect C_GetAttributeValue:12@sign-ec ATTRIBUTE_TYPE_INVALID VALIDATION_ERROR~
# A mechanism the token does not offer: no CKM_ECDSA for the EC key, and
# the RSA key falls back from CKM_RSA_PKCS_PSS to CKM_RSA_X_509.
expect C_GetMechanismInfo@sign-ec MECHANISM_INVALID VALIDATION_ERROR~
expect C_GetMechanismInfo@sign-rsa MECHANISM_INVALID ok
# An old certificate already gone is what --store wanted.
expect C_DestroyObject OBJECT_HANDLE_INVALID ok
# keys lists a token that opens no session without keys (as it always
# has); one it cannot log in to or search fails the listing.
expect C_OpenSession@keys * ok
# Teardown: nothing is left to report, the answer stands.
expect C_Finalize * ok
expect C_CloseSession * ok
expect C_CloseAllSessions * ok
expect C_Logout * ok
# libp11 0.4.12 leaks the slot it was filling when enumeration fails.
leaky C_GetSlotInfo C_GetTokenInfo

sweep describe GENERAL_ERROR C_GetSlotList C_GetSlotInfo C_GetTokenInfo C_OpenSession C_GetAttributeValue C_FindObjectsInit C_FindObjects C_FindObjectsFinal C_CloseSession
sweep describe ATTRIBUTE_TYPE_INVALID C_GetAttributeValue
sweep keys GENERAL_ERROR C_OpenSession C_Login C_FindObjectsInit
sweep sign-rsa GENERAL_ERROR C_GetMechanismList C_GetMechanismInfo
sweep sign-ec GENERAL_ERROR C_OpenSession C_GetSessionInfo C_FindObjectsInit C_GetAttributeValue C_CloseSession
sweep sign-ec ATTRIBUTE_TYPE_INVALID C_GetAttributeValue
sweep store GENERAL_ERROR C_OpenSession C_FindObjectsInit C_FindObjects C_FindObjectsFinal C_DestroyObject C_CreateObject C_CloseSession

hostile attr-len-huge describe ERROR NK_SHIM_ATTR_LEN=0x4000000000000000
hostile attr-len-huge-query describe ERROR NK_SHIM_ATTR_LEN=0x4000000000000000:query
hostile attr-len-huge-fetch describe ERROR NK_SHIM_ATTR_LEN=0x4000000000000000:fetch
hostile attr-unavailable describe ERROR NK_SHIM_ATTR_LEN=-1
hostile attr-unavailable-fetch describe ERROR NK_SHIM_ATTR_LEN=-1:fetch
hostile attr-len-huge keys ERROR NK_SHIM_ATTR_LEN=0x4000000000000000
hostile attr-len-huge-fetch sign-rsa ERROR NK_SHIM_ATTR_LEN=0x4000000000000000:fetch
hostile find-count-17 describe ERROR NK_SHIM_FIND_COUNT=17
hostile find-count-huge describe ERROR NK_SHIM_FIND_COUNT=-1
hostile find-count-huge keys ERROR NK_SHIM_FIND_COUNT=-1
hostile slot-count-huge describe ERROR NK_SHIM_SLOT_COUNT=-1:query
hostile slot-count-2^61 describe ERROR NK_SHIM_SLOT_COUNT=0x2000000000000001:query
hostile slot-count-100000 describe ERROR NK_SHIM_SLOT_COUNT=100000:query
hostile mech-count-huge sign-ec ERROR NK_SHIM_MECH_COUNT=-1:query
hostile mech-count-4097 sign-ec ERROR NK_SHIM_MECH_COUNT=4097:query
hostile mech-count-fill sign-ec ERROR NK_SHIM_MECH_COUNT=1000:fill
hostile mech-count-fill sign-rsa ERROR NK_SHIM_MECH_COUNT=1000:fill
hostile label-full describe-any ok NK_SHIM_LABEL=full
hostile label-nul describe-any ok NK_SHIM_LABEL=nul
hostile label-high describe-any ok NK_SHIM_LABEL=high
hostile label-ctrl describe-any ok NK_SHIM_LABEL=ctrl
hostile label-high keys ok NK_SHIM_LABEL=high
hostile label-ctrl keys ok NK_SHIM_LABEL=ctrl
hostile label-high-wrong-pin sign-any ACCESS_DENIED NK_SHIM_LABEL=high NK_SHIM_FAIL=C_Login:CKR_PIN_INCORRECT
hostile label-ctrl-wrong-pin sign-any ACCESS_DENIED NK_SHIM_LABEL=ctrl NK_SHIM_FAIL=C_Login:CKR_PIN_INCORRECT
hostile sig-len-huge sign-ec ERROR NK_SHIM_SIG_LEN=-1
EOF

t0=$(date +%s)
"$NK_PY" "$NK_ROOT/tests/lib/p11faults.py" "$NK_TMP/table" >"$NK_TMP/faults.out" 2>&1
rc=$?
while IFS= read -r line; do
    case $line in
    "PASS pkcs11-faults "*) pass "${line#PASS }" ;;
    "FAIL pkcs11-faults "*) fail "${line#FAIL }" ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$NK_TMP/faults.out"
check "pkcs11-faults: the runner finished (exit $rc)" test "$rc" = 0
echo "pkcs11-faults: $(($(date +%s) - t0)) s"
