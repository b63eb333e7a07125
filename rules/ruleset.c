/*
 * ruleset.c - rule files and folders, variables, and matching a message
 * against the loaded set: rules pre-sorted by transport and message kind,
 * pass rules first, then thresholds and detection filters kept per (sid,
 * tracked address) in a bounded lib/table.h table expiring by capture time.
 */
#include "rules/ruleset.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/table.h"
#include "rules/rule_match.h"

struct var {
    char *name;
    char *value;
};

enum { T_UDP, T_TCP };
enum { K_REQ, K_RESP };

struct ruleset {
    struct rule **rules;
    unsigned n, cap;
    char **files;              /* names rules point at */
    unsigned n_files;
    struct { dev_t dev; ino_t ino; } *loaded; /* files read, to read each once */
    unsigned n_loaded;
    struct var vars[RULESET_MAX_VARS];
    unsigned n_vars;
    char var_names[1024];      /* "$HOME_NET, ..." for messages */

    bool dirty;                /* rules changed since ruleset_prepare */
    struct rule **lists[2][2]; /* [transport][message kind] */
    unsigned n_list[2][2];
    struct table *thr;
    uint64_t thr_idle_us;
    uint64_t next_expire_us;
    struct rule_scratch *scratch;
    struct ruleset_stats st;
};

/* Threshold state, keyed by rule and the tracked address(es). */
struct thr_key {
    uint32_t sid;
    uint8_t track;
    uint8_t pad[3];
    struct ip_addr a, b;
};

struct thr_state {
    uint64_t first_us; /* start of the current window */
    uint32_t count;
};

/* ---- variables ------------------------------------------------------------ */

static const char *var_get(void *ctx, struct slice name)
{
    struct ruleset *rs = ctx;
    if (!name.n) {
        size_t o = 0;
        rs->var_names[0] = 0;
        for (unsigned i = 0; i < rs->n_vars && o < sizeof rs->var_names; i++)
            o += (size_t)snprintf(rs->var_names + o, sizeof rs->var_names - o, "%s$%s", i ? ", " : "",
                                  rs->vars[i].name);
        return rs->var_names;
    }
    for (unsigned i = 0; i < rs->n_vars; i++)
        if (sl_eq(name, sl_cstr(rs->vars[i].name)))
            return rs->vars[i].value;
    return NULL;
}

bool ruleset_set_var(struct ruleset *rs, const char *name, const char *value, char *err, size_t errlen)
{
    if (name[0] == '$')
        name++;
    bool ok = name[0] != 0;
    for (const char *p = name; *p; p++)
        ok &= *p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
    if (!ok) {
        snprintf(err, errlen, "bad variable name '%s' (letters, digits and '_')", name);
        return false;
    }
    char why[512];
    if (!rule_var_check(value, why, sizeof why)) {
        snprintf(err, errlen, "$%s: %s", name, why);
        return false;
    }
    unsigned i = 0;
    while (i < rs->n_vars && strcmp(rs->vars[i].name, name) != 0)
        i++;
    if (i == RULESET_MAX_VARS) {
        snprintf(err, errlen, "more than %d variables", RULESET_MAX_VARS);
        return false;
    }
    char *v = strdup(value), *nm = i < rs->n_vars ? rs->vars[i].name : strdup(name);
    if (!v || !nm) {
        free(v);
        if (i == rs->n_vars)
            free(nm);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (i < rs->n_vars)
        free(rs->vars[i].value);
    else
        rs->n_vars++;
    rs->vars[i].name = nm;
    rs->vars[i].value = v;
    return true;
}

/* ---- life ----------------------------------------------------------------- */

struct ruleset *ruleset_new(void)
{
    struct ruleset *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    char err[256];
    rs->scratch = rule_scratch_new();
    if (!rs->scratch || !ruleset_set_var(rs, "HOME_NET", "any", err, sizeof err) ||
        !ruleset_set_var(rs, "EXTERNAL_NET", "any", err, sizeof err) ||
        !ruleset_set_var(rs, "SIP_PORTS", "[5060,5061]", err, sizeof err)) {
        ruleset_free(rs);
        return NULL;
    }
    return rs;
}

void ruleset_free(struct ruleset *rs)
{
    if (!rs)
        return;
    for (unsigned i = 0; i < rs->n; i++)
        rule_free(rs->rules[i]);
    free(rs->rules);
    for (unsigned i = 0; i < rs->n_files; i++)
        free(rs->files[i]);
    free(rs->files);
    free(rs->loaded);
    for (unsigned i = 0; i < rs->n_vars; i++) {
        free(rs->vars[i].name);
        free(rs->vars[i].value);
    }
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 2; k++)
            free(rs->lists[t][k]);
    table_free(rs->thr);
    rule_scratch_free(rs->scratch);
    free(rs);
}

unsigned ruleset_count(const struct ruleset *rs) { return rs->n; }

const struct rule *ruleset_rule(const struct ruleset *rs, unsigned i) { return i < rs->n ? rs->rules[i] : NULL; }

const struct rule *ruleset_find(const struct ruleset *rs, uint32_t sid)
{
    for (unsigned i = 0; i < rs->n; i++)
        if (rs->rules[i]->sid == sid)
            return rs->rules[i];
    return NULL;
}

/* ---- loading -------------------------------------------------------------- */

struct loader {
    struct ruleset *rs;
    ruleset_err_fn *fn;
    void *ctx;
    unsigned errors;
};

static void report(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->errors++;
    if (l->fn)
        l->fn(l->ctx, file, line, msg);
}

static const char *keep_name(struct ruleset *rs, const char *name)
{
    for (unsigned i = 0; i < rs->n_files; i++)
        if (strcmp(rs->files[i], name) == 0)
            return rs->files[i];
    char **f = realloc(rs->files, (rs->n_files + 1) * sizeof *f);
    if (!f)
        return NULL;
    rs->files = f;
    if (!(f[rs->n_files] = strdup(name)))
        return NULL;
    return f[rs->n_files++];
}

static bool add_rule(struct ruleset *rs, struct rule *r)
{
    if (rs->n == rs->cap) {
        unsigned cap = rs->cap ? rs->cap * 2 : 64;
        struct rule **v = realloc(rs->rules, cap * sizeof *v);
        if (!v)
            return false;
        rs->rules = v;
        rs->cap = cap;
    }
    rs->rules[rs->n++] = r;
    rs->dirty = true;
    return true;
}

static void one_rule(struct loader *l, const char *file, unsigned line, struct slice text)
{
    char err[1024];
    struct rule *r = rule_parse(text, var_get, l->rs, err, sizeof err);
    if (!r) {
        report(l, file, line, "%s", err);
        return;
    }
    r->file = file;
    r->line = line;
    if (!add_rule(l->rs, r)) {
        rule_free(r);
        report(l, file, line, "out of memory");
    }
}

static int by_sid(const void *a, const void *b)
{
    const struct rule *x = *(struct rule *const *)a, *y = *(struct rule *const *)b;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

struct sid_pos {
    uint32_t sid;
    unsigned pos;
};

static int by_sid_pos(const void *a, const void *b)
{
    const struct sid_pos *x = a, *y = b;
    if (x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Report and leave out the rules loaded from index `from` on whose sid an
 * earlier rule already has (Suricata refuses duplicate sids too). */
static void drop_duplicates(struct loader *l, unsigned from)
{
    struct ruleset *rs = l->rs;
    unsigned n = rs->n;
    if (n == from || n < 2)
        return;
    struct sid_pos *v = malloc(n * sizeof *v);
    bool *drop = calloc(n, sizeof *drop);
    if (!v || !drop) {
        free(v);
        free(drop);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        v[i] = (struct sid_pos){ rs->rules[i]->sid, i };
    qsort(v, n, sizeof *v, by_sid_pos);
    for (unsigned k = 0; k < n;) {
        unsigned j = k + 1;
        for (; j < n && v[j].sid == v[k].sid; j++) {
            if (v[j].pos < from)
                continue;
            const struct rule *r = rs->rules[v[j].pos], *f = rs->rules[v[k].pos];
            report(l, r->file ? r->file : "?", r->line, "duplicate sid %u (already used at %s:%u): this rule is left out",
                   r->sid, f->file ? f->file : "?", f->line);
            drop[v[j].pos] = true;
        }
        k = j;
    }
    unsigned w = 0;
    for (unsigned i = 0; i < n; i++) {
        if (drop[i])
            rule_free(rs->rules[i]);
        else
            rs->rules[w++] = rs->rules[i];
    }
    rs->n = w;
    free(drop);
    free(v);
}

static void load_text(struct loader *l, const char *name, struct slice s)
{
    const char *file = keep_name(l->rs, name);
    if (!file) {
        report(l, name, 0, "out of memory");
        return;
    }
    char *buf = malloc(RULE_MAX_TEXT_BYTES);
    if (!buf) {
        report(l, name, 0, "out of memory");
        return;
    }
    size_t bl = 0;
    unsigned line_no = 0, start = 0;
    bool cont = false, too_long = false;
    while (s.n) {
        struct slice line;
        if (!sl_take_line(&s, &line)) {
            line = s;
            s = sl_drop(s, s.n);
        }
        line_no++;
        if (!cont) {
            struct slice t = sl_trim(line);
            if (!t.n || t.p[0] == '#')
                continue;
            start = line_no;
            bl = 0;
            too_long = false;
        }
        struct slice r = sl_rtrim(line);
        cont = r.n && r.p[r.n - 1] == '\\';
        if (cont)
            r.n--;
        if (bl + r.n > RULE_MAX_TEXT_BYTES) {
            too_long = true;
        } else if (r.n) {
            memcpy(buf + bl, r.p, r.n);
            bl += r.n;
        }
        if (cont)
            continue;
        if (too_long)
            report(l, file, start, "rule longer than %d bytes", RULE_MAX_TEXT_BYTES);
        else
            one_rule(l, file, start, sl_make(buf, bl));
    }
    if (cont)
        report(l, file, start, "the file ends inside a rule continued with '\\'");
    free(buf);
}

static unsigned finish_load(struct loader *l, unsigned from)
{
    drop_duplicates(l, from);
    return l->errors;
}

unsigned ruleset_load_text(struct ruleset *rs, const char *name, const char *text, size_t n,
                           ruleset_err_fn *fn, void *ctx)
{
    struct loader l = { .rs = rs, .fn = fn, .ctx = ctx };
    unsigned from = rs->n;
    load_text(&l, name, sl_make(text, n));
    return finish_load(&l, from);
}

/* True the first time a file is seen: a folder and a file in it given together
 * load the file once rather than reporting each of its sids as a duplicate. */
static bool first_time(struct ruleset *rs, FILE *f)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        return true;
    for (unsigned i = 0; i < rs->n_loaded; i++)
        if (rs->loaded[i].dev == sb.st_dev && rs->loaded[i].ino == sb.st_ino)
            return false;
    void *v = realloc(rs->loaded, (rs->n_loaded + 1) * sizeof *rs->loaded);
    if (v) {
        rs->loaded = v;
        rs->loaded[rs->n_loaded].dev = sb.st_dev;
        rs->loaded[rs->n_loaded].ino = sb.st_ino;
        rs->n_loaded++;
    }
    return true;
}

static void load_file(struct loader *l, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        report(l, path, 0, "cannot open: %s", strerror(errno));
        return;
    }
    if (!first_time(l->rs, f)) {
        fclose(f);
        return;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (n == cap) {
            if (cap >= RULESET_MAX_FILE_BYTES) {
                report(l, path, 0, "larger than %d MB: split it into several .rules files",
                       RULESET_MAX_FILE_BYTES >> 20);
                ok = false;
                break;
            }
            char *b = realloc(buf, cap * 2);
            if (!b) {
                report(l, path, 0, "out of memory");
                ok = false;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                report(l, path, 0, "read error: %s", strerror(errno));
                ok = false;
            }
            break;
        }
    }
    fclose(f);
    if (ok)
        load_text(l, path, sl_make(buf, n));
    free(buf);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(struct loader *l, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        report(l, path, 0, "cannot open folder: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 6 || strcmp(e->d_name + len - 6, ".rules") != 0 || e->d_name[0] == '.')
            continue;
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v)
            break;
        names = v;
        size_t pl = strlen(path);
        bool slash = pl && path[pl - 1] == '/';
        if (!(names[n] = malloc(pl + len + 2)))
            break;
        snprintf(names[n], pl + len + 2, "%s%s%s", path, slash ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    if (!n) {
        report(l, path, 0, "no *.rules files in this folder");
        free(names);
        return;
    }
    qsort(names, n, sizeof *names, by_name);
    for (unsigned i = 0; i < n; i++) {
        struct stat sb;
        if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode))
            load_file(l, names[i]);
        free(names[i]);
    }
    free(names);
}

unsigned ruleset_load(struct ruleset *rs, const char *path, ruleset_err_fn *fn, void *ctx)
{
    struct loader l = { .rs = rs, .fn = fn, .ctx = ctx };
    unsigned from = rs->n;
    struct stat sb;
    if (stat(path, &sb) != 0)
        report(&l, path, 0, "cannot open: %s", strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        load_dir(&l, path);
    else
        load_file(&l, path);
    return finish_load(&l, from);
}

/* ---- matching ------------------------------------------------------------- */

/* Pass rules first (Suricata's action order), then priority, then sid. */
static int match_order(const void *a, const void *b)
{
    const struct rule *x = *(struct rule *const *)a, *y = *(struct rule *const *)b;
    bool px = x->action == RULE_ACT_PASS, py = y->action == RULE_ACT_PASS;
    if (px != py)
        return px ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return by_sid(a, b);
}

bool ruleset_prepare(struct ruleset *rs)
{
    if (!rs->dirty)
        return true;
    uint64_t idle = 0;
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 2; k++) {
            free(rs->lists[t][k]);
            rs->n_list[t][k] = 0;
            if (!(rs->lists[t][k] = malloc((rs->n ? rs->n : 1) * sizeof(struct rule *))))
                return false;
        }
    }
    for (unsigned i = 0; i < rs->n; i++) {
        struct rule *r = rs->rules[i];
        for (int t = 0; t < 2; t++) {
            if ((r->proto == RULE_PROTO_UDP && t != T_UDP) || (r->proto == RULE_PROTO_TCP && t != T_TCP))
                continue;
            if (r->needs & RULE_NEED_REQUEST)
                rs->lists[t][K_REQ][rs->n_list[t][K_REQ]++] = r;
            if (r->needs & RULE_NEED_RESPONSE)
                rs->lists[t][K_RESP][rs->n_list[t][K_RESP]++] = r;
        }
        if (r->thr.type != RULE_THR_NONE && r->thr.seconds * 1000000ull > idle)
            idle = r->thr.seconds * 1000000ull;
    }
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 2; k++)
            qsort(rs->lists[t][k], rs->n_list[t][k], sizeof(struct rule *), match_order);
    /* State outlives its window by nothing: an entry idle for the longest window
     * would start a new window anyway. A longer window loaded later restarts the table. */
    if (idle && (!rs->thr || idle > rs->thr_idle_us)) {
        table_free(rs->thr);
        struct table_cfg cfg = {
            .name = "rule_thresholds",
            .capacity = RULESET_THRESH_MAX_ENTRIES,
            .value_size = sizeof(struct thr_state),
            .key_max = sizeof(struct thr_key),
            .idle_us = idle,
        };
        if (!(rs->thr = table_new(&cfg)))
            return false;
        rs->thr_idle_us = idle;
    }
    rs->dirty = false;
    return true;
}

/* Does this match raise an alert? Suricata's threshold semantics (detect-engine-threshold.c). */
static bool thresh_allows(struct ruleset *rs, const struct rule *r, const struct l4_meta *m, uint64_t now)
{
    const struct rule_threshold *t = &r->thr;
    if (t->type == RULE_THR_NONE || !rs->thr)
        return true;
    struct thr_key key;
    memset(&key, 0, sizeof key);
    key.sid = r->sid;
    key.track = t->track;
    if (t->track == RULE_TRACK_BY_SRC || t->track == RULE_TRACK_BY_BOTH)
        key.a = m->src;
    if (t->track == RULE_TRACK_BY_DST)
        key.a = m->dst;
    if (t->track == RULE_TRACK_BY_BOTH)
        key.b = m->dst;
    if (now >= rs->next_expire_us) {
        table_expire(rs->thr, now);
        rs->next_expire_us = now + 1000000;
    }
    bool created;
    struct thr_state *s = table_put(rs->thr, &key, sizeof key, now, &created);
    if (!s)
        return true;
    uint64_t win = (uint64_t)t->seconds * 1000000u;
    if (created || (now >= s->first_us && now - s->first_us > win)) {
        s->first_us = now;
        s->count = 1;
        return t->type == RULE_THR_LIMIT || (t->type != RULE_THR_DETECTION_FILTER && t->count == 1);
    }
    s->count++;
    switch (t->type) {
    case RULE_THR_LIMIT: return s->count <= t->count;
    case RULE_THR_BOTH: return s->count == t->count;
    case RULE_THR_DETECTION_FILTER: return s->count > t->count;
    case RULE_THR_THRESHOLD:
        if (s->count < t->count)
            return false;
        s->count = 0;
        return true;
    default: return true;
    }
}

unsigned ruleset_match(struct ruleset *rs, const struct l4_meta *m, const struct sip_msg *msg,
                       uint64_t now_us, struct rule_hit *hits, unsigned max_hits)
{
    if (rs->dirty && !ruleset_prepare(rs))
        return 0;
    rs->st.messages++;
    int t = m->proto == IPPROTO_TCP ? T_TCP : T_UDP, k = msg->is_request ? K_REQ : K_RESP;
    struct rule **list = rs->lists[t][k];
    unsigned n_list = rs->n_list[t][k], n = 0;
    struct rule_msg_ctx c;
    rule_ctx_init(&c, msg, rs->scratch);
    for (unsigned i = 0; i < n_list; i++) {
        const struct rule *r = list[i];
        rs->st.evaluated++;
        if (!rule_match_header(r, m))
            continue;
        if (!rule_match_prefilter(r, &c)) {
            rs->st.prefilter_rejects++;
            continue;
        }
        if (!rule_match_payload(r, &c))
            continue;
        rs->st.matched++;
        if (r->action == RULE_ACT_PASS) { /* sorted first: nothing collected yet */
            rs->st.passed++;
            n = 0;
            break;
        }
        if (!thresh_allows(rs, r, m, now_us)) {
            rs->st.thresholded++;
            continue;
        }
        if (n == max_hits) {
            rs->st.hits_dropped++;
            continue;
        }
        hits[n++] = (struct rule_hit){
            .rule = r, .sid = r->sid, .rev = r->rev, .action = r->action, .priority = r->priority,
            .techniques = r->techniques, .msg = r->msg, .classtype = r->classtype, .tool = r->tool,
            .technique = r->technique,
        };
    }
    rs->st.steps_exhausted += c.steps_exhausted;
    rs->st.pcre_errors += c.pcre_errors;
    rs->st.hits += n;
    return n;
}

void ruleset_get_stats(const struct ruleset *rs, struct ruleset_stats *out)
{
    *out = rs->st;
    if (rs->thr) {
        const struct table_stats *ts = table_stats(rs->thr);
        out->thresh_entries = ts->count;
        out->thresh_evicted = ts->evicted;
    }
}
