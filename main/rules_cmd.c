/*
 * rules_cmd.c - `sipsift rules check [--var NAME=VALUE]... PATH...`: load rule
 * files or folders the way analyze would and print every problem as
 * `file:line: message`. Exit 2 when there is any, else "N rules OK" and 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "main/cli.h"
#include "rules/ruleset.h"


static void usage(FILE *f)
{
    fprintf(f, "usage: sipsift rules check [--var NAME=VALUE]... PATH...\n"
               "  PATH        a .rules file or a folder of them (docs/rules.md)\n"
               "  --var N=V   set a variable first, e.g. --var 'HOME_NET=[192.0.2.0/24]'\n");
}

static void print_error(void *ctx, const char *file, unsigned line, const char *msg)
{
    (void)ctx;
    if (line)
        fprintf(stderr, "%s:%u: %s\n", file, line, msg);
    else
        fprintf(stderr, "%s: %s\n", file, msg);
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SIPSIFT_EXIT_USAGE : SIPSIFT_EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "sipsift: rules: unknown subcommand '%s': try 'sipsift rules check PATH'\n", argv[1]);
        return SIPSIFT_EXIT_USAGE;
    }
    struct ruleset *rs = ruleset_new();
    if (!rs) {
        fprintf(stderr, "sipsift: rules check: out of memory\n");
        return SIPSIFT_EXIT_RUNTIME;
    }
    static const struct option longopts[] = {
        { "var", required_argument, 0, 'V' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        char err[512], name[128];
        const char *eq;
        switch (c) {
        case 'V':
            eq = strchr(optarg, '=');
            if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof name) {
                fprintf(stderr, "sipsift: rules check: --var %s: write NAME=VALUE\n", optarg);
                ruleset_free(rs);
                return SIPSIFT_EXIT_USAGE;
            }
            memcpy(name, optarg, (size_t)(eq - optarg));
            name[eq - optarg] = 0;
            if (!ruleset_set_var(rs, name, eq + 1, err, sizeof err)) {
                fprintf(stderr, "sipsift: rules check: --var: %s\n", err);
                ruleset_free(rs);
                return SIPSIFT_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            ruleset_free(rs);
            return SIPSIFT_EXIT_OK;
        default:
            fprintf(stderr, "sipsift: rules check: bad option '%s': see 'sipsift rules help'\n", argv[optind - 1]);
            ruleset_free(rs);
            return SIPSIFT_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "sipsift: rules check: give a rule file or folder: sipsift rules check PATH\n");
        ruleset_free(rs);
        return SIPSIFT_EXIT_USAGE;
    }
    unsigned errors = 0;
    for (int i = optind; i < argc; i++)
        errors += ruleset_load(rs, argv[i], print_error, NULL);
    unsigned n = ruleset_count(rs);
    ruleset_free(rs);
    if (errors) {
        fprintf(stderr, "sipsift: rules check: %u error%s (%u rule%s OK)\n", errors, errors == 1 ? "" : "s", n,
                n == 1 ? "" : "s");
        return SIPSIFT_EXIT_USAGE;
    }
    printf("%u rule%s OK\n", n, n == 1 ? "" : "s");
    return SIPSIFT_EXIT_OK;
}
