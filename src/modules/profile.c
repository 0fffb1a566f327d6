/* Performance profiler (include/n4d/profile.h), a module: the built-in
 * sections are timed by the core and the backends into the sim's timing
 * (sim_state.h) while the profiler has it on; the caller's named sections
 * live in a table attached to the sim through the core's hooks. */
#include "sim_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SIM_ERR(s, st, ...) n4d__error(&(s)->hdr, (st), __VA_ARGS__)
#define IS_SIM(s) n4d__is_handle((s), N4D__MAGIC_SIM)
#define MAX_USER 64
#define NAME_CAP 64

typedef struct n4d__prof_user {
    char name[NAME_CAP];
    n4d__prof_stat st;
    uint64_t start_ns;
    bool running;
} n4d__prof_user;

/* The caller's sections (the hook's data). */
typedef struct user_table {
    n4d__prof_user user[MAX_USER];
    size_t n_user;
} user_table;

static const char *const builtin_names[N4D_PROFILE_BUILTIN_COUNT] = {
    "build", "run", "neuron update", "delivery", "exchange", "recording", "input"};

static void on_detach(void *data, n4d_sim *sim)
{
    n4d__free(sim->ctx, N4D_MEM_OTHER, data, sizeof(user_table));
}

static const n4d__hook_ops profile_hooks = {.name = "profiler", .on_detach = on_detach};

/* Creates the tables if needed: the core's timing figures and the caller's
 * sections. */
static n4d_status ensure_table(n4d_sim *sim)
{
    n4d_status st = n4d__sim_timing_enable(sim, sim->timing != NULL);
    if (st || n4d__sim_hook_data(sim, &profile_hooks))
        return st;
    user_table *u = n4d__calloc(sim->ctx, N4D_MEM_OTHER, 1, sizeof *u);
    if (!u)
        return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for the profile table");
    if ((st = n4d__sim_attach(sim, &profile_hooks, u, 0)))
        n4d__free(sim->ctx, N4D_MEM_OTHER, u, sizeof *u);
    return st;
}

n4d_status n4d_sim_profile_enable(n4d_sim *sim, int on)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (on) {
        n4d_status st = ensure_table(sim);
        if (st)
            return st;
    }
    return n4d__sim_timing_enable(sim, on != 0);
}

int n4d_sim_profile_enabled(const n4d_sim *sim)
{
    return IS_SIM(sim) && sim->timing;
}

n4d_status n4d_sim_profile_reset(n4d_sim *sim)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (sim->timing_store)
        memset(sim->timing_store->stat, 0, sizeof sim->timing_store->stat);
    user_table *p = n4d__sim_hook_data(sim, &profile_hooks);
    if (p)
        memset(p, 0, sizeof *p);
    return N4D_OK;
}

/* Statistics of section `name`, created if `create`; NULL (error set) if
 * the name is invalid or the table is full. */
static n4d__prof_stat *find_section(n4d_sim *sim, const char *name, bool create,
                                    n4d__prof_user **user, n4d_status *st)
{
    *user = NULL;
    *st = N4D_OK;
    if (!name || !name[0] || strlen(name) >= NAME_CAP) {
        *st = SIM_ERR(sim, N4D_E_INVALID_ARG, "profile section name is %s (expected 1 to %d bytes)",
                      !name ? "NULL" : !name[0] ? "empty" : "too long", NAME_CAP - 1);
        return NULL;
    }
    for (int i = 0; i < N4D_PROFILE_BUILTIN_COUNT; i++)
        if (strcmp(name, builtin_names[i]) == 0)
            return &sim->timing_store->stat[i];
    user_table *p = n4d__sim_hook_data(sim, &profile_hooks);
    for (size_t i = 0; i < p->n_user; i++)
        if (strcmp(name, p->user[i].name) == 0) {
            *user = &p->user[i];
            return &p->user[i].st;
        }
    if (!create) {
        *st = SIM_ERR(sim, N4D_E_STATE, "profile section \"%s\" was not started", name);
        return NULL;
    }
    if (p->n_user >= MAX_USER) {
        *st = SIM_ERR(sim, N4D_E_LIMIT, "more than %d profile sections (adding \"%s\")", MAX_USER,
                      name);
        return NULL;
    }
    n4d__prof_user *u = &p->user[p->n_user++];
    memset(u, 0, sizeof *u);
    memcpy(u->name, name, strlen(name) + 1);
    *user = u;
    return &u->st;
}

/* Built-in sections are timed by the library: the caller adds to them with
 * n4d_sim_profile_add only. */
n4d_status n4d_sim_profile_start(n4d_sim *sim, const char *name)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!sim->timing)
        return N4D_OK;
    n4d__prof_user *u;
    n4d_status st;
    if (!find_section(sim, name, true, &u, &st))
        return st;
    if (!u)
        return SIM_ERR(sim, N4D_E_INVALID_ARG,
                       "\"%s\" is a built-in section: use n4d_sim_profile_add to add to it", name);
    if (u->running)
        return SIM_ERR(sim, N4D_E_STATE, "profile section \"%s\" is already running", name);
    u->running = true;
    u->start_ns = n4d__now_ns();
    return N4D_OK;
}

n4d_status n4d_sim_profile_stop(n4d_sim *sim, const char *name)
{
    const uint64_t t = n4d__now_ns();
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!sim->timing)
        return N4D_OK;
    n4d__prof_user *u;
    n4d_status st;
    if (!find_section(sim, name, false, &u, &st))
        return st;
    if (!u || !u->running)
        return SIM_ERR(sim, N4D_E_STATE, "profile section \"%s\" was not started", name);
    u->running = false;
    n4d__prof_add(&u->st, t - u->start_ns);
    return N4D_OK;
}

n4d_status n4d_sim_profile_add(n4d_sim *sim, const char *name, double seconds)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!(seconds >= 0) || seconds > 1e9)
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "profile interval %g s is not in [0, 1e9]", seconds);
    n4d_status st = ensure_table(sim);
    if (st)
        return st;
    n4d__prof_user *u;
    n4d__prof_stat *s = find_section(sim, name, true, &u, &st);
    if (!s)
        return st;
    n4d__prof_add(s, (uint64_t)(seconds * 1e9 + 0.5));
    return N4D_OK;
}

static void entry_of(const char *name, const n4d__prof_stat *s, n4d_profile_entry *e)
{
    e->name = name;
    e->calls = s->calls;
    e->total_s = (double)s->total_ns * 1e-9;
    e->mean_s = s->calls ? e->total_s / (double)s->calls : 0.0;
    e->min_s = (double)s->min_ns * 1e-9;
    e->max_s = (double)s->max_ns * 1e-9;
}

/* The build section: the caller's figures, or the library's timing of the
 * model build when the caller added none. */
static n4d__prof_stat build_stat(const n4d_sim *sim)
{
    n4d__prof_stat s = {0, 0, 0, 0};
    if (sim->timing_store)
        s = sim->timing_store->stat[N4D_PROFILE_BUILD];
    if (s.calls == 0 && sim->model->build_ns)
        n4d__prof_add(&s, sim->model->build_ns);
    return s;
}

n4d_status n4d_sim_profile_get(const n4d_sim *sim, n4d_profile_entry *out, size_t cap, size_t *count)
{
    if (!IS_SIM(sim) || (!out && cap) || !count)
        return N4D_E_INVALID_ARG;
    const user_table *p = n4d__sim_hook_data(sim, &profile_hooks);
    const n4d__timing *tm = sim->timing_store;
    const size_t n = N4D_PROFILE_BUILTIN_COUNT + (p ? p->n_user : 0);
    *count = n;
    const n4d__prof_stat zero = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < cap; i++) {
        if (i == N4D_PROFILE_BUILD) {
            n4d__prof_stat b = build_stat(sim);
            entry_of(builtin_names[i], &b, &out[i]);
        } else if (i < N4D_PROFILE_BUILTIN_COUNT) {
            entry_of(builtin_names[i], tm ? &tm->stat[i] : &zero, &out[i]);
        } else {
            const n4d__prof_user *u = &p->user[i - N4D_PROFILE_BUILTIN_COUNT];
            entry_of(u->name, &u->st, &out[i]);
        }
    }
    return N4D_OK;
}

/* ---- text reports -------------------------------------------------------- */


n4d_status n4d_sim_profile_report(const n4d_sim *sim, char *buf, size_t cap, size_t *len)
{
    if (!IS_SIM(sim) || (!buf && cap))
        return N4D_E_INVALID_ARG;
    if (cap)
        buf[0] = '\0';
    n4d_profile_entry e[N4D_PROFILE_BUILTIN_COUNT + MAX_USER];
    size_t n = 0;
    if (n4d_sim_profile_get(sim, e, sizeof e / sizeof e[0], &n) != N4D_OK)
        return N4D_E_INTERNAL;
    const double run = e[N4D_PROFILE_RUN].total_s;
    n4d__textbuf t = {buf, cap, 0};
    n4d__tb_printf(&t, "%-20s %10s %12s %12s %12s %12s %7s\n", "section", "calls", "total (s)",
              "mean (ms)", "min (ms)", "max (ms)", "% run");
    for (size_t i = 0; i < n; i++) {
        if (e[i].calls == 0)
            continue;
        char share[16] = "";
        if (run > 0 && i != N4D_PROFILE_BUILD && i != N4D_PROFILE_INPUT)
            snprintf(share, sizeof share, "%.1f", 100.0 * e[i].total_s / run);
        n4d__tb_printf(&t, "%-20.20s %10llu %12.6f %12.4f %12.4f %12.4f %7s\n", e[i].name,
                  (unsigned long long)e[i].calls, e[i].total_s, e[i].mean_s * 1e3,
                  e[i].min_s * 1e3, e[i].max_s * 1e3, share);
    }
    if (len)
        *len = t.len;
    return N4D_OK;
}
