/* libFuzzer: the agent's frame header and message parser, as the agent
 * reads requests and a client reads replies; and a parsed request answered
 * by an empty agent (every request but ADD, which would open a token). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "agent/keys.h"
#include "agent/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_agent_msg *m = malloc(sizeof(*m));
    struct nk_err err = {0};
    struct nk_agent_keys *keys;
    struct nk_buf reply;
    size_t len;
    int stop = 0;

    if (m == NULL)
        return 0;
    if (size >= 4)
        (void)nk_agent_frame_len(data, NK_AGENT_MAX_REQUEST, &len, &err);
    (void)nk_agent_parse(data, size, 0, m, &err);
    if (nk_agent_parse(data, size, 1, m, &err) == 0 &&
        m->type != NK_AGENT_ADD) {
        keys = nk_agent_keys_new(0);
        nk_buf_init(&reply, NK_AGENT_MAX_REPLY + 4);
        nk_agent_keys_handle(keys, m, NULL, &reply, &stop);
        /* Every answer is a well-formed reply. */
        if (reply.len < 4 ||
            nk_agent_parse(reply.data + 4, reply.len - 4, 0, m, &err) != 0)
            abort();
        nk_buf_release(&reply);
        nk_agent_keys_free(keys);
    }
    free(m);
    return 0;
}
