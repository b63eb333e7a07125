/*
 * sipsift.c - the command line: dispatches `analyze`, `report`, `rules`, and prints
 * usage. The only place (with analyze.c and report_cmd.c) that talks to
 * the user; exit codes per CONTRACT.md: 0 ok, 1 runtime error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "main/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sipsift analyze [options] [BPF filter expression]\n"
            "         -r, --read FILE        offline capture, pcap or pcapng (repeatable; - = stdin)\n"
            "         -i, --interface IFACE  live capture until SIGINT/SIGTERM (repeatable)\n"
            "         -d, --db FILE          SQLite store (default: sipsift.db)\n"
            "         -o, --report FILE      JSON report written at the end (live: refreshed)\n"
            "         -e, --eve FILE         JSON lines event stream (- = stdout; SIGHUP reopens)\n"
            "         -Z, --user USER        drop root for USER once the interfaces are open\n"
            "         live: --snaplen N, --buffer-size MiB, --immediate, --report-interval SEC\n"
            "         -q, --quiet / -v, --verbose\n"
            "       sipsift report [--db FILE] [--run N] [--json]\n"
            "       sipsift rules check PATH    validate rule files (file:line: message)\n"
            "       sipsift version\n"
            "See README.md and docs/ for the outputs.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SIPSIFT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "analyze") == 0)
        return cmd_analyze(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sipsift %s\n", SIPSIFT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sipsift: unknown command '%s': try 'sipsift help'\n", cmd);
    return SIPSIFT_EXIT_USAGE;
}
