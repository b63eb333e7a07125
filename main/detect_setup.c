/*
 * detect_setup.c - load the config file and the rules for analyze (see
 * detect_setup.h). Rule variables set in the config ("var.HOME_NET = [...]")
 * are set before any rule is read, so rules may use them.
 */
#include "main/detect_setup.h"

#include <stdio.h>

#include "lib/embedded.h"
#include "main/cli.h"
#include "rules/crack.h"
#include "rules/geoip.h"
#include "rules/ruleset.h"

static void print_rule_error(void *ctx, const char *file, unsigned line, const char *msg)
{
    (void)ctx;
    if (line)
        fprintf(stderr, "sipsift: %s:%u: %s\n", file, line, msg);
    else
        fprintf(stderr, "sipsift: %s: %s\n", file, msg);
}

int detect_setup(struct engine_cfg *cfg)
{
    static struct detect_cfg dc;
    char err[512];
    detect_default_cfg(&dc);
    if (cfg->config_path && !detect_cfg_load(&dc, cfg->config_path, err, sizeof err)) {
        /* "LINE: why" from the parser, "why" for a file that cannot be read */
        bool has_line = err[0] >= '0' && err[0] <= '9';
        fprintf(stderr, "sipsift: %s%s%s\n", cfg->config_path, has_line ? ":" : ": ", err);
        return SIPSIFT_EXIT_USAGE;
    }
    if (cfg->show_passwords)
        dc.show_passwords = true;
    cfg->detect = &dc;

    struct ruleset *rs = ruleset_new();
    if (!rs) {
        fprintf(stderr, "sipsift: rules: out of memory\n");
        return SIPSIFT_EXIT_RUNTIME;
    }
    for (unsigned i = 0; i < dc.n_vars; i++) {
        if (!ruleset_set_var(rs, dc.var_name[i], dc.var_value[i], err, sizeof err)) {
            fprintf(stderr, "sipsift: %s: var.%s: %s\n", cfg->config_path, dc.var_name[i], err);
            ruleset_free(rs);
            return SIPSIFT_EXIT_USAGE;
        }
    }
    unsigned errors;
    if (cfg->rules_path) {
        errors = ruleset_load(rs, cfg->rules_path, print_rule_error, NULL);
    } else {
        const struct embedded_file *f = embedded_get("sipsift.rules");
        errors = f ? ruleset_load_text(rs, "rules/sipsift.rules (bundled)", (const char *)f->data,
                                       f->len, print_rule_error, NULL)
                   : 1;
    }
    if (errors) {
        fprintf(stderr, "sipsift: %s: %u error%s in the rules: fix them (sipsift rules check) "
                        "or leave the rule out\n",
                cfg->rules_path ? cfg->rules_path : "bundled rules", errors, errors == 1 ? "" : "s");
        ruleset_free(rs);
        return SIPSIFT_EXIT_USAGE;
    }
    if (!ruleset_prepare(rs)) {
        fprintf(stderr, "sipsift: rules: out of memory\n");
        ruleset_free(rs);
        return SIPSIFT_EXIT_RUNTIME;
    }
    cfg->rules = rs;

    if (cfg->wordlist_path) {
        cfg->wordlist = wordlist_load(cfg->wordlist_path, err, sizeof err);
        if (!cfg->wordlist) {
            fprintf(stderr, "sipsift: --wordlist %s: %s\n", cfg->wordlist_path, err);
            detect_setup_free(cfg);
            return SIPSIFT_EXIT_USAGE;
        }
    }
    if (cfg->geoip_path) {
        cfg->geoip = geoip_open(cfg->geoip_path, err, sizeof err);
        if (!cfg->geoip) {
            fprintf(stderr, "sipsift: --geoip %s: %s\n", cfg->geoip_path, err);
            detect_setup_free(cfg);
            return SIPSIFT_EXIT_USAGE;
        }
    }
    return 0;
}

void detect_setup_free(struct engine_cfg *cfg)
{
    ruleset_free(cfg->rules);
    wordlist_free(cfg->wordlist);
    geoip_close(cfg->geoip);
    cfg->rules = NULL;
    cfg->wordlist = NULL;
    cfg->geoip = NULL;
}
