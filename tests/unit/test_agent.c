/* The agent's wire protocol: every message type built and parsed back, and
 * the parser's refusals (truncation, trailing bytes, caps, versions, types
 * from the wrong side, NUL bytes in text, digests that do not fit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/keys.h"
#include "agent/wire.h"

static struct nk_buf b;
static struct nk_agent_msg m;
static struct nk_err err;

static int setup(void **state)
{
    (void)state;
    nk_buf_init(&b, NK_AGENT_MAX_REPLY + 4);
    memset(&err, 0, sizeof(err));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nk_buf_release(&b);
    return 0;
}

static void str(const char *s)
{
    assert_int_equal(nk_agent_put_str(&b, s, strlen(s), &err), 0);
}

static void u32(uint32_t v)
{
    assert_int_equal(nk_agent_put_u32(&b, v, &err), 0);
}

/* Ends the frame and parses its body; returns the parser's result. */
static int parse(int requests)
{
    size_t n;

    assert_int_equal(nk_agent_end(&b, &err), 0);
    assert_int_equal(nk_agent_frame_len(b.data, NK_AGENT_MAX_REPLY, &n, &err),
                     0);
    assert_int_equal(n, b.len - 4);
    memset(&err, 0, sizeof(err));
    return nk_agent_parse(b.data + 4, b.len - 4, requests, &m, &err);
}

static void refused(int requests, const char *why)
{
    assert_int_equal(parse(requests), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    if (strstr(err.msg, why) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", err.msg, why);
}

static void test_requests(void **state)
{
    unsigned char d[48] = {1, 2, 3};

    (void)state;
    nk_agent_begin(&b, NK_AGENT_DESCRIBE);
    str("pkcs11:object=k");
    assert_int_equal(parse(1), 0);
    assert_int_equal(m.type, NK_AGENT_DESCRIBE);
    assert_true(nk_agent_blob_is(m.key, "pkcs11:object=k"));

    nk_agent_begin(&b, NK_AGENT_SIGN);
    str("awskms:///alias/x");
    str("RSA-3072");
    assert_int_equal(nk_agent_put_str(&b, d, sizeof(d), &err), 0);
    assert_int_equal(parse(1), 0);
    assert_int_equal(m.spec, NK_RSA_3072);
    assert_int_equal(m.digest.n, 48);
    assert_memory_equal(m.digest.p, d, 48);

    nk_agent_begin(&b, NK_AGENT_ADD);
    str("hashivault://k");
    u32(600);
    u32(2);
    str("vault-kv-path");
    str("notation/k");
    str("timeout");
    str("");
    assert_int_equal(parse(1), 0);
    assert_int_equal(m.lifetime, 600);
    assert_int_equal(m.ncfg, 2);
    assert_true(nk_agent_blob_is(m.cfg_key[1], "timeout"));
    assert_int_equal(m.cfg_val[1].n, 0);

    nk_agent_begin(&b, NK_AGENT_REMOVE);
    str("");
    assert_int_equal(parse(1), 0);
    assert_int_equal(m.key.n, 0);

    nk_agent_begin(&b, NK_AGENT_STOP);
    assert_int_equal(parse(1), 0);
    assert_int_equal(m.type, NK_AGENT_STOP);
}

static void test_replies(void **state)
{
    struct nk_err e = {NK_ERR_ACCESS, "the agent is locked"};

    (void)state;
    assert_int_equal(nk_agent_fail_frame(&b, &e, NK_AGENT_WHY_LOCKED, &err), 0);
    assert_int_equal(nk_agent_parse(b.data + 4, b.len - 4, 0, &m, &err), 0);
    assert_int_equal(m.type, NK_AGENT_FAIL);
    assert_int_equal(m.code, NK_ERR_ACCESS);
    assert_int_equal(m.why, NK_AGENT_WHY_LOCKED);
    assert_true(nk_agent_blob_is(m.text, "the agent is locked"));

    nk_agent_begin(&b, NK_AGENT_KEY);
    str("pkcs11");
    str("EC-256");
    str("pubder");
    str("");
    u32(1);
    str("extra");
    u32(NK_AGENT_F_PIN_PER_SIGN);
    assert_int_equal(parse(0), 0);
    assert_int_equal(m.spec, NK_EC_256);
    assert_int_equal(m.cert.n, 0);
    assert_int_equal(m.nextra, 1);
    assert_int_equal(m.flags, NK_AGENT_F_PIN_PER_SIGN);

    nk_agent_begin(&b, NK_AGENT_KEYS);
    u32(1);
    str("pkcs11:object=k");
    str("pkcs11");
    str("EC-384");
    assert_int_equal(nk_agent_put_u8(&b, NK_AGENT_LOGGED_OUT, &err), 0);
    u32(30);
    u32(0);
    assert_int_equal(parse(0), 0);
    assert_int_equal(m.nkeys, 1);
    assert_int_equal(m.keys[0].state, NK_AGENT_LOGGED_OUT);
    assert_int_equal(m.keys[0].ttl, 30);
}

static void test_refusals(void **state)
{
    unsigned char d[32] = {0}, hdr[4] = {0, 1, 0, 1};
    size_t n;
    int i;

    (void)state;
    /* requests and replies are told apart */
    nk_agent_begin(&b, NK_AGENT_OK);
    refused(1, "not a request");
    nk_agent_begin(&b, NK_AGENT_LIST);
    refused(0, "not a reply");
    /* trailing bytes, missing fields */
    nk_agent_begin(&b, NK_AGENT_LIST);
    u32(0);
    refused(1, "after its last field");
    nk_agent_begin(&b, NK_AGENT_DESCRIBE);
    refused(1, "ends inside field \"key\"");
    nk_agent_begin(&b, NK_AGENT_DESCRIBE);
    u32(100);
    str("short");
    refused(1, "ends inside");
    /* text fields */
    nk_agent_begin(&b, NK_AGENT_DESCRIBE);
    assert_int_equal(nk_agent_put_str(&b, "a\0b", 3, &err), 0);
    refused(1, "NUL");
    nk_agent_begin(&b, NK_AGENT_DESCRIBE);
    str("");
    refused(1, "allowed 1 to");
    /* a digest must fit its key spec */
    nk_agent_begin(&b, NK_AGENT_SIGN);
    str("k");
    str("EC-384");
    assert_int_equal(nk_agent_put_str(&b, d, sizeof(d), &err), 0);
    refused(1, "does not fit EC-384");
    nk_agent_begin(&b, NK_AGENT_SIGN);
    str("k");
    str("DSA-1024");
    assert_int_equal(nk_agent_put_str(&b, d, sizeof(d), &err), 0);
    refused(1, "unknown key spec");
    /* caps */
    nk_agent_begin(&b, NK_AGENT_ADD);
    str("k");
    u32(0);
    u32(NK_AGENT_MAX_CONFIG + 1);
    for (i = 0; i <= NK_AGENT_MAX_CONFIG; i++) {
        str("a");
        str("b");
    }
    refused(1, "more than 64 config");
    nk_agent_begin(&b, NK_AGENT_ADD);
    str("k");
    u32(NK_AGENT_MAX_LIFETIME + 1);
    u32(0);
    refused(1, "lifetime");
    nk_agent_begin(&b, NK_AGENT_FAIL);
    assert_int_equal(nk_agent_put_u8(&b, 99, &err), 0);
    assert_int_equal(nk_agent_put_u8(&b, 0, &err), 0);
    str("x");
    refused(0, "unknown code");
    /* versions */
    nk_agent_begin(&b, NK_AGENT_STOP);
    b.data[4] = 2;
    refused(1, "version 2");
    /* frame lengths */
    assert_int_equal(nk_agent_frame_len(hdr, NK_AGENT_MAX_REQUEST, &n, &err),
                     -1);
    hdr[1] = 0;
    hdr[3] = 1;
    assert_int_equal(nk_agent_frame_len(hdr, NK_AGENT_MAX_REQUEST, &n, &err),
                     -1);
    hdr[3] = 2;
    assert_int_equal(nk_agent_frame_len(hdr, NK_AGENT_MAX_REQUEST, &n, &err),
                     0);
}

/* An agent with no keys answers every request with a well-formed reply,
 * and never a key or signature. */
static void test_empty_agent(void **state)
{
    struct nk_agent_keys *k = nk_agent_keys_new(0);
    unsigned char d[32] = {0};
    int stop = 0;

    (void)state;
    nk_agent_begin(&b, NK_AGENT_SIGN);
    str("pkcs11:object=k");
    str("EC-256");
    assert_int_equal(nk_agent_put_str(&b, d, sizeof(d), &err), 0);
    assert_int_equal(parse(1), 0);
    nk_agent_keys_handle(k, &m, NULL, &b, &stop);
    assert_int_equal(nk_agent_parse(b.data + 4, b.len - 4, 0, &m, &err), 0);
    assert_int_equal(m.type, NK_AGENT_FAIL);
    assert_int_equal(m.why, NK_AGENT_WHY_NOT_HELD);

    nk_agent_begin(&b, NK_AGENT_LOCK);
    assert_int_equal(parse(1), 0);
    nk_agent_keys_handle(k, &m, NULL, &b, &stop);
    assert_int_equal(nk_agent_parse(b.data + 4, b.len - 4, 0, &m, &err), 0);
    assert_int_equal(m.type, NK_AGENT_OK);

    nk_agent_begin(&b, NK_AGENT_ADD);
    str("pkcs11:object=k");
    u32(0);
    u32(0);
    assert_int_equal(parse(1), 0);
    nk_agent_keys_handle(k, &m, NULL, &b, &stop);
    assert_int_equal(nk_agent_parse(b.data + 4, b.len - 4, 0, &m, &err), 0);
    assert_int_equal(m.why, NK_AGENT_WHY_LOCKED);

    /* a PIN beside anything but ADD or UNLOCK is a protocol fault */
    nk_agent_begin(&b, NK_AGENT_LIST);
    assert_int_equal(parse(1), 0);
    nk_agent_keys_handle(k, &m, strdup("1234"), &b, &stop);
    assert_int_equal(nk_agent_parse(b.data + 4, b.len - 4, 0, &m, &err), 0);
    assert_int_equal(m.why, NK_AGENT_WHY_PROTOCOL);

    nk_agent_begin(&b, NK_AGENT_STOP);
    assert_int_equal(parse(1), 0);
    nk_agent_keys_handle(k, &m, NULL, &b, &stop);
    assert_int_equal(stop, 1);
    nk_agent_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_agent, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
