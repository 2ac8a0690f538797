/* The plugin protocol commands. Each takes the parsed request and returns a
 * response object for stdout, or -1 with err set. */
#ifndef NK_COMMANDS_H
#define NK_COMMANDS_H

#include "proto.h"

typedef int (*nk_cmd_fn)(const struct nk_request *req, cJSON **resp,
                         struct nk_err *err);

int nk_cmd_get_plugin_metadata(const struct nk_request *req, cJSON **resp,
                               struct nk_err *err);
int nk_cmd_describe_key(const struct nk_request *req, cJSON **resp,
                        struct nk_err *err);
int nk_cmd_generate_signature(const struct nk_request *req, cJSON **resp,
                              struct nk_err *err);
int nk_cmd_generate_envelope(const struct nk_request *req, cJSON **resp,
                             struct nk_err *err);
int nk_cmd_verify_signature(const struct nk_request *req, cJSON **resp,
                            struct nk_err *err);

#endif
