/* Commands for people (--help, --version, and the companion commands):
 * plain text, never the plugin protocol. */
#ifndef NK_COMPANION_H
#define NK_COMPANION_H

/* Prints usage to stderr (stdout when status is 0) and returns status. */
int nk_companion_usage(int status);

/* Runs a non-protocol command line; returns the exit status. */
int nk_companion_main(int argc, char **argv);

#endif
