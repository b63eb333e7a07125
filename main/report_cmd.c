/*
 * report_cmd.c - `sipsift report --db FILE [--run N] [--json]`: the findings
 * of a run read back from the store, as the terminal summary or the JSON
 * report (the same bytes analyze --report wrote).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "main/cli.h"
#include "main/outputs.h"

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, 0, 'd' }, { "run", required_argument, 0, 'n' },
        { "json", no_argument, 0, 'j' },     { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *db = "sipsift.db";
    long long run = 0;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:n:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'n': {
            char *end;
            run = strtoll(optarg, &end, 10);
            if (*end || run <= 0) {
                fprintf(stderr, "sipsift: --run %s: give a run number (see the runs table)\n", optarg);
                return SIPSIFT_EXIT_USAGE;
            }
            break;
        }
        case 'j': json = 1; break;
        case 'h':
            printf("usage: sipsift report [--db FILE] [--run N] [--json]\n");
            return 0;
        default:
            fprintf(stderr, "sipsift: report: bad option '%s': see 'sipsift help'\n", argv[optind - 1]);
            return SIPSIFT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sipsift: report: unexpected argument '%s'\n", argv[optind]);
        return SIPSIFT_EXIT_USAGE;
    }
    char err[512];
    int rc = json ? outputs_write_report(db, run, "-", err, sizeof err)
                  : outputs_print_summary(db, run, stdout, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        return SIPSIFT_EXIT_RUNTIME;
    }
    return 0;
}
