/* The model's name indexes (n4d__name_index, internal.h): open addressing
 * with linear probing over 32-bit slots holding an element index + 1 (0:
 * empty), FNV-1a hashes, kept at most half full. Names are never removed
 * (a model only grows while it is described). */
#include "internal.h"

#include <string.h>

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static const char *name_at(const void *base, size_t stride, size_t i)
{
    return *(char *const *)((const char *)base + i * stride);
}

int32_t n4d__names_find(const n4d__name_index *x, const void *base, size_t stride,
                        const char *name)
{
    if (!x->cap)
        return -1;
    const size_t mask = x->cap - 1;
    for (size_t k = (size_t)name_hash(name) & mask;; k = (k + 1) & mask) {
        const uint32_t v = x->slot[k];
        if (!v)
            return -1;
        if (strcmp(name_at(base, stride, v - 1), name) == 0)
            return (int32_t)(v - 1);
    }
}

static void put(uint32_t *slot, size_t cap, const char *name, size_t index)
{
    size_t k = (size_t)name_hash(name) & (cap - 1);
    while (slot[k])
        k = (k + 1) & (cap - 1);
    slot[k] = (uint32_t)index + 1;
}

bool n4d__names_reserve(n4d_context *ctx, n4d__name_index *x, const void *base, size_t stride,
                        size_t count)
{
    if (count <= x->cap / 2)
        return true;
    if (count >= ((size_t)1 << 30))
        return false;
    size_t cap = x->cap ? x->cap : 16;
    while (count > cap / 2)
        cap *= 2;
    uint32_t *slot = n4d__calloc(ctx, N4D_MEM_OTHER, cap, sizeof *slot);
    if (!slot)
        return false;
    /* the elements indexed so far: every slot of the old table */
    for (size_t k = 0; k < x->cap; k++)
        if (x->slot[k])
            put(slot, cap, name_at(base, stride, x->slot[k] - 1), x->slot[k] - 1);
    n4d__names_free(ctx, x);
    x->slot = slot;
    x->cap = cap;
    return true;
}

void n4d__names_add(n4d__name_index *x, const void *base, size_t stride, size_t index)
{
    put(x->slot, x->cap, name_at(base, stride, index), index);
}

void n4d__names_free(n4d_context *ctx, n4d__name_index *x)
{
    if (x->slot)
        n4d__free(ctx, N4D_MEM_OTHER, x->slot, x->cap * sizeof *x->slot);
    x->slot = NULL;
    x->cap = 0;
}
