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
    atomic_flag_clear(&sim->spill->lock);
    sim->spill->pending =
        n4d__calloc(sim->ctx, N4D_MEM_BUFFERS, sim->ring_slots ? sim->ring_slots : 1,
                    sizeof *sim->spill->pending);
    return sim->spill->pending != NULL;
}

void n4d__ring_destroy(n4d_sim *sim)
{
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, sim->ring, ring_entries(sim) * sizeof(int32_t));
    sim->ring = NULL;
    n4d__ring_spill *s = sim->spill;
    if (!s)
        return;
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, s->e, s->cap * sizeof *s->e);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, (void *)s->pending,
              (sim->ring_slots ? sim->ring_slots : 1) * sizeof *s->pending);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, s, sizeof *s);
    sim->spill = NULL;
}

/* Appends an entry (the lock held); false when the list cannot grow. */
static bool append(n4d_sim *sim, uint32_t row, uint32_t t, int64_t w)
{
    n4d__ring_spill *s = sim->spill;
    if (s->n == s->cap) {
        const size_t cap = s->cap ? 2 * s->cap : 64;
        n4d__spill_entry *e = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof *e);
        if (!e)
            return false;
        if (s->n)
            memcpy(e, s->e, s->n * sizeof *e);
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, s->e, s->cap * sizeof *s->e);
        s->e = e;
        s->cap = cap;
    }
    s->e[s->n++] = (n4d__spill_entry){row, t, w};
    atomic_fetch_add_explicit(&s->pending[row / 2], 1, memory_order_relaxed);
    return true;
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
    if (!n4d__ring_spilled(sim, step))
        return;
    n4d__ring_spill *s = sim->spill;
    lock(s);
    for (size_t k = 0; k < s->n;) {
        const n4d__spill_entry *e = &s->e[k];
        if (e->row / 2 != slot || e->target < a || e->target >= b) {
            k++;
            continue;
        }
        (e->row & 1 ? wi : we)[e->target - a] += e->value;
        s->e[k] = s->e[--s->n]; /* the order of the list does not matter */
        atomic_fetch_sub_explicit(&s->pending[slot], 1, memory_order_relaxed);
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
    for (size_t k = 0; k < s->n; k++)
        if (s->e[k].row == row)
            out[by_user ? n4d__to_user(m, s->e[k].target) : s->e[k].target] += s->e[k].value;
}

bool n4d__ring_set_row(n4d_sim *sim, uint32_t row, bool by_user, const int64_t *in)
{
    const n4d_model *m = sim->model;
    n4d__ring_spill *s = sim->spill;
    for (size_t k = 0; k < s->n;) /* the row's old spilled values */
        if (s->e[k].row == row) {
            s->e[k] = s->e[--s->n];
            atomic_fetch_sub_explicit(&s->pending[row / 2], 1, memory_order_relaxed);
        } else {
            k++;
        }
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
