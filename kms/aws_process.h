/* credential_process: the profile's command, split into words as the AWS
 * SDKs split it (POSIX shell quoting, no shell run), run with a deadline,
 * and its stdout read as Version 1 JSON. */
#ifndef NK_AWS_PROCESS_H
#define NK_AWS_PROCESS_H

#include <stddef.h>

#include "aws_creds.h"

/* Splits cmd into a NULL-terminated argv like Python's shlex.split: white
 * space separates words; '...' is literal; in "..." a backslash escapes
 * only '"' and '\'; elsewhere a backslash escapes any character; quoted
 * pieces join the word they touch. VALIDATION_ERROR for an unclosed quote,
 * a trailing backslash or no word at all. Free with nk_aws_argv_free. */
int nk_aws_argv_split(const char *cmd, char ***argv,
                      struct nk_err *err) NK_MUST_CHECK;
void nk_aws_argv_free(char **argv);

/* Reads the program's output strictly: one JSON object (nothing after
 * it), "Version" the number 1, non-empty string "AccessKeyId" and
 * "SecretAccessKey", optional string "SessionToken" and "Expiration" (an
 * RFC 3339 time, which must be after now). ERROR for malformed output,
 * ACCESS_DENIED for expired credentials. what names the source. */
int nk_aws_process_parse(const char *text, size_t n, long long now,
                         const char *what, struct nk_aws_creds *out,
                         struct nk_err *err) NK_MUST_CHECK;

/* Runs profile's credential_process cmd within net's deadline. A non-zero
 * exit is ACCESS_DENIED, running out of time TIMEOUT; messages carry only
 * the program name and a short, cleaned excerpt of its stderr. */
int nk_aws_process_creds(const char *profile, const char *cmd,
                         const struct nk_kms_net *net, struct nk_aws_creds *out,
                         struct nk_err *err) NK_MUST_CHECK;

#endif
