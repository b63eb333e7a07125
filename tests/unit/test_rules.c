/*
 * test_rules.c - the rule language: every header form and option parsed,
 * every sticky buffer and modifier with a message that matches and one that
 * does not (messages built by sip_parse on literal SIP text), thresholds and
 * detection_filter by capture time, variables, groups with negation, errors
 * with their line numbers, and the bundled rules/sipsift.rules on real tool
 * traffic.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "../../dissect/sip.h"
#include "../../rules/rule.h"
#include "../../rules/rule_match.h"
#include "../../rules/ruleset.h"

static struct sip_msg msg; /* large: not on the test's stack */
static struct rule_scratch *scratch;
static char perr[1024];

/* Frame 1 of pcaps/generated/svmap-sweep.pcap (svmap 0.3.3, FINGERPRINTS.md "SIPVicious"). */
static const char SVMAP_OPTIONS[] =
    "OPTIONS sip:100@192.0.2.0 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK-1465413399;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=63303030303230303133633401353739353337303432\r\n"
    "User-Agent: friendly-scanner\r\n"
    "Call-ID: 955729799042056006365834\r\n"
    "Contact: sip:100@198.51.100.23:5060\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Accept: application/sdp\r\n"
    "Content-Length: 0\r\n\r\n";

/* Frame 1 of pcaps/generated/sipsak-flood.pcap. */
static const char SIPSAK_OPTIONS[] =
    "OPTIONS sip:100@192.0.2.65 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.9:9;branch=z9hG4bK.60fbe02d\r\n"
    "From: sip:sipsak@198.51.100.9:9;tag=59b945b8\r\n"
    "To: sip:100@192.0.2.65\r\n"
    "Call-ID: 1505314232@198.51.100.9\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Contact: sip:sipsak@198.51.100.9:9\r\n"
    "Content-Length: 0\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: sipsak 0.9.8.1\r\n\r\n";

/* An INVITE with two Via lines, two Contacts and an SDP body. */
static const char INVITE[] =
    "INVITE sip:0046701234567@192.0.2.20;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKproxy1\r\n"
    "Via: SIP/2.0/UDP 203.0.113.5:32686;branch=0010010010100203.0.113.5;rport\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
    "To: <sip:0046701234567@192.0.2.20>\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@203.0.113.5:32686>\r\n"
    "Contact: <sip:backup@203.0.113.6>\r\n"
    "Content-Type: application/sdp\r\n"
    "User-Agent: eyeBeam release 1003s stamp 31159\r\n"
    "Content-Length: 39\r\n\r\n"
    "v=0\r\ns=CounterPath eyeBeam 1.5\r\nt=0 0\r\n";

static const char RESP_200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK-1465413399;rport\r\n"
    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=6330\r\n"
    "To: \"sipvicious\"<sip:100@1.1.1.1>;tag=as1\r\n"
    "Call-ID: 955729799042056006365834\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Server: Asterisk PBX 16.28.0\r\n"
    "Content-Length: 0\r\n\r\n";

static const struct sip_msg *parse_sip_n(const char *text, size_t n)
{
    size_t used;
    enum sip_result r = sip_parse(sl_make(text, n), SIP_DGRAM, &msg, &used);
    CHECK(r == SIP_OK);
    return &msg;
}
#define SIP(lit) parse_sip_n((lit), sizeof(lit) - 1)

static struct l4_meta meta(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto)
{
    struct l4_meta m = { .sport = sport, .dport = dport, .proto = proto, .ts_us = 1 };
    CHECK(ip_parse(src, &m.src));
    CHECK(ip_parse(dst, &m.dst));
    return m;
}

static struct l4_meta UDP_META(void) { return meta("198.51.100.23", 5060, "192.0.2.10", 5060, IPPROTO_UDP); }

static const char *test_var(void *ctx, struct slice name)
{
    (void)ctx;
    if (sl_is(name, "HOME_NET"))
        return "[192.0.2.0/24,2001:db8::/32]";
    if (sl_is(name, "EXTERNAL_NET"))
        return "!$HOME_NET";
    if (sl_is(name, "SIP_PORTS"))
        return "[5060,5061]";
    if (sl_is(name, "LOOP"))
        return "$LOOP";
    if (!name.n)
        return "$HOME_NET, $EXTERNAL_NET, $SIP_PORTS, $LOOP";
    return NULL;
}

/* Parse a rule that must be good. */
static struct rule *P(const char *text)
{
    struct rule *r = rule_parse(sl_cstr(text), test_var, NULL, perr, sizeof perr);
    if (!r)
        fprintf(stderr, "  rule did not parse: %s\n    %s\n", perr, text);
    CHECK(r != NULL);
    return r;
}

/* A rule that must fail; returns the message. */
static const char *E(const char *text)
{
    struct rule *r = rule_parse(sl_cstr(text), test_var, NULL, perr, sizeof perr);
    if (r)
        fprintf(stderr, "  rule parsed but should not: %s\n", text);
    CHECK(r == NULL);
    rule_free(r);
    return perr;
}

#define CHECK_ERR(rule, needle)                                                      \
    do {                                                                             \
        const char *_m = E(rule);                                                    \
        if (!strstr(_m, needle)) {                                                   \
            fprintf(stderr, "  %s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, _m, needle); \
            test_failed_checks++;                                                    \
        }                                                                            \
    } while (0)

/* Does rule text match message m carried by lm? */
static bool matches_on(const char *rule_text, const struct sip_msg *m, const struct l4_meta *lm)
{
    if (!scratch)
        scratch = rule_scratch_new();
    struct rule *r = P(rule_text);
    if (!r)
        return false;
    struct rule_msg_ctx c;
    rule_ctx_init(&c, m, scratch);
    bool ok = rule_match(r, lm, &c);
    rule_free(r);
    return ok;
}

static bool matches(const char *rule_text, const struct sip_msg *m)
{
    struct l4_meta lm = UDP_META();
    return matches_on(rule_text, m, &lm);
}

#define R(opts) "alert sip any any -> any any (" opts " sid:1;)"

/* ---- parsing ------------------------------------------------------------- */

TEST(rules_parse_header_forms)
{
    static const char *const good[] = {
        "alert sip any any -> any any (sid:1;)",
        "drop udp 192.0.2.1 5060 -> 198.51.100.0/24 any (sid:1;)",
        "pass tcp 2001:db8::/32 5060:5070 <> any [5060,5080] (sid:1;)",
        "alert sip !192.0.2.1 !5060 -> [192.0.2.0/24,!192.0.2.5] [1024:,!2000] (sid:1;)",
        "alert sip [192.0.2.0/24, 198.51.100.7] :1023 -> $HOME_NET $SIP_PORTS (sid:1;)",
        "alert sip $EXTERNAL_NET any -> ![$HOME_NET,203.0.113.9] any (sid:1;)",
        "alert sip [[192.0.2.0/25,192.0.2.128/25],![192.0.2.1,192.0.2.2]] any -> any any (sid:1;)",
        "  alert   sip  any  any  ->  any  any  (  sid : 1 ; )  ",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        rule_free(P(good[i]));

    struct rule *r = P("drop udp 192.0.2.1 5060 -> 198.51.100.0/24 any (sid:7; rev:3;)");
    if (r) {
        CHECK_EQ_INT(r->action, RULE_ACT_DROP);
        CHECK_EQ_INT(r->proto, RULE_PROTO_UDP);
        CHECK(!r->bidir);
        CHECK(r->src_addr.n > 0 && r->src_port.n > 0 && r->dst_addr.n > 0);
        CHECK_EQ_INT(r->dst_port.n, 0); /* any */
        CHECK_EQ_INT(r->sid, 7);
        CHECK_EQ_INT(r->rev, 3);
        CHECK_STR(r->msg, "");
        CHECK_EQ_INT(r->priority, 3); /* no classtype: Suricata's default */
        CHECK_EQ_INT(r->needs, RULE_NEED_REQUEST | RULE_NEED_RESPONSE);
    }
    rule_free(r);
    r = P("pass tcp any any <> any any (sid:2;)");
    if (r)
        CHECK(r->action == RULE_ACT_PASS && r->proto == RULE_PROTO_TCP && r->bidir);
    rule_free(r);
}

TEST(rules_parse_identity_options)
{
    struct rule *r = P("alert sip any any -> any any (msg:\"say \\\"hi\\\"\\; \\\\ok\"; sid:3000001; rev:2; "
                       "classtype:attempted-recon; metadata:tool sipvicious, technique sweep, technique bruteforce, "
                       "created_at 2024_01_01; reference:url,github.com/EnableSecurity/sipvicious; "
                       "reference:cve,2009-0001;)");
    if (!r)
        return;
    CHECK_STR(r->msg, "say \"hi\"; \\ok");
    CHECK_EQ_INT(r->sid, 3000001);
    CHECK_EQ_INT(r->rev, 2);
    CHECK_STR(r->classtype, "attempted-recon");
    CHECK_EQ_INT(r->priority, 2); /* attempted-recon's default */
    CHECK_STR(r->tool, "sipvicious");
    CHECK_STR(r->technique, "sweep");
    CHECK_EQ_INT(r->techniques, (1 << RULE_T_SWEEP) | (1 << RULE_T_BRUTEFORCE));
    CHECK_STR(rule_meta_get(r, "technique", 1), "bruteforce");
    CHECK_STR(rule_meta_get(r, "created_at", 0), "2024_01_01");
    CHECK(rule_meta_get(r, "technique", 2) == NULL);
    CHECK_EQ_INT(r->n_refs, 2);
    CHECK_STR(r->refs[0], "url,github.com/EnableSecurity/sipvicious");
    rule_free(r);

    r = P("alert sip any any -> any any (classtype:attempted-dos; priority:1; sid:9;)");
    if (r)
        CHECK_EQ_INT(r->priority, 1);
    rule_free(r);
    r = P("alert sip any any -> any any (priority:4; classtype:attempted-user; sid:9;)");
    if (r)
        CHECK_EQ_INT(r->priority, 4); /* explicit priority wins in any order */
    rule_free(r);
}

TEST(rules_parse_content_encoding)
{
    struct rule *r = P(R("content:\"a|00 0d0A|b\\\"c\\;d\\\\e\\:f\\|g\";"));
    if (r) {
        CHECK_EQ_INT(r->n_items, 1);
        CHECK_EQ_INT(r->items[0].len, 15);
        CHECK(memcmp(r->items[0].pat, "a\0\r\nb\"c;d\\e:f|g", 15) == 0);
        CHECK_EQ_INT(r->items[0].buf, RULE_BUF_RAW);
        CHECK_EQ_INT(r->prefilter, 0);
    }
    rule_free(r);
    r = P(R("sip.user_agent; content:!\"x\"; content:\"abc\"; content:\"abcdef\"; content:\"zz\"; fast_pattern;"));
    if (r) {
        CHECK(r->items[0].flags & RULE_C_NEGATED);
        CHECK_EQ_INT(r->prefilter, 3); /* fast_pattern wins over the longest */
    }
    rule_free(r);
    /* a ';' inside quotes needs no escape here (Suricata wants \;) */
    r = P(R("msg:\"a;b\"; content:\"c;d\";"));
    if (r) {
        CHECK_STR(r->msg, "a;b");
        CHECK(r->items[0].len == 3 && memcmp(r->items[0].pat, "c;d", 3) == 0);
    }
    rule_free(r);
    r = P(R("sip.user_agent; content:!\"x\"; content:\"abc\"; content:\"abcdef\";"));
    if (r)
        CHECK_EQ_INT(r->prefilter, 2); /* the longest content that must be present */
    rule_free(r);
}

TEST(rules_parse_multiline_and_comments)
{
    struct ruleset *rs = ruleset_new();
    static const char text[] =
        "# a comment\n"
        "\n"
        "   # an indented comment\n"
        "alert sip any any -> any any (msg:\"two\"; \\\n"
        "    sip.method; content:\"INVITE\"; \\\n"
        "    sid:2;)\r\n"
        "alert sip any any -> any any (msg:\"three\"; sid:3;)";
    CHECK_EQ_INT(ruleset_load_text(rs, "t.rules", text, sizeof text - 1, NULL, NULL), 0);
    CHECK_EQ_INT(ruleset_count(rs), 2);
    const struct rule *r = ruleset_find(rs, 2);
    CHECK(r && r->line == 4 && strcmp(r->file, "t.rules") == 0 && strcmp(r->msg, "two") == 0);
    CHECK(r && r->needs == RULE_NEED_REQUEST);
    r = ruleset_find(rs, 3);
    CHECK(r && r->line == 7);
    ruleset_free(rs);
}

/* ---- errors -------------------------------------------------------------- */

TEST(rules_errors_say_what_and_where)
{
    CHECK_ERR(R("sip.fooo;"), "unknown keyword 'sip.fooo' (");
    CHECK_ERR(R("sip.fooo;"), "known: msg, sid, rev");
    CHECK_ERR(R("frobnicate;"), "unknown keyword 'frobnicate' (known: msg");
    CHECK_ERR(R("sip.useragent; content:\"x\";"), "did you mean 'sip.user_agent'?");
    CHECK_ERR("alarm sip any any -> any any (sid:1;)", "unknown action 'alarm' (known: alert, drop, pass)");
    CHECK_ERR("alert http any any -> any any (sid:1;)", "unknown protocol 'http' (known: sip, udp, tcp)");
    CHECK_ERR("alert sip any any <- any any (sid:1;)", "bad direction '<-' (use -> or <>)");
    CHECK_ERR("alert sip any any -> any (sid:1;)", "needs 7 fields");
    CHECK_ERR("alert sip any any -> any any sid:1;", "no '('");
    CHECK_ERR("alert sip any any -> any any (sid:1;", "not closed by ')'");
    CHECK_ERR("alert sip any any -> any any (sid:1;) x", "after the closing ')'");
    CHECK_ERR("alert sip any any -> any any (msg:\"x\";)", "no sid");
    CHECK_ERR("alert sip 192.0.2.300 any -> any any (sid:1;)", "bad address '192.0.2.300' in source address");
    CHECK_ERR("alert sip 192.0.2.0/33 any -> any any (sid:1;)", "bad address '192.0.2.0/33'");
    CHECK_ERR("alert sip any 70000 -> any any (sid:1;)", "bad port '70000' in source port");
    CHECK_ERR("alert sip any any -> any 6000:5000 (sid:1;)", "runs backwards");
    CHECK_ERR("alert sip !any any -> any any (sid:1;)", "'!any'");
    CHECK_ERR("alert sip [192.0.2.1 any -> any any (sid:1;)", "not closed by ']'");
    CHECK_ERR("alert sip $NOPE any -> any any (sid:1;)", "unknown variable '$NOPE' in source address (defined: $HOME_NET");
    CHECK_ERR("alert sip $LOOP any -> any any (sid:1;)", "nests more than");
    CHECK_ERR("alert sip any $HOME_NET -> any any (sid:1;)", "bad port '192.0.2.0/24' in source port (from $HOME_NET)");
    CHECK_ERR(R("sid:2;"), "'sid' given twice");
    CHECK_ERR(R("msg:\"a\"; msg:\"b\";"), "'msg' given twice");
    CHECK_ERR("alert sip any any -> any any (sid:0;)", "sid: '0' is not a number from 1");
    CHECK_ERR(R("priority:0;"), "priority: '0' is not a number from 1 to 255");
    CHECK_ERR(R("classtype:made-up;"), "unknown classtype 'made-up' (known: not-suspicious");
    CHECK_ERR(R("msg:nope;"), "msg needs a quoted string");
    CHECK_ERR(R("content:\"abc;"), "not closed");
    CHECK_ERR(R("content:\"a\" b;"), "unexpected 'b' after the closing quote");
    CHECK_ERR(R("content:\"\";"), "empty content");
    CHECK_ERR(R("content:\"|4|\";"), "odd number of hex digits");
    CHECK_ERR(R("content:\"|4g|\";"), "bad hex digit 'g'");
    CHECK_ERR(R("content:\"|41\";"), "never closed");
    CHECK_ERR(R("content:\"a\\nb\";"), "unknown escape '\\n'");
    CHECK_ERR(R("nocase;"), "'nocase' needs a content before it");
    CHECK_ERR(R("content:\"a\"; sip.from; nocase;"), "'nocase' needs a content before it in sip.from");
    CHECK_ERR(R("content:\"a\"; nocase; nocase;"), "'nocase' given twice");
    CHECK_ERR(R("content:\"abcd\"; depth:2;"), "depth:2 is shorter than its content (4 bytes)");
    CHECK_ERR(R("content:\"a\"; content:\"abcd\"; within:3;"), "within:3 is shorter");
    CHECK_ERR(R("content:\"a\"; offset:1; distance:2;"), "'distance' cannot be combined with 'offset'");
    CHECK_ERR(R("content:\"a\"; startswith; depth:4;"), "'depth' cannot be combined with 'startswith'");
    CHECK_ERR(R("content:\"a\"; depth;"), "'depth' needs a number");
    CHECK_ERR(R("content:\"a\"; nocase:1;"), "'nocase' takes no value");
    CHECK_ERR(R("content:!\"a\"; fast_pattern;"), "fast_pattern on a negated content");
    CHECK_ERR(R("pcre:\"/a/\"; nocase;"), "follows a pcre");
    CHECK_ERR(R("sip.method; sip.uri; content:\"x\";"), "'sip.method' is not followed by a content or pcre");
    CHECK_ERR(R("sip.method;"), "'sip.method' is not followed by a content or pcre");
    CHECK_ERR(R("sip.method:x; content:\"x\";"), "'sip.method' takes no value");
    CHECK_ERR(R("sip.method; content:\"INVITE\"; sip.stat_code; content:\"200\";"),
              "'sip.method' exists only in requests and 'sip.stat_code' only in responses");
    CHECK_ERR(R("pcre:\"/a/R\";"), "pcre flag 'R' (relative to the previous match) is not supported");
    CHECK_ERR(R("pcre:\"/a/U\";"), "pcre flag 'U' selects an HTTP buffer");
    CHECK_ERR(R("pcre:\"/a/q\";"), "unknown pcre flag 'q' (known: i s m x A E G)");
    CHECK_ERR(R("pcre:\"/(a/\";"), "pcre '/(a/': missing closing parenthesis");
    CHECK_ERR(R("pcre:\"abc\";"), "pcre needs \"/regex/flags\"");
    CHECK_ERR(R("pcre:\"//i\";"), "empty regex");
    CHECK_ERR(R("threshold:type limit, track by_src, count 1;"), "threshold needs seconds");
    CHECK_ERR(R("threshold:type sometimes, track by_src, count 1, seconds 1;"), "type 'sometimes' is not limit, threshold or both");
    CHECK_ERR(R("threshold:type limit, track by_foo, count 1, seconds 1;"), "track 'by_foo' is not by_src, by_dst");
    CHECK_ERR(R("threshold:type limit, track by_src, count 0, seconds 1;"), "threshold: '0' is not a number from 1");
    CHECK_ERR(R("threshold:type limit, track by_src, count 1, seconds 1, burst 3;"), "unknown setting 'burst'");
    CHECK_ERR(R("detection_filter:type limit, track by_src, count 1, seconds 1;"), "detection_filter: unknown setting 'type'");
    CHECK_ERR(R("threshold:type limit, track by_src, count 1, seconds 1; detection_filter:track by_src, count 2, seconds 9;"),
              "one threshold or one detection_filter");
    CHECK_ERR(R("metadata:tool;"), "metadata 'tool' has no value");
    CHECK_ERR(R("metadata:tool Friendly Scanner;"), "metadata tool 'Friendly Scanner': use a lower-case id");
    CHECK_ERR(R("metadata:technique scanning;"), "metadata technique 'scanning' is not one of sweep");
    CHECK_ERR(R("reference:nocomma;"), "reference 'nocomma' needs 'type,id'");
    CHECK_ERR(R("sid;"), "'sid' needs a value");
}

static unsigned n_errs;
static unsigned err_lines[16];
static char err_msgs[16][256];
static char err_files[16][64];

static void collect(void *ctx, const char *file, unsigned line, const char *m)
{
    (void)ctx;
    if (n_errs < 16) {
        err_lines[n_errs] = line;
        snprintf(err_msgs[n_errs], sizeof err_msgs[0], "%s", m);
        snprintf(err_files[n_errs], sizeof err_files[0], "%s", file);
    }
    n_errs++;
}

TEST(rules_errors_have_line_numbers)
{
    static const char text[] =
        "# header comment\n"                                                       /* 1 */
        "alert sip any any -> any any (msg:\"ok\"; sid:10;)\n"                     /* 2 */
        "alert sip any any -> any any (msg:\"bad\"; \\\n"                          /* 3 */
        "    sip.fooo; \\\n"                                                       /* 4 */
        "    sid:11;)\n"                                                           /* 5 */
        "\n"                                                                       /* 6 */
        "alert sip any any -> any any (msg:\"ok\"; sid:12;)\n"                     /* 7 */
        "alert sip any any -> any any (msg:\"dup\"; sid:10;)\n"                    /* 8 */
        "alert sip any any -> any any (content:\"x\"; depth:0; sid:13;)\n"         /* 9 */
        "alert sip any any -> any any (msg:\"cut\"; \\\n";                         /* 10 */
    struct ruleset *rs = ruleset_new();
    n_errs = 0;
    unsigned e = ruleset_load_text(rs, "rules/x.rules", text, sizeof text - 1, collect, NULL);
    CHECK_EQ_INT(e, 4);
    CHECK_EQ_INT(n_errs, 4);
    /* Parse errors come in file order, then duplicates. */
    CHECK_EQ_INT(err_lines[0], 3);
    CHECK(strstr(err_msgs[0], "unknown keyword 'sip.fooo'") != NULL);
    CHECK_STR(err_files[0], "rules/x.rules");
    CHECK_EQ_INT(err_lines[1], 9);
    CHECK(strstr(err_msgs[1], "depth") != NULL);
    CHECK_EQ_INT(err_lines[2], 10);
    CHECK(strstr(err_msgs[2], "ends inside a rule") != NULL);
    CHECK_EQ_INT(err_lines[3], 8);
    CHECK(strstr(err_msgs[3], "duplicate sid 10 (already used at rules/x.rules:2)") != NULL);
    CHECK_EQ_INT(ruleset_count(rs), 2); /* 10 and 12; the duplicate is left out */
    CHECK(ruleset_find(rs, 10) && strcmp(ruleset_find(rs, 10)->msg, "ok") == 0);

    /* A second file cannot reuse a sid either. */
    n_errs = 0;
    static const char more[] = "alert sip any any -> any any (sid:12;)\n";
    CHECK_EQ_INT(ruleset_load_text(rs, "b.rules", more, sizeof more - 1, collect, NULL), 1);
    CHECK_EQ_INT(err_lines[0], 1);
    CHECK(strstr(err_msgs[0], "duplicate sid 12 (already used at rules/x.rules:7)") != NULL);

    /* Files that are not there, and folders without rules. */
    n_errs = 0;
    CHECK_EQ_INT(ruleset_load(rs, "/nonexistent/x.rules", collect, NULL), 1);
    CHECK_EQ_INT(err_lines[0], 0);
    CHECK(strstr(err_msgs[0], "cannot open") != NULL);
    n_errs = 0;
    CHECK_EQ_INT(ruleset_load(rs, "tests/unit", collect, NULL), 1);
    CHECK(strstr(err_msgs[0], "no *.rules files") != NULL);
    ruleset_free(rs);
}

/* ---- sticky buffers -------------------------------------------------------- */

TEST(rules_buffers_request)
{
    const struct sip_msg *m = SIP(INVITE);
    CHECK(matches(R("sip.method; content:\"INVITE\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.method; content:\"OPTIONS\";"), m));
    CHECK(matches(R("sip.uri; content:\"sip:0046\"; startswith;"), m));
    CHECK(!matches(R("sip.uri; content:\"SIP/2.0\";"), m));
    CHECK(matches(R("sip.request_line; content:\"INVITE sip:\"; startswith; content:\"SIP/2.0\"; endswith;"), m));
    CHECK(!matches(R("sip.request_line; content:\"Via\";"), m));
    CHECK(matches(R("sip.protocol; content:\"SIP/2.0\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.protocol; content:\"SIP/3.0\";"), m));
    CHECK(matches(R("sip.user_agent; content:\"eyeBeam release 1003s\"; startswith;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"X-Lite\";"), m));
    CHECK(matches(R("sip.from; content:\"\\\"Alice\\\" <sip:alice@example.com>;tag=1928301774\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.from; content:\"0046701234567\";"), m));
    CHECK(matches(R("sip.to; content:\"<sip:0046701234567@\"; startswith;"), m));
    CHECK(!matches(R("sip.to; content:\"alice\";"), m));
    CHECK(matches(R("sip.call_id; content:\"a84b4c76e66710@pc33.example.com\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.call_id; content:\"Call-ID\";"), m));
    CHECK(matches(R("sip.content_type; content:\"application/sdp\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.content_type; content:\"text\";"), m));
    CHECK(matches(R("sip.body; content:\"v=0|0d 0a|\"; startswith; content:\"CounterPath eyeBeam\";"), m));
    CHECK(!matches(R("sip.body; content:\"Content-Length\";"), m));
    CHECK(matches(R("sip.header; content:\"Via: SIP/2.0/UDP\"; startswith; content:\"Content-Length: 39|0d 0a|\"; endswith;"), m));
    CHECK(!matches(R("sip.header; content:\"INVITE sip:\";"), m)); /* not the start line */
    CHECK(!matches(R("sip.header; content:\"v=0\";"), m));         /* nor the body */
    CHECK(matches(R("pkt_data; content:\"INVITE sip:\"; startswith; content:\"t=0 0|0d 0a|\"; endswith;"), m));
    CHECK(matches(R("content:\"s=CounterPath\";"), m)); /* no buffer: the whole message */
    /* Response-only buffers are absent in a request. */
    CHECK(!matches(R("sip.stat_code; content:\"1\";"), m));
}

TEST(rules_buffers_response)
{
    const struct sip_msg *m = SIP(RESP_200);
    CHECK(matches(R("sip.stat_code; content:\"200\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.stat_code; content:\"404\";"), m));
    CHECK(matches(R("sip.stat_msg; content:\"OK\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.stat_msg; content:\"Not Found\";"), m));
    CHECK(matches(R("sip.response_line; content:\"SIP/2.0 200 OK\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.response_line; content:\"OPTIONS\";"), m));
    CHECK(matches(R("sip.user_agent; content:\"Asterisk PBX\"; startswith;"), m)); /* Server on responses */
    CHECK(!matches(R("sip.user_agent; content:\"friendly-scanner\";"), m));
    /* Request-only buffers are absent in a response, even with a CSeq method. */
    CHECK(!matches(R("sip.method; content:\"OPTIONS\";"), m));
    CHECK(!matches(R("sip.uri; content:\"sip\";"), m));
    CHECK(!matches(R("sip.request_line; content:\"SIP\";"), m));
}

TEST(rules_buffers_multi_instance)
{
    const struct sip_msg *m = SIP(INVITE);
    /* Each Via line is one instance: both contents must be in the same one. */
    CHECK(matches(R("sip.via; content:\"203.0.113.5\"; content:\";rport\"; distance:0;"), m));
    CHECK(matches(R("sip.via; content:\"SIP/2.0/UDP 192.0.2.99\"; startswith;"), m));
    CHECK(matches(R("sip.via; content:\"SIP/2.0/UDP 203.0.113.5\"; startswith;"), m));
    CHECK(!matches(R("sip.via; content:\"z9hG4bKproxy1\"; content:\"rport\";"), m));
    /* A negated content: some Via lacks the RFC 3261 cookie. */
    CHECK(matches(R("sip.via; content:!\"branch=z9hG4bK\";"), m));
    CHECK(!matches(R("sip.via; content:!\"branch=\";"), m));
    CHECK(matches(R("sip.contact; content:\"backup@\";"), m));
    CHECK(matches(R("sip.contact; content:\"<sip:alice@\"; startswith;"), m));
    CHECK(!matches(R("sip.contact; content:\"alice\"; content:\"backup\";"), m));
}

/* ---- modifiers ------------------------------------------------------------- */

TEST(rules_modifiers_each)
{
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    /* nocase */
    CHECK(matches(R("sip.user_agent; content:\"FRIENDLY-scanner\"; nocase;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"FRIENDLY-scanner\";"), m));
    /* startswith / endswith */
    CHECK(matches(R("sip.user_agent; content:\"friendly\"; startswith;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"scanner\"; startswith;"), m));
    CHECK(matches(R("sip.user_agent; content:\"scanner\"; endswith;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; endswith;"), m));
    CHECK(matches(R("sip.user_agent; content:\"friendly-scanner\"; startswith; endswith;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly-scan\"; startswith; endswith;"), m));
    /* depth / offset ("friendly-scanner": "scanner" at 9..16) */
    CHECK(matches(R("sip.user_agent; content:\"scanner\"; depth:16;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"scanner\"; depth:15;"), m));
    CHECK(matches(R("sip.user_agent; content:\"scanner\"; offset:9;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"scanner\"; offset:10;"), m));
    CHECK(matches(R("sip.user_agent; content:\"scanner\"; offset:9; depth:7;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; offset:1; depth:8;"), m));
    /* distance / within, relative to the previous match's end (8) */
    CHECK(matches(R("sip.user_agent; content:\"friendly\"; content:\"scanner\"; distance:1;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; content:\"scanner\"; distance:2;"), m));
    CHECK(matches(R("sip.user_agent; content:\"friendly\"; content:\"scanner\"; within:8;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; content:\"scanner\"; within:7;"), m));
    CHECK(matches(R("sip.user_agent; content:\"scanner\"; content:\"friendly\"; distance:-16;"), m));
    CHECK(matches(R("sip.user_agent; content:\"-\"; content:\"scan\"; distance:0; within:4;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"-\"; content:\"scan\"; distance:1; within:4;"), m));
    /* negation */
    CHECK(matches(R("sip.user_agent; content:!\"sipsak\";"), m));
    CHECK(!matches(R("sip.user_agent; content:!\"friendly\";"), m));
    CHECK(matches(R("sip.user_agent; content:!\"friendly\"; offset:1;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; content:!\"-scanner\"; distance:0; within:8;"), m));
    CHECK(matches(R("sip.user_agent; content:\"friendly\"; content:!\"-scanner\"; distance:1;"), m));
    /* fast_pattern changes nothing about the result */
    CHECK(matches(R("sip.user_agent; content:\"friendly\"; content:\"scanner\"; fast_pattern; distance:1;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"friendly\"; content:\"nothere\"; fast_pattern;"), m));
    /* a negated content in an absent buffer does not match (Suricata) */
    CHECK(!matches(R("sip.body; content:!\"x\";"), m));
}

TEST(rules_relative_match_backtracks)
{
    /* "a" first occurs where no "b" follows; the chain retries the next "a". */
    static const char text[] =
        "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nUser-Agent: a-x a-b a\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n";
    const struct sip_msg *m = SIP(text);
    CHECK(matches(R("sip.user_agent; content:\"a-\"; content:\"b\"; distance:0; within:1;"), m));
    CHECK(!matches(R("sip.user_agent; content:\"a-\"; content:\"c\"; distance:0; within:1;"), m));
    CHECK(matches(R("sip.user_agent; content:\"a\"; content:\"-\"; within:1; content:\"b\"; within:1;"), m));
    /* absolute contents do not depend on each other's position */
    CHECK(matches(R("sip.user_agent; content:\"a-b\"; content:\"a-x\";"), m));
}

TEST(rules_values_with_nul_bytes)
{
    static const char text[] =
        "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nUser-Agent: evil\0agent\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n";
    const struct sip_msg *m = parse_sip_n(text, sizeof text - 1);
    CHECK_EQ_INT(m->user_agent.n, 10);
    CHECK(matches(R("sip.user_agent; content:\"evil|00|agent\"; startswith; endswith;"), m));
    CHECK(matches(R("sip.user_agent; content:\"agent\"; endswith;"), m));
    CHECK(matches(R("sip.user_agent; pcre:\"/l\\x00a/\";"), m));
    CHECK(!matches(R("sip.user_agent; content:\"evil|00|x\";"), m));
}

TEST(rules_pcre_flags)
{
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    CHECK(matches(R("sip.user_agent; pcre:\"/^friendly-scanner$/\";"), m));
    CHECK(!matches(R("sip.user_agent; pcre:\"/^FRIENDLY/\";"), m));
    CHECK(matches(R("sip.user_agent; pcre:\"/^FRIENDLY/i\";"), m));
    CHECK(matches(R("sip.header; pcre:\"/^User-Agent: friendly/m\";"), m));
    CHECK(!matches(R("sip.header; pcre:\"/^User-Agent: friendly/\";"), m));
    CHECK(matches(R("sip.header; pcre:\"/Max-Forwards.*scanner/s\";"), m));
    CHECK(!matches(R("sip.header; pcre:\"/Max-Forwards.*scanner/\";"), m));
    CHECK(matches(R("sip.user_agent; pcre:\"/friendly - scanner # comment/x\";"), m));
    CHECK(!matches(R("sip.user_agent; pcre:\"/friendly - scanner/\";"), m));
    CHECK(matches(R("sip.user_agent; pcre:\"/friendly/A\";"), m));
    CHECK(!matches(R("sip.user_agent; pcre:\"/scanner/A\";"), m));
    CHECK(matches(R("sip.user_agent; pcre:!\"/sipsak/\";"), m));
    CHECK(!matches(R("sip.user_agent; pcre:!\"/scan/\";"), m));
    /* quotes and semicolons inside the regex */
    CHECK(matches(R("sip.to; pcre:\"/^\\\"sipvicious\\\"<sip:\\d+@/\";"), m));
    CHECK(matches(R("sip.via; pcre:\"/branch=z9hG4bK-\\d+\\;rport/\";"), m));
    /* a content after a pcre is relative to the regex's end */
    CHECK(matches(R("sip.from; pcre:\"/tag=/\"; content:\"6330\"; distance:0; within:4;"), m));
    CHECK(!matches(R("sip.from; pcre:\"/tag=/\"; content:\"3030\"; distance:0; within:4;"), m));
    /* the svmap From tag: hex text, then 01 (FINGERPRINTS.md) */
    CHECK(matches(R("sip.from; pcre:\"/;tag=(?:[0-9a-f]{2})+01\\d+$/\";"), m));
}

/* ---- header: addresses, ports, protocol ------------------------------------ */

TEST(rules_addresses_ports_groups)
{
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta lm = meta("198.51.100.23", 5060, "192.0.2.10", 5062, IPPROTO_UDP);
    CHECK(matches_on("alert sip 198.51.100.23 any -> any any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip 198.51.100.24 any -> any any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip 198.51.100.0/24 5060 -> 192.0.2.0/24 5060:5070 (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip 198.51.100.0/25 5060 -> 192.0.2.0/24 5063: (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip !192.0.2.0/24 !5061 -> any !5060 (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip !198.51.100.0/24 any -> any any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip any any -> [192.0.2.0/24,!192.0.2.11] any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any any -> [192.0.2.0/24,!192.0.2.10] any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any any -> [!192.0.2.10,!192.0.2.11] any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip any any -> [!192.0.2.11,!192.0.2.12] any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip any any -> ![192.0.2.11, 192.0.2.12] any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any any -> ![192.0.2.0/28,192.0.2.12] any (sid:1;)", m, &lm));
    /* nested: the /24 except a group */
    CHECK(matches_on("alert sip any any -> [192.0.2.0/24,![192.0.2.1,192.0.2.2]] any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any any -> [192.0.2.0/24,![192.0.2.10,192.0.2.2]] any (sid:1;)", m, &lm));
    /* ports */
    CHECK(matches_on("alert sip any [5060,5070] -> any [5061:5063,!5064] (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any any -> any [5061:5063,!5062] (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip any :5060 -> any 5062: (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip any :5059 -> any any (sid:1;)", m, &lm));
    /* an IPv4 CIDR never matches IPv6, and the reverse */
    struct l4_meta v6 = meta("2001:db8::5", 5060, "2001:db8:1::1", 5060, IPPROTO_UDP);
    CHECK(matches_on("alert sip 2001:db8::/32 any -> 2001:db8:1::/48 any (sid:1;)", m, &v6));
    CHECK(!matches_on("alert sip 0.0.0.0/0 any -> any any (sid:1;)", m, &v6));
    CHECK(!matches_on("alert sip ::/0 any -> 192.0.2.0/24 any (sid:1;)", m, &v6));
    CHECK(matches_on("alert sip 0.0.0.0/0 any -> any any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip 2001:db8::/33 any -> any any (sid:1;)", m, &v6));
    CHECK(!matches_on("alert sip 2001:db8:8000::/33 any -> any any (sid:1;)", m, &v6));
}

TEST(rules_direction_and_protocol)
{
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta lm = meta("198.51.100.23", 40000, "192.0.2.10", 5060, IPPROTO_UDP);
    CHECK(matches_on("alert sip 198.51.100.23 any -> 192.0.2.10 5060 (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip 192.0.2.10 5060 -> 198.51.100.23 any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip 192.0.2.10 5060 <> 198.51.100.23 any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert sip 192.0.2.10 5061 <> 198.51.100.23 any (sid:1;)", m, &lm));
    CHECK(matches_on("alert udp any any -> any any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert tcp any any -> any any (sid:1;)", m, &lm));
    lm.proto = IPPROTO_TCP;
    CHECK(matches_on("alert tcp any any -> any any (sid:1;)", m, &lm));
    CHECK(!matches_on("alert udp any any -> any any (sid:1;)", m, &lm));
    CHECK(matches_on("alert sip any any -> any any (sid:1;)", m, &lm));
}

TEST(rules_variables)
{
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta in = meta("198.51.100.23", 5060, "192.0.2.10", 5060, IPPROTO_UDP);
    /* test_var: HOME_NET = [192.0.2.0/24,2001:db8::/32], EXTERNAL_NET = !$HOME_NET */
    CHECK(matches_on("alert sip $EXTERNAL_NET any -> $HOME_NET $SIP_PORTS (sid:1;)", m, &in));
    CHECK(!matches_on("alert sip $HOME_NET any -> $EXTERNAL_NET any (sid:1;)", m, &in));
    CHECK(matches_on("alert sip ![$HOME_NET] any -> [$HOME_NET,!192.0.2.11] any (sid:1;)", m, &in));
    CHECK(!matches_on("alert sip any any -> any ![$SIP_PORTS] (sid:1;)", m, &in));

    /* Through a ruleset: defaults any, then set. */
    struct ruleset *rs = ruleset_new();
    char err[512];
    static const char text[] = "alert sip $EXTERNAL_NET any -> $HOME_NET $SIP_PORTS (msg:\"in\"; sid:1;)\n";
    CHECK_EQ_INT(ruleset_load_text(rs, "a.rules", text, sizeof text - 1, NULL, NULL), 0);
    struct rule_hit hits[4];
    CHECK_EQ_INT(ruleset_match(rs, &in, m, 1, hits, 4), 1); /* any -> any */
    CHECK(ruleset_set_var(rs, "HOME_NET", "[10.0.0.0/8, 172.16.0.0/12]", err, sizeof err));
    CHECK(ruleset_set_var(rs, "$EXTERNAL_NET", "!$HOME_NET", err, sizeof err));
    CHECK(ruleset_set_var(rs, "PBX", "10.1.1.1", err, sizeof err));
    CHECK(!ruleset_set_var(rs, "BAD NAME", "any", err, sizeof err));
    CHECK(strstr(err, "bad variable name") != NULL);
    CHECK(!ruleset_set_var(rs, "HOME_NET", "[10.0.0.0/8", err, sizeof err));
    CHECK(strstr(err, "neither an address group nor a port group") != NULL);
    CHECK(ruleset_set_var(rs, "X", "$UNDEFINED", err, sizeof err)); /* resolved when used */
    CHECK(ruleset_set_var(rs, "ALL", "any", err, sizeof err));
    CHECK(ruleset_set_var(rs, "NONE", "!$ALL", err, sizeof err));
    n_errs = 0;
    static const char bad[] = "alert sip $X any -> any any (sid:90;)\n"
                              "alert sip any any -> !$ALL any (sid:91;)\n"
                              "alert sip $NONE any -> any any (sid:92;)\n"
                              "alert sip any ![5060,any] -> any any (sid:93;)\n";
    CHECK_EQ_INT(ruleset_load_text(rs, "bad.rules", bad, sizeof bad - 1, collect, NULL), 4);
    CHECK(strstr(err_msgs[0], "unknown variable '$UNDEFINED' in source address (from $X)") != NULL);
    CHECK(strstr(err_msgs[1], "'!$ALL' in destination address negates every address: $ALL is any") != NULL);
    CHECK(strstr(err_msgs[2], "'!$ALL' in source address (from $NONE) negates every address") != NULL);
    CHECK(strstr(err_msgs[3], "'![...]' in source port negates every port") != NULL);
    CHECK(ruleset_set_var(rs, "PORTS", "[5060:5080,!5070]", err, sizeof err));
    static const char text2[] =
        "alert sip $EXTERNAL_NET any -> $HOME_NET $PORTS (msg:\"in2\"; sid:2;)\n"
        "alert sip $EXTERNAL_NET any -> $PBX any (msg:\"pbx\"; sid:3;)\n";
    CHECK_EQ_INT(ruleset_load_text(rs, "b.rules", text2, sizeof text2 - 1, NULL, NULL), 0);
    struct l4_meta to_pbx = meta("198.51.100.23", 5060, "10.1.1.1", 5060, IPPROTO_UDP);
    /* sid 1 keeps the values it was loaded with (any -> any) */
    CHECK_EQ_INT(ruleset_match(rs, &to_pbx, m, 2, hits, 4), 3);
    to_pbx.dport = 5070; /* outside $SIP_PORTS, excluded from $PORTS */
    CHECK_EQ_INT(ruleset_match(rs, &to_pbx, m, 3, hits, 4), 1);
    CHECK_EQ_INT(hits[0].sid, 3);
    struct l4_meta outside = meta("198.51.100.23", 5060, "192.0.2.10", 5062, IPPROTO_UDP);
    CHECK_EQ_INT(ruleset_match(rs, &outside, m, 4, hits, 4), 0); /* not $HOME_NET any more */
    ruleset_free(rs);
}

/* ---- ruleset: lists, pass, order, thresholds -------------------------------- */

static unsigned run(struct ruleset *rs, const struct l4_meta *lm, const struct sip_msg *m, uint64_t t_s)
{
    struct rule_hit hits[8];
    return ruleset_match(rs, lm, m, t_s * 1000000ull, hits, 8);
}

static struct ruleset *load(const char *text)
{
    struct ruleset *rs = ruleset_new();
    n_errs = 0;
    CHECK_EQ_INT(ruleset_load_text(rs, "t.rules", text, strlen(text), collect, NULL), 0);
    if (n_errs)
        fprintf(stderr, "  %s\n", err_msgs[0]);
    return rs;
}

TEST(rules_threshold_limit)
{
    struct ruleset *rs = load("alert sip any any -> any any (sip.user_agent; content:\"friendly\"; "
                              "threshold: type limit, track by_src, count 2, seconds 60; sid:1;)\n");
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta a = UDP_META(), b = meta("203.0.113.1", 5060, "192.0.2.10", 5060, IPPROTO_UDP);
    CHECK_EQ_INT(run(rs, &a, m, 100), 1);
    CHECK_EQ_INT(run(rs, &a, m, 110), 1);
    CHECK_EQ_INT(run(rs, &a, m, 120), 0); /* third in the window */
    CHECK_EQ_INT(run(rs, &b, m, 121), 1); /* another source has its own count */
    CHECK_EQ_INT(run(rs, &a, m, 160), 0); /* 60 s after the first: still the window */
    CHECK_EQ_INT(run(rs, &a, m, 161), 1); /* a new window */
    CHECK_EQ_INT(run(rs, &a, m, 162), 1);
    CHECK_EQ_INT(run(rs, &a, m, 163), 0);
    struct ruleset_stats st;
    ruleset_get_stats(rs, &st);
    CHECK_EQ_INT(st.thresholded, 3);
    CHECK_EQ_INT(st.hits, 5);
    CHECK_EQ_INT(st.thresh_entries, 2);
    ruleset_free(rs);
}

TEST(rules_threshold_threshold_and_both)
{
    struct ruleset *rs = load(
        "alert sip any any -> any any (sip.method; content:\"OPTIONS\"; "
        "threshold: type threshold, track by_dst, count 3, seconds 10; sid:1;)\n");
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta a = UDP_META(), other = meta("203.0.113.1", 5060, "192.0.2.10", 5060, IPPROTO_UDP);
    /* every third match in the window, whatever the source (tracked by destination) */
    CHECK_EQ_INT(run(rs, &a, m, 1), 0);
    CHECK_EQ_INT(run(rs, &other, m, 2), 0);
    CHECK_EQ_INT(run(rs, &a, m, 3), 1);
    CHECK_EQ_INT(run(rs, &a, m, 4), 0);
    CHECK_EQ_INT(run(rs, &a, m, 5), 0);
    CHECK_EQ_INT(run(rs, &a, m, 6), 1);
    CHECK_EQ_INT(run(rs, &a, m, 20), 0); /* window over: count starts again */
    CHECK_EQ_INT(run(rs, &a, m, 21), 0);
    CHECK_EQ_INT(run(rs, &a, m, 22), 1);
    ruleset_free(rs);

    rs = load("alert sip any any -> any any (sip.method; content:\"OPTIONS\"; "
              "threshold: type both, track by_src, count 3, seconds 10; sid:1;)\n");
    /* once per window, at the third match */
    CHECK_EQ_INT(run(rs, &a, m, 1), 0);
    CHECK_EQ_INT(run(rs, &a, m, 2), 0);
    CHECK_EQ_INT(run(rs, &a, m, 3), 1);
    CHECK_EQ_INT(run(rs, &a, m, 4), 0);
    CHECK_EQ_INT(run(rs, &a, m, 5), 0);
    CHECK_EQ_INT(run(rs, &a, m, 6), 0);
    CHECK_EQ_INT(run(rs, &a, m, 12), 0); /* new window */
    CHECK_EQ_INT(run(rs, &a, m, 13), 0);
    CHECK_EQ_INT(run(rs, &a, m, 14), 1);
    ruleset_free(rs);
}

TEST(rules_detection_filter)
{
    struct ruleset *rs = load("alert sip any any -> any any (msg:\"OPTIONS flood\"; sip.method; content:\"OPTIONS\"; "
                              "detection_filter: track by_src, count 3, seconds 2; sid:1;)\n");
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta a = UDP_META();
    /* every match after the third in the window */
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 1000000, (struct rule_hit[2]){ 0 }, 2), 0);
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 1100000, (struct rule_hit[2]){ 0 }, 2), 0);
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 1200000, (struct rule_hit[2]){ 0 }, 2), 0);
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 1300000, (struct rule_hit[2]){ 0 }, 2), 1);
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 2900000, (struct rule_hit[2]){ 0 }, 2), 1);
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 3000000, (struct rule_hit[2]){ 0 }, 2), 1); /* 2.0 s: inclusive */
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 3000001, (struct rule_hit[2]){ 0 }, 2), 0); /* new window */
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 3000002, (struct rule_hit[2]){ 0 }, 2), 0);
    ruleset_free(rs);
}

TEST(rules_pass_order_and_bounds)
{
    struct ruleset *rs = load(
        "alert sip any any -> any any (msg:\"low\"; sip.method; content:\"OPTIONS\"; priority:3; sid:30;)\n"
        "drop sip any any -> any any (msg:\"high\"; sip.user_agent; content:\"friendly\"; priority:1; sid:20;)\n"
        "alert sip any any -> any any (msg:\"mid b\"; sip.user_agent; content:\"scanner\"; priority:2; sid:11;)\n"
        "alert sip any any -> any any (msg:\"mid a\"; sip.user_agent; content:\"scanner\"; priority:2; sid:10;)\n"
        "alert sip any any -> any any (msg:\"resp\"; sip.stat_code; content:\"200\"; sid:40;)\n"
        "pass sip 192.0.2.99 any -> any any (msg:\"trusted\"; sid:50;)\n");
    const struct sip_msg *m = SIP(SVMAP_OPTIONS);
    struct l4_meta a = UDP_META();
    struct rule_hit hits[8];
    unsigned n = ruleset_match(rs, &a, m, 1, hits, 8);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(hits[0].sid, 20);
    CHECK_EQ_INT(hits[0].action, RULE_ACT_DROP);
    CHECK_STR(hits[0].msg, "high");
    CHECK_EQ_INT(hits[1].sid, 10);
    CHECK_EQ_INT(hits[2].sid, 11);
    CHECK_EQ_INT(hits[3].sid, 30);
    /* bounded output: the most important first, the rest counted */
    CHECK_EQ_INT(ruleset_match(rs, &a, m, 2, hits, 2), 2);
    CHECK_EQ_INT(hits[1].sid, 10);
    struct ruleset_stats st;
    ruleset_get_stats(rs, &st);
    CHECK_EQ_INT(st.hits_dropped, 2);
    /* the response rule is never evaluated on a request, nor request rules on a response */
    CHECK_EQ_INT(st.evaluated, 2 * 5);
    CHECK_EQ_INT(run(rs, &a, SIP(RESP_200), 3), 1);
    /* a pass rule silences the message */
    struct l4_meta trusted = meta("192.0.2.99", 5060, "192.0.2.10", 5060, IPPROTO_UDP);
    CHECK_EQ_INT(run(rs, &trusted, SIP(SVMAP_OPTIONS), 4), 0);
    ruleset_get_stats(rs, &st);
    CHECK_EQ_INT(st.passed, 1);
    ruleset_free(rs);
}

TEST(rules_hit_fields_and_prefilter)
{
    struct ruleset *rs = load(
        "alert sip any any -> any any (msg:\"SIPVicious\"; sip.user_agent; content:\"friendly-scanner\"; "
        "classtype:attempted-recon; metadata:tool sipvicious, technique sweep; sid:7; rev:4;)\n"
        "alert sip any any -> any any (msg:\"never\"; sip.user_agent; content:\"zzzz\"; content:\"z\"; sid:8;)\n");
    struct rule_hit h[2];
    struct l4_meta a = UDP_META();
    CHECK_EQ_INT(ruleset_match(rs, &a, SIP(SVMAP_OPTIONS), 1, h, 2), 1);
    CHECK_EQ_INT(h[0].sid, 7);
    CHECK_EQ_INT(h[0].rev, 4);
    CHECK_EQ_INT(h[0].priority, 2);
    CHECK_STR(h[0].msg, "SIPVicious");
    CHECK_STR(h[0].classtype, "attempted-recon");
    CHECK_STR(h[0].tool, "sipvicious");
    CHECK_STR(h[0].technique, "sweep");
    CHECK_EQ_INT(h[0].techniques, 1 << RULE_T_SWEEP);
    CHECK(h[0].rule == ruleset_find(rs, 7));
    struct ruleset_stats st;
    ruleset_get_stats(rs, &st);
    CHECK_EQ_INT(st.prefilter_rejects, 1);
    ruleset_free(rs);
}

/* ---- the bundled rules ----------------------------------------------------- */

TEST(rules_bundled_file_parses)
{
    struct ruleset *rs = ruleset_new();
    n_errs = 0;
    CHECK_EQ_INT(ruleset_load(rs, TEST_DATA("rules/sipsift.rules"), collect, NULL), 0);
    if (n_errs)
        fprintf(stderr, "  rules/sipsift.rules:%u: %s\n", err_lines[0], err_msgs[0]);
    CHECK(ruleset_count(rs) >= 10);
    /* eyebeam-fake is named by the detector only (rules/fingerprint.c): its
     * rule is a hint without a tool, so a genuine phone is never a scanner. */
    static const char *const tools[] = { "sipvicious", "sundayddr", "sipcli", "vaxsipuseragent",
                                         "pplsip", "sip-scan", "iwar", "smap", "sipbomber" };
    for (size_t t = 0; t < sizeof tools / sizeof tools[0]; t++) {
        bool found = false;
        for (unsigned i = 0; i < ruleset_count(rs); i++) {
            const struct rule *r = ruleset_rule(rs, i);
            if (r->tool && strcmp(r->tool, tools[t]) == 0) {
                found = true;
                CHECK(r->sid >= 3000001 && r->sid <= 3000999);
                CHECK_EQ_INT(r->rev, 1);
                CHECK(r->classtype != NULL);
                CHECK(r->technique != NULL);
                CHECK(r->msg[0] != 0);
            }
        }
        if (!found)
            fprintf(stderr, "  no bundled rule for tool %s\n", tools[t]);
        CHECK(found);
    }
    /* The folder loads the same rules. */
    struct ruleset *dir = ruleset_new();
    CHECK_EQ_INT(ruleset_load(dir, "rules", NULL, NULL), 0);
    CHECK_EQ_INT(ruleset_count(dir), ruleset_count(rs));
    /* ... and naming a file of the folder again reads it once, without duplicate sids */
    CHECK_EQ_INT(ruleset_load(dir, "./rules/sipsift.rules", NULL, NULL), 0);
    CHECK_EQ_INT(ruleset_count(dir), ruleset_count(rs));
    ruleset_free(dir);
    ruleset_free(rs);
}

static const struct rule_hit *fire(struct ruleset *rs, const char *sip, size_t n, struct l4_meta *lm,
                                   struct rule_hit *hits, unsigned *count)
{
    *count = ruleset_match(rs, lm, parse_sip_n(sip, n), lm->ts_us, hits, 8);
    return *count ? &hits[0] : NULL;
}

TEST(rules_bundled_sipvicious_fires_on_svmap)
{
    struct ruleset *rs = ruleset_new();
    CHECK_EQ_INT(ruleset_load(rs, TEST_DATA("rules/sipsift.rules"), NULL, NULL), 0);
    struct rule_hit hits[8];
    unsigned n;
    struct l4_meta lm = meta("198.51.100.23", 5060, "192.0.2.0", 5060, IPPROTO_UDP);
    lm.ts_us = 1000000;
    const struct rule_hit *h = fire(rs, SVMAP_OPTIONS, sizeof SVMAP_OPTIONS - 1, &lm, hits, &n);
    CHECK_EQ_INT(n, 1);
    if (h) {
        CHECK_EQ_INT(h->sid, 3000001);
        CHECK_STR(h->tool, "sipvicious");
        CHECK_STR(h->technique, "sweep");
        CHECK_STR(h->classtype, "attempted-recon");
    }
    /* the next probe of the sweep, same source, a second later: limited */
    lm.ts_us += 1000000;
    lm.dst.b[15] = 1;
    CHECK(fire(rs, SVMAP_OPTIONS, sizeof SVMAP_OPTIONS - 1, &lm, hits, &n) == NULL);
    /* the victims' 200 OK does not fire (Server: Asterisk) */
    struct l4_meta back = meta("192.0.2.10", 5060, "198.51.100.23", 5060, IPPROTO_UDP);
    CHECK(fire(rs, RESP_200, sizeof RESP_200 - 1, &back, hits, &n) == NULL);
    /* sipsak's monitoring OPTIONS (sipsak-flood.pcap): informational only, once an hour */
    struct l4_meta sk = meta("198.51.100.9", 9, "192.0.2.65", 5060, IPPROTO_UDP);
    h = fire(rs, SIPSAK_OPTIONS, sizeof SIPSAK_OPTIONS - 1, &sk, hits, &n);
    CHECK_EQ_INT(n, 1);
    if (h) {
        CHECK_EQ_INT(h->sid, 3000011);
        CHECK_EQ_INT(h->priority, 4);
        CHECK(h->technique == NULL);
    }
    sk.ts_us += 3599ull * 1000000;
    CHECK(fire(rs, SIPSAK_OPTIONS, sizeof SIPSAK_OPTIONS - 1, &sk, hits, &n) == NULL);
    ruleset_free(rs);
}

TEST(rules_bundled_each_tool_user_agent)
{
    static const struct {
        const char *ua;
        uint32_t sid;
        const char *tool;
        unsigned priority;
    } cases[] = {
        { "friendly-scanner", 3000001, "sipvicious", 2 },
        { "sipvicious 0.3.3", 3000001, "sipvicious", 2 },
        { "sundayddr", 3000002, "sundayddr", 2 },
        { "eyeBeam release 1003s stamp 31159", 3000003, NULL, 4 },
        { "sipcli/v1.8", 3000004, "sipcli", 2 },
        { "VaxSIPUserAgent/3.1", 3000005, "vaxsipuseragent", 3 },
        { "pplsip", 3000006, "pplsip", 2 },
        { "sip-scan", 3000007, "sip-scan", 2 },
        { "SIPScan 1.0", 3000007, "sip-scan", 2 },
        { "iWar", 3000008, "iwar", 2 },
        { "smap 0.6.0", 3000009, "smap", 2 },
        { "SIPBomber", 3000010, "sipbomber", 2 },
        { "sipsak 0.9.8.1", 3000011, "sipsak", 4 },
        /* not tools: genuine products and near misses */
        { "eyeBeam release 3015c stamp 27107", 0, NULL, 0 },
        { "X-Lite release 1100l stamp 47546", 0, NULL, 0 },
        { "Asterisk PBX 16.28.0", 0, NULL, 0 },
        { "Grandstream GXP2160 1.0.11.23", 0, NULL, 0 },
        { "Bitsmapper 2.0", 0, NULL, 0 }, /* "smap" inside a word */
        { "Z 5.6.1 v2.10.19.9", 0, NULL, 0 },
    };
    struct ruleset *rs = ruleset_new();
    CHECK_EQ_INT(ruleset_load(rs, TEST_DATA("rules/sipsift.rules"), NULL, NULL), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        int len = snprintf(text, sizeof text,
                           "OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK1\r\n"
                           "From: <sip:a@203.0.113.7>;tag=1\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: %zu\r\n"
                           "CSeq: 1 OPTIONS\r\nUser-Agent: %s\r\nContent-Length: 0\r\n\r\n",
                           i, cases[i].ua);
        /* a new source per case, so thresholds do not interfere */
        struct l4_meta lm = meta("203.0.113.7", 5060, "192.0.2.1", 5060, IPPROTO_UDP);
        lm.src.b[15] = (uint8_t)(i + 1);
        lm.ts_us = 1000000 * (i + 1);
        struct rule_hit hits[8];
        unsigned n;
        const struct rule_hit *h = fire(rs, text, (size_t)len, &lm, hits, &n);
        if (!cases[i].sid) {
            if (h)
                fprintf(stderr, "  UA '%s' fired sid %u\n", cases[i].ua, h->sid);
            CHECK(h == NULL);
            continue;
        }
        if (!h || h->sid != cases[i].sid)
            fprintf(stderr, "  UA '%s': expected sid %u, got %u\n", cases[i].ua, cases[i].sid, h ? h->sid : 0);
        CHECK_EQ_INT(n, 1);
        if (h) {
            CHECK_EQ_INT(h->sid, cases[i].sid);
            if (cases[i].tool)
                CHECK_STR(h->tool, cases[i].tool);
            else
                CHECK(h->tool == NULL);
            CHECK_EQ_INT(h->priority, cases[i].priority);
        }
    }
    ruleset_free(rs);
}

/* The fake eyeBeam scanner's real INVITE (pcaps/generated/eyebeam-fake.pcap, frame 1). */
TEST(rules_bundled_eyebeam_fake_is_a_low_priority_hint)
{
    static const char text[] =
        "INVITE sip:82727117149111@192.0.2.20;transport=udp SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 203.0.113.5:32686;branch=00100100101000011000001100100203.0.113.5192.0.2.20715104324;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:152059774840600161@192.0.2.20>;tag=2143545182317809834221435451822143545182203.0.113.5\r\n"
        "To: <sip:82727117149111@192.0.2.20>\r\n"
        "Call-ID: e7eba3c80010001111001111111101001001111101000111011010110101001011000203.0.113.5192.0.2.20"
        "71510432485acfbc827271171491112143545182317809834221435451822143545182203.0.113.56172766871\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:85acfbc@203.0.113.5:32686;transport=udp>\r\n"
        "Content-Type: application/sdp\r\n"
        "User-Agent: eyeBeam release 1003s stamp 31159\r\n"
        "Content-Length: 0\r\n\r\n";
    struct ruleset *rs = ruleset_new();
    CHECK_EQ_INT(ruleset_load(rs, TEST_DATA("rules/sipsift.rules"), NULL, NULL), 0);
    struct l4_meta lm = meta("203.0.113.5", 32686, "192.0.2.20", 5060, IPPROTO_UDP);
    struct rule_hit hits[8];
    unsigned n;
    const struct rule_hit *h = fire(rs, text, sizeof text - 1, &lm, hits, &n);
    CHECK_EQ_INT(n, 1);
    if (h) {
        CHECK_EQ_INT(h->sid, 3000003);
        CHECK_EQ_INT(h->priority, 4);
        CHECK(h->tool == NULL);
        CHECK_STR(rule_meta_get(h->rule, "hint", 0), "eyebeam-fake");
    }
    ruleset_free(rs);
}
