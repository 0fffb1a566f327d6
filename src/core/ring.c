/* The delay ring's int32 rows and their exact overflow path (ring.h). */
#include "ring.h"

static void lock(n4d__ring_spill *s)
{
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire)) {
    }
}

static void unlock(n4d__ring_spill *s) { atomic_flag_clear_explicit(&s->lock, memory_order_release); }

static size_t ring_entries(const n4d_sim *sim)
{
    return (size_t)sim->ring_slots * 2 * (sim->n ? sim->n : 1);
}

static size_t lists(const n4d_sim *sim)
{
    return (size_t)(sim->ring_slots ? sim->ring_slots : 1) * sim->spill->blocks;
}

bool n4d__ring_create(n4d_sim *sim)
{
    /* page-aligned: compression hands back whole pages of a quiet block's
     * ring slices (the state arrays are not: aligning them costs 7 % on
     * brunel through cache aliasing in the update loop) */
    sim->ring = n4d__calloc_aligned(sim->ctx, N4D_MEM_BUFFERS, ring_entries(sim), sizeof(int32_t),
                                    4096);
    sim->spill = n4d__calloc(sim->ctx, N4D_MEM_BUFFERS, 1, sizeof *sim->spill);
    if (!sim->ring || !sim->spill)
        return false;
    n4d__ring_spill *s = sim->spill;
    atomic_flag_clear(&s->lock);
    s->blocks = (uint32_t)(((sim->n ? sim->n : 1) + (1u << N4D__SPILL_BLOCK_LOG2) - 1) >>
                           N4D__SPILL_BLOCK_LOG2);
    s->list = n4d__calloc(sim->ctx, N4D_MEM_BUFFERS, lists(sim), sizeof *s->list);
    s->pending = n4d__calloc(sim->ctx, N4D_MEM_BUFFERS, lists(sim), sizeof *s->pending);
    return s->list && s->pending;
}

void n4d__ring_destroy(n4d_sim *sim)
{
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, sim->ring, ring_entries(sim) * sizeof(int32_t));
    sim->ring = NULL;
    n4d__ring_spill *s = sim->spill;
    if (!s)
        return;
    if (s->list)
        for (size_t k = 0; k < lists(sim); k++)
            n4d__free(sim->ctx, N4D_MEM_BUFFERS, s->list[k].e, s->list[k].cap * sizeof *s->list[k].e);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, s->list, lists(sim) * sizeof *s->list);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, (void *)s->pending, lists(sim) * sizeof *s->pending);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, s, sizeof *s);
    sim->spill = NULL;
}

/* Appends an entry (the lock held); false when its list cannot grow. */
static bool append(n4d_sim *sim, uint32_t row, uint32_t t, int64_t w)
{
    n4d__ring_spill *s = sim->spill;
    const size_t k = (size_t)(row / 2) * s->blocks + (t >> N4D__SPILL_BLOCK_LOG2);
    n4d__spill_list *l = &s->list[k];
    if (!n4d__grow(sim->ctx, N4D_MEM_BUFFERS, (void **)&l->e, &l->cap, l->n + 1, sizeof *l->e))
        return false;
    l->e[l->n++] = (n4d__spill_entry){row, t, w};
    atomic_fetch_add_explicit(&s->pending[k], 1, memory_order_relaxed);
    return true;
}

/* Removes entry j of list k (the lock held; the order does not matter). */
static void remove_entry(n4d__ring_spill *s, size_t k, size_t j)
{
    n4d__spill_list *l = &s->list[k];
    l->e[j] = l->e[--l->n];
    atomic_fetch_sub_explicit(&s->pending[k], 1, memory_order_relaxed);
}

void n4d__ring_spill_add(n4d_sim *sim, const int32_t *acc, uint32_t t, int64_t w)
{
    n4d__ring_spill *s = sim->spill;
    const uint32_t row = (uint32_t)((size_t)(acc - sim->ring) / (sim->n ? sim->n : 1));
    lock(s);
    if (!append(sim, row, t, w))
        atomic_store(&s->failed, 1);
    unlock(s);
}

void n4d__ring_take(n4d_sim *sim, uint64_t step, uint64_t a, uint64_t b, int64_t *we, int64_t *wi)
{
    const uint32_t slot = (uint32_t)(step % sim->ring_slots);
    int32_t *re = n4d__ring_row(sim, slot, 0), *ri = n4d__ring_row(sim, slot, 1);
    for (uint64_t i = a; i < b; i++) {
        we[i - a] = re[i];
        wi[i - a] = ri[i];
        re[i] = 0;
        ri[i] = 0;
    }
    if (a >= b || !n4d__ring_slot_spilled(sim, slot, a, b))
        return;
    n4d__ring_spill *s = sim->spill;
    lock(s);
    for (uint64_t blk = a >> N4D__SPILL_BLOCK_LOG2; blk <= (b - 1) >> N4D__SPILL_BLOCK_LOG2; blk++) {
        const size_t k = (size_t)slot * s->blocks + blk;
        for (size_t j = 0; j < s->list[k].n;) {
            const n4d__spill_entry *e = &s->list[k].e[j];
            if (e->target < a || e->target >= b) {
                j++;
                continue;
            }
            (e->row & 1 ? wi : we)[e->target - a] += e->value;
            remove_entry(s, k, j);
        }
    }
    unlock(s);
}

void n4d__ring_get_row(const n4d_sim *sim, uint32_t row, bool by_user, int64_t *out)
{
    const n4d_model *m = sim->model;
    const int32_t *r = sim->ring + (size_t)row * sim->n;
    for (uint64_t u = 0; u < sim->n; u++)
        out[u] = r[by_user ? n4d__to_internal(m, u) : u];
    const n4d__ring_spill *s = sim->spill;
    for (size_t k = (size_t)(row / 2) * s->blocks; k < (size_t)(row / 2 + 1) * s->blocks; k++)
        for (size_t j = 0; j < s->list[k].n; j++) {
            const n4d__spill_entry *e = &s->list[k].e[j];
            if (e->row == row)
                out[by_user ? n4d__to_user(m, e->target) : e->target] += e->value;
        }
}

bool n4d__ring_set_row(n4d_sim *sim, uint32_t row, bool by_user, const int64_t *in)
{
    const n4d_model *m = sim->model;
    n4d__ring_spill *s = sim->spill;
    for (size_t k = (size_t)(row / 2) * s->blocks; k < (size_t)(row / 2 + 1) * s->blocks; k++)
        for (size_t j = 0; j < s->list[k].n;) /* the row's old spilled values */
            if (s->list[k].e[j].row == row)
                remove_entry(s, k, j);
            else
                j++;
    int32_t *r = sim->ring + (size_t)row * sim->n;
    for (uint64_t u = 0; u < sim->n; u++) {
        const uint64_t i = by_user ? n4d__to_internal(m, u) : u;
        const bool fits = in[u] >= INT32_MIN && in[u] <= INT32_MAX;
        r[i] = fits ? (int32_t)in[u] : 0;
        if (!fits && !append(sim, row, (uint32_t)i, in[u]))
            return false;
    }
    return true;
}

n4d_status n4d__ring_check(n4d_sim *sim)
{
    if (!atomic_load(&sim->spill->failed))
        return N4D_OK;
    return n4d__error(&sim->hdr, N4D_E_NOMEM,
                      "out of memory for the delay ring's overflow list (a synaptic sum beyond "
                      "the int32 range could not be kept): the simulation is no longer exact");
}
