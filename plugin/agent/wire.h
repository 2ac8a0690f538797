/* The agent's wire protocol, small and strict. A message is a frame: a
 * 4-byte big-endian body length, then the body: a version byte, a type
 * byte and the type's fields, each a u8, a big-endian u32, or a string (a
 * u32 length and that many bytes). Every field must be there, nothing may
 * follow the last one, counts and lengths have hard caps, and text fields
 * hold no NUL byte. No message carries a PIN or private key material: the
 * one secret that reaches the agent, a PIN for `agent add`, travels through
 * a pipe whose read end is passed beside the ADD frame (SCM_RIGHTS).
 *
 * Requests (client to agent) and their replies:
 *   DESCRIBE key              -> KEY | FAIL
 *   SIGN key spec digest      -> SIG | FAIL
 *   ADD key lifetime config[] -> KEY | FAIL   (+ optional PIN pipe)
 *   REMOVE key                -> OK | FAIL    (key "" removes every key)
 *   LIST                      -> KEYS
 *   LOCK                      -> OK | FAIL
 *   UNLOCK key                -> KEY | OK | FAIL (+ optional PIN pipe)
 *   STOP                      -> OK
 * The parser never allocates: the fields of a parsed message point into
 * the frame it came from. */
#ifndef NK_AGENT_WIRE_H
#define NK_AGENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/keyspec.h"

#define NK_AGENT_VERSION 1
/* Body sizes: what the agent accepts, and what a client accepts back (a
 * description holds the certificates the store keeps). */
#define NK_AGENT_MAX_REQUEST (64u * 1024)
#define NK_AGENT_MAX_REPLY (1024u * 1024)
#define NK_AGENT_MAX_KEY_ID 8192 /* as pkcs11: URIs */
#define NK_AGENT_MAX_CONFIG 64   /* pluginConfig entries in ADD */
#define NK_AGENT_MAX_CERTS 32    /* extra certificates in KEY */
#define NK_AGENT_MAX_KEYS 64     /* keys an agent holds */
#define NK_AGENT_MAX_TEXT 1024   /* a FAIL message, a config value */
#define NK_AGENT_MAX_LIFETIME (7u * 24 * 3600)

enum nk_agent_type {
    NK_AGENT_DESCRIBE = 1,
    NK_AGENT_SIGN = 2,
    NK_AGENT_ADD = 3,
    NK_AGENT_REMOVE = 4,
    NK_AGENT_LIST = 5,
    NK_AGENT_LOCK = 6,
    NK_AGENT_UNLOCK = 7,
    NK_AGENT_STOP = 8,
    NK_AGENT_FAIL = 64,
    NK_AGENT_OK = 65,
    NK_AGENT_KEY = 66,
    NK_AGENT_SIG = 67,
    NK_AGENT_KEYS = 68
};

/* Why a FAIL said no, beside its errorCode: a client falls back to
 * opening the key itself for NOT_HELD and LOCKED. */
enum nk_agent_why {
    NK_AGENT_WHY_ERROR = 0,    /* the operation failed (code says how) */
    NK_AGENT_WHY_NOT_HELD = 1, /* no such key in the agent */
    NK_AGENT_WHY_LOCKED = 2,   /* the agent is locked */
    NK_AGENT_WHY_PROTOCOL = 3  /* the request broke the protocol */
};

/* Bytes inside a frame (borrowed). */
struct nk_agent_blob {
    const unsigned char *p;
    size_t n;
};

/* Key states in a KEYS listing. */
enum nk_agent_state {
    NK_AGENT_READY = 0,     /* logged in, signing */
    NK_AGENT_LOGGED_OUT = 1 /* locked: the login was dropped */
};

/* KEY and KEYS flags. */
#define NK_AGENT_F_PIN_PER_SIGN                                                \
    1u /* the agent keeps the PIN (see                                         \
        * nk_key_info.pin_per_sign) */

struct nk_agent_listed {
    struct nk_agent_blob key, backend;
    enum nk_keyspec spec;
    enum nk_agent_state state;
    uint32_t ttl; /* seconds left, 0: no lifetime */
    uint32_t flags;
};

struct nk_agent_msg {
    enum nk_agent_type type;
    struct nk_agent_blob key;    /* DESCRIBE SIGN ADD REMOVE UNLOCK */
    enum nk_keyspec spec;        /* SIGN KEY */
    struct nk_agent_blob digest; /* SIGN: 32, 48 or 64 bytes */
    uint32_t lifetime;           /* ADD: seconds, 0 for the agent's default */
    size_t ncfg;                 /* ADD */
    struct nk_agent_blob cfg_key[NK_AGENT_MAX_CONFIG];
    struct nk_agent_blob cfg_val[NK_AGENT_MAX_CONFIG];
    enum nk_errcode code;         /* FAIL */
    enum nk_agent_why why;        /* FAIL */
    struct nk_agent_blob text;    /* FAIL message */
    struct nk_agent_blob backend; /* KEY */
    struct nk_agent_blob pub;     /* KEY: SubjectPublicKeyInfo DER */
    struct nk_agent_blob cert;    /* KEY: certificate DER, or empty */
    size_t nextra;                /* KEY */
    struct nk_agent_blob extra[NK_AGENT_MAX_CERTS];
    uint32_t flags;           /* KEY */
    struct nk_agent_blob sig; /* SIG */
    size_t nkeys;             /* KEYS */
    struct nk_agent_listed keys[NK_AGENT_MAX_KEYS];
};

/* The body length a frame header announces; VALIDATION_ERROR when it is 0
 * or above max. */
int nk_agent_frame_len(const unsigned char hdr[4], size_t max, size_t *len,
                       struct nk_err *err) NK_MUST_CHECK;

/* Parses one body (without its header). requests selects what may come:
 * request types only (the agent), or reply types only (a client).
 * VALIDATION_ERROR naming the first fault; m's blobs point into p. */
int nk_agent_parse(const unsigned char *p, size_t n, int requests,
                   struct nk_agent_msg *m, struct nk_err *err) NK_MUST_CHECK;

/* Building a frame in b (nk_buf_init'd with its cap plus 4): begin writes
 * the header space, version and type; the put functions append fields;
 * end fills in the length. A frame over b's cap fails at end (or at the
 * put that crossed it). */
void nk_agent_begin(struct nk_buf *b, enum nk_agent_type type);
int nk_agent_put_u8(struct nk_buf *b, unsigned v,
                    struct nk_err *err) NK_MUST_CHECK;
int nk_agent_put_u32(struct nk_buf *b, uint32_t v,
                     struct nk_err *err) NK_MUST_CHECK;
int nk_agent_put_str(struct nk_buf *b, const void *p, size_t n,
                     struct nk_err *err) NK_MUST_CHECK;
int nk_agent_end(struct nk_buf *b, struct nk_err *err) NK_MUST_CHECK;

/* Whole frames for the common replies. */
int nk_agent_fail_frame(struct nk_buf *b, const struct nk_err *e,
                        enum nk_agent_why why,
                        struct nk_err *err) NK_MUST_CHECK;
int nk_agent_ok_frame(struct nk_buf *b, struct nk_err *err) NK_MUST_CHECK;

/* A blob as a new NUL-terminated string. */
char *nk_agent_blob_str(struct nk_agent_blob b);
/* Nonzero when blob b equals the string s. */
int nk_agent_blob_is(struct nk_agent_blob b, const char *s);

#endif
