/*
 * profile.c - per-source profiles: counters and bounded evidence for each
 * IP that sends requests. Distinct targets and users are counted through
 * two global bounded sets of (profile, destination IP) and (profile, user),
 * so a sweep of a /16 costs one small entry per pair, not per-profile arrays.
 * Verdicts (tools, techniques, severity) are left to the detection issue.
 */
#include "rules/profile.h"

#include <stdlib.h>

struct src_profiles {
    struct table *t;       /* ip -> struct src_profile */
    struct table *targets; /* (gen, destination IP) seen */
    struct table *users;   /* (gen, hash of user) seen */
    struct st_sinks out;
    uint64_t next_gen;
};

static struct slice str_of(const struct src_profile *p, struct src_str s)
{
    return sl_make(p->pool + s.off, s.len);
}

static struct slice cut(struct slice s) { return sl_prefix(s, SRC_STR_MAX); }

/* Copy s (cut) into the profile's pool; false when the pool is full. */
static bool pool_add(struct src_profile *p, struct slice s, struct src_str *out)
{
    s = cut(s);
    if (s.n > (size_t)SRC_POOL_BYTES - p->pool_used)
        return false;
    if (s.n)
        memcpy(p->pool + p->pool_used, s.p, s.n);
    out->off = p->pool_used;
    out->len = (uint8_t)s.n;
    p->pool_used = (uint16_t)(p->pool_used + s.n);
    return true;
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
        e->credentials[i].password = SL_NULL;
        e->credentials[i].accepted = p->credentials[i].accepted;
    }
    e->n_credentials = p->n_credentials;
    e->severity = "info";
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
        pool_add(p, user, &p->users[p->n_users]))
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
    }
    if (m->ts_us > p->last_us)
        p->last_us = m->ts_us;
    p->sip_messages++;
    p->methods[msg->method_id < SIP_M__COUNT ? msg->method_id : 0]++;
    if (retransmission)
        return;

    if (!sl_empty(msg->user_agent) && p->n_user_agents < SRC_MAX_USER_AGENTS &&
        !list_has(p, p->user_agents, p->n_user_agents, msg->user_agent) &&
        pool_add(p, msg->user_agent, &p->user_agents[p->n_user_agents]))
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
    if (pool_add(p, user, &p->extensions[p->n_extensions]))
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
