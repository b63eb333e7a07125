/* cli.h - the commands and the exit codes of CONTRACT.md. */
#ifndef SIPSIFT_CLI_H
#define SIPSIFT_CLI_H

#define SIPSIFT_VERSION "0.1.0"

#define SIPSIFT_EXIT_OK 0
#define SIPSIFT_EXIT_RUNTIME 1
#define SIPSIFT_EXIT_USAGE 2

int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rules(int argc, char **argv);

#endif
