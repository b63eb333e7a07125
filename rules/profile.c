/*
 * profile.c - per-source profiles: counters and bounded evidence for each
 * IP that sends requests. Distinct targets and users are counted through
 * two global bounded sets of (profile, destination IP) and (profile, user),
 * so a sweep of a /16 costs one small entry per pair, not per-profile arrays.
 * Verdicts (tools, techniques, severity) are left to the detection issue.
 */
#include "rules/profile.h"

#include <stdio.h>
#include <stdlib.h>

#include "rules/rule.h"

struct src_profiles {
    struct table *t;       /* ip -> struct src_profile */
    struct table *targets; /* (gen, destination IP) seen */
    struct table *users;   /* (gen, hash of user) seen */
    struct st_sinks out;
    uint64_t next_gen;
    void (*on_create)(void *ctx, struct src_profile *p);
    void *on_create_ctx;
};

static struct slice str_of(const struct src_profile *p, struct src_str s)
{
    return sl_make(p->pool + s.off, s.len);
}

static struct slice cut(struct slice s) { return sl_prefix(s, SRC_STR_MAX); }

/* Copy s, cut at max (at most 255) bytes, into the profile's pool; false when
 * the pool is full. */
static bool pool_add_n(struct src_profile *p, struct slice s, size_t max, struct src_str *out)
{
    s = sl_prefix(s, max < 255 ? max : 255);
    if (s.n > (size_t)SRC_POOL_BYTES - p->pool_used)
        return false;
    if (s.n)
        memcpy(p->pool + p->pool_used, s.p, s.n);
    out->off = p->pool_used;
    out->len = (uint8_t)s.n;
    p->pool_used = (uint16_t)(p->pool_used + s.n);
    return true;
}

static bool pool_add(struct src_profile *p, struct slice s, struct src_str *out)
{
    return pool_add_n(p, s, SRC_STR_MAX, out);
}

/* The part of the pool that evidence lists an attacker fills at will (users
 * tried, user agents, extensions found) may not take: what the detectors
 * conclude (reasons, passwords, numbers, credentials) must still fit. */
#define SRC_POOL_VERDICT_RESERVE 1024

static bool pool_add_evidence(struct src_profile *p, struct slice s, struct src_str *out)
{
    if (p->pool_used + sl_prefix(s, SRC_STR_MAX).n > SRC_POOL_BYTES - SRC_POOL_VERDICT_RESERVE)
        return false;
    return pool_add(p, s, out);
}

static bool list_has(const struct src_profile *p, const struct src_str *v, unsigned n,
                     struct slice s)
{
    s = cut(s);
    for (unsigned i = 0; i < n; i++)
        if (sl_eq(str_of(p, v[i]), s))
            return true;
    return false;
}

void src_fill_event(const struct src_profile *p, struct ev_source *e)
{
    memset(e, 0, sizeof *e);
    e->ip = p->ip;
    e->first_us = p->first_us;
    e->last_us = p->last_us;
    e->sip_messages = p->sip_messages;
    memcpy(e->methods, p->methods, sizeof e->methods);
    for (unsigned i = 0; i < p->n_user_agents; i++)
        e->user_agents[i] = str_of(p, p->user_agents[i]);
    e->n_user_agents = p->n_user_agents;
    e->targets = p->targets;
    for (unsigned i = 0; i < p->n_users; i++)
        e->users_tried[i] = str_of(p, p->users[i]);
    e->n_users_tried = p->n_users;
    e->users_tried_total = p->users_tried_total;
    for (unsigned i = 0; i < p->n_extensions; i++)
        e->extensions_found[i] = str_of(p, p->extensions[i]);
    e->n_extensions_found = p->n_extensions;
    e->auth_attempts = p->auth_attempts;
    e->auth_failures = p->auth_failures;
    e->auth_successes = p->auth_successes;
    for (unsigned i = 0; i < p->n_credentials; i++) {
        e->credentials[i].user = str_of(p, p->credentials[i].user);
        e->credentials[i].realm = str_of(p, p->credentials[i].realm);
        e->credentials[i].password =
            p->credentials[i].has_password ? str_of(p, p->credentials[i].password) : SL_NULL;
        e->credentials[i].accepted = p->credentials[i].accepted;
    }
    e->n_credentials = p->n_credentials;
    for (unsigned i = 0; i < p->n_numbers; i++) {
        e->numbers[i].number = str_of(p, p->numbers[i].number);
        e->numbers[i].country = sl_make((const uint8_t *)p->numbers[i].iso2, strlen(p->numbers[i].iso2));
    }
    e->n_numbers = p->n_numbers;
    for (unsigned i = 0; i < p->n_tools; i++)
        e->tools[i] = p->tools[i];
    e->n_tools = p->n_tools;
    for (unsigned t = 0; t < 8 && e->n_techniques < SRC_MAX_TECHNIQUES; t++)
        if (p->tech_seen[t])
            e->techniques[e->n_techniques++] = rule_technique_name(t);
    for (unsigned i = 0; i < p->n_reasons; i++)
        e->reasons[i] = str_of(p, p->reasons[i]);
    e->n_reasons = p->n_reasons;
    e->severity = src_severity_name(src_severity(p));
    e->country = sl_make((const uint8_t *)p->country, strlen(p->country));
    e->asn = sl_make((const uint8_t *)p->asn, strlen(p->asn));
    e->as_org = sl_make((const uint8_t *)p->as_org, strlen(p->as_org));
}

static struct src_cred *find_cred(struct src_profile *p, struct slice user, struct slice realm,
                                  bool add);

static bool list_has_number(const struct src_profile *p, struct slice s)
{
    s = cut(s);
    for (unsigned i = 0; i < p->n_numbers; i++)
        if (sl_eq(str_of(p, p->numbers[i].number), s))
            return true;
    return false;
}

/* ---- Verdicts --------------------------------------------------------- */


void src_add_tool(struct src_profile *p, const char *tool, bool scanner)
{
    if (!tool || !*tool)
        return;
    if (scanner)
        p->scanner = true;
    for (unsigned i = 0; i < p->n_tools; i++)
        if (strcmp(p->tools[i], tool) == 0)
            return;
    if (p->n_tools < SRC_MAX_TOOLS)
        p->tools[p->n_tools++] = tool;
}

void src_add_reason(struct src_profile *p, const char *reason)
{
    struct slice r = sl_cstr(reason);
    for (unsigned i = 0; i < p->n_reasons; i++)
        if (sl_eq(str_of(p, p->reasons[i]), sl_prefix(r, SRC_REASON_MAX)))
            return;
    if (p->n_reasons < SRC_MAX_REASONS && pool_add_n(p, r, SRC_REASON_MAX, &p->reasons[p->n_reasons]))
        p->n_reasons++;
}

void src_add_technique(struct src_profile *p, unsigned t, unsigned sev, const char *reason)
{
    if (t >= 8)
        return;
    bool raise = !p->tech_seen[t] || sev > p->tech_sev[t];
    p->tech_seen[t] = true;
    if (sev > p->tech_sev[t])
        p->tech_sev[t] = (uint8_t)sev;
    if (raise && reason)
        src_add_reason(p, reason);
}

void src_add_chain(struct src_profile *p, unsigned sev, const char *reason)
{
    if (sev > p->chain_sev)
        p->chain_sev = (uint8_t)sev;
    if (reason)
        src_add_reason(p, reason);
}

bool src_has_technique(const struct src_profile *p, unsigned t) { return t < 8 && p->tech_seen[t]; }

void src_add_number(struct src_profile *p, struct slice number, const char *iso2)
{
    if (sl_empty(number) || list_has_number(p, number) || p->n_numbers >= SRC_MAX_NUMBERS)
        return;
    struct src_number *n = &p->numbers[p->n_numbers];
    if (!pool_add(p, number, &n->number))
        return;
    snprintf(n->iso2, sizeof n->iso2, "%s", iso2 ? iso2 : "");
    p->n_numbers++;
}

void src_set_password(struct src_profile *p, struct slice user, struct slice realm,
                      struct slice password, bool accepted)
{
    struct src_cred *c = find_cred(p, user, realm, true);
    if (!c)
        return;
    if (accepted)
        c->accepted = true;
    if (c->has_password && !accepted)
        return; /* keep the first; an accepted one replaces it */
    uint16_t mark = p->pool_used;
    if (pool_add(p, password, &c->password))
        c->has_password = true;
    else
        p->pool_used = mark;
}

unsigned src_severity(const struct src_profile *p)
{
    unsigned sev = SEV_INFO;
    bool any = false;
    for (unsigned t = 0; t < 8; t++)
        if (p->tech_seen[t]) {
            any = true;
            if (p->tech_sev[t] > sev)
                sev = p->tech_sev[t];
        }
    if (any && p->scanner && sev >= SEV_LOW && sev < SEV_HIGH)
        sev++;
    if (!any && p->scanner)
        sev = SEV_LOW;
    if (p->chain_sev > sev)
        sev = p->chain_sev;
    return sev;
}

const char *src_severity_name(unsigned sev)
{
    static const char *const names[] = { "info", "low", "medium", "high", "critical" };
    return sev < 5 ? names[sev] : "critical";
}

void src_set_on_create(struct src_profiles *s, void (*fn)(void *ctx, struct src_profile *p), void *ctx)
{
    s->on_create = fn;
    s->on_create_ctx = ctx;
}

static void emit(struct src_profiles *s, const struct src_profile *p)
{
    struct ev_source e;
    src_fill_event(p, &e);
    st_emit_source(&s->out, &e);
}

/* A profile pushed out (LRU, expiry, end of run) is emitted first. */
static void on_remove(void *ctx, void *value, enum table_why why)
{
    if (why != TABLE_REMOVED)
        emit(ctx, value);
}

struct src_profiles *src_new(const struct state_cfg *cfg, const struct st_sinks *out)
{
    struct src_profiles *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->out = *out;
    struct table_cfg c = {
        .name = "sources",
        .capacity = cfg->max_sources,
        .value_size = sizeof(struct src_profile),
        .key_max = sizeof(struct ip_addr),
        .idle_us = cfg->source_idle_us,
        .on_remove = on_remove,
        .ctx = s,
    };
    s->t = table_new(&c);
    /* Pair sets never expire by time: a pair that leaves by LRU and comes
     * back is counted twice, the price of a fixed bound. */
    struct table_cfg pc = {
        .name = "source_targets",
        .capacity = cfg->max_source_pairs,
        .value_size = 1,
        .key_max = 8 + sizeof(struct ip_addr),
    };
    s->targets = table_new(&pc);
    pc.name = "source_users";
    pc.key_max = 16;
    s->users = table_new(&pc);
    if (!s->t || !s->targets || !s->users) {
        src_free(s);
        return NULL;
    }
    return s;
}

void src_free(struct src_profiles *s)
{
    if (!s)
        return;
    table_free(s->t);
    table_free(s->targets);
    table_free(s->users);
    free(s);
}

/* First time this profile incarnation meets this user? */
static bool pair_new_user(struct src_profiles *s, const struct src_profile *p, struct slice user,
                          uint64_t now)
{
    uint8_t k[16];
    uint64_t h = table_hash(user.p, user.n);
    memcpy(k, &p->gen, 8);
    memcpy(k + 8, &h, 8);
    bool created = false;
    table_put(s->users, k, sizeof k, now, &created);
    return created;
}

static void tried_user(struct src_profiles *s, struct src_profile *p, struct slice user,
                       uint64_t now)
{
    if (sl_empty(user) || !pair_new_user(s, p, user, now))
        return;
    if (p->users_tried_total < UINT32_MAX)
        p->users_tried_total++;
    if (p->n_users < SRC_MAX_USERS && !list_has(p, p->users, p->n_users, user) &&
        pool_add_evidence(p, user, &p->users[p->n_users]))
        p->n_users++;
}

void src_on_request(struct src_profiles *s, const struct l4_meta *m, const struct sip_msg *msg,
                    bool retransmission)
{
    bool created;
    struct src_profile *p = table_put(s->t, &m->src, sizeof m->src, m->ts_us, &created);
    if (!p)
        return;
    if (created) {
        p->ip = m->src;
        p->gen = ++s->next_gen;
        p->first_us = m->ts_us;
        if (s->on_create)
            s->on_create(s->on_create_ctx, p);
    }
    if (m->ts_us > p->last_us)
        p->last_us = m->ts_us;
    p->sip_messages++;
    p->methods[msg->method_id < SIP_M__COUNT ? msg->method_id : 0]++;
    if (retransmission)
        return;

    if (!sl_empty(msg->user_agent) && p->n_user_agents < SRC_MAX_USER_AGENTS &&
        !list_has(p, p->user_agents, p->n_user_agents, msg->user_agent) &&
        pool_add_evidence(p, msg->user_agent, &p->user_agents[p->n_user_agents]))
        p->n_user_agents++;

    uint8_t k[8 + sizeof(struct ip_addr)];
    memcpy(k, &p->gen, 8);
    memcpy(k + 8, &m->dst, sizeof m->dst);
    bool pair_created = false;
    table_put(s->targets, k, sizeof k, m->ts_us, &pair_created);
    if (pair_created && p->targets < UINT32_MAX)
        p->targets++;

    /* Enumeration shows in the users named by REGISTER, INVITE and OPTIONS
     * (docs ATTACKS.md): To, From and Request-URI user parts. */
    if (msg->method_id == SIP_M_REGISTER || msg->method_id == SIP_M_INVITE ||
        msg->method_id == SIP_M_OPTIONS) {
        tried_user(s, p, msg->to.uri.user, m->ts_us);
        tried_user(s, p, msg->from.uri.user, m->ts_us);
        tried_user(s, p, msg->ruri.user, m->ts_us);
    }
}

static struct src_cred *find_cred(struct src_profile *p, struct slice user, struct slice realm,
                                  bool add)
{
    user = cut(user);
    realm = cut(realm);
    for (unsigned i = 0; i < p->n_credentials; i++)
        if (sl_eq(str_of(p, p->credentials[i].user), user) &&
            sl_eq(str_of(p, p->credentials[i].realm), realm))
            return &p->credentials[i];
    if (!add || p->n_credentials >= SRC_MAX_CREDENTIALS)
        return NULL;
    struct src_cred *c = &p->credentials[p->n_credentials];
    uint16_t mark = p->pool_used;
    if (!pool_add(p, user, &c->user) || !pool_add(p, realm, &c->realm)) {
        p->pool_used = mark;
        return NULL;
    }
    c->accepted = false;
    p->n_credentials++;
    return c;
}

void src_on_auth_attempt(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                         struct slice realm, uint64_t now_us)
{
    struct src_profile *p = table_get(s->t, src, sizeof *src, now_us);
    if (!p)
        return;
    p->auth_attempts++;
    if (!sl_empty(user))
        find_cred(p, user, realm, true);
}

void src_on_auth_result(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                        struct slice realm, bool accepted, bool failure, uint64_t now_us)
{
    struct src_profile *p = table_get(s->t, src, sizeof *src, now_us);
    if (!p)
        return;
    if (accepted) {
        p->auth_successes++;
        struct src_cred *c = sl_empty(user) ? NULL : find_cred(p, user, realm, true);
        if (c)
            c->accepted = true;
    } else if (failure) {
        p->auth_failures++;
    }
}

void src_on_user_found(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                       uint64_t now_us)
{
    if (sl_empty(user))
        return;
    struct src_profile *p = table_get(s->t, src, sizeof *src, now_us);
    if (!p || p->n_extensions >= SRC_MAX_EXTENSIONS ||
        list_has(p, p->extensions, p->n_extensions, user))
        return;
    if (pool_add_evidence(p, user, &p->extensions[p->n_extensions]))
        p->n_extensions++;
}

struct src_profile *src_find(struct src_profiles *s, const struct ip_addr *ip)
{
    return table_peek(s->t, ip, sizeof *ip);
}

static void emit_one(void *ctx, void *value) { emit(ctx, value); }

void src_emit_all(struct src_profiles *s) { table_foreach(s->t, emit_one, s); }

void src_expire(struct src_profiles *s, uint64_t now_us)
{
    table_expire(s->t, now_us);
    table_expire(s->targets, now_us);
    table_expire(s->users, now_us);
}

void src_flush(struct src_profiles *s)
{
    table_flush(s->t);
    table_flush(s->targets);
    table_flush(s->users);
}

const struct table *src_table(const struct src_profiles *s) { return s->t; }
const struct table *src_targets_table(const struct src_profiles *s) { return s->targets; }
const struct table *src_users_table(const struct src_profiles *s) { return s->users; }
