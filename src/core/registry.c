/* The backend registry (backend.h, docs/architecture.md "Backends"): the
 * built-in entries of registry_builtin.c, then those added at run time, in
 * registration order. Entries are never removed, so a pointer to one stays
 * valid for the life of the process. */
#include "backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BACKENDS 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const n4d__backend *entries[MAX_BACKENDS];
static _Atomic uint32_t n_entries;

static bool same_name(const n4d__backend *b, const char *name, size_t len)
{
    return strlen(b->name) == len && memcmp(b->name, name, len) == 0;
}

static n4d_status add_entry(const n4d__backend *b)
{
    if (!b || !b->name || !b->ops)
        return N4D_E_INVALID_ARG;
    if (b->abi != N4D__BACKEND_ABI)
        return N4D_E_UNSUPPORTED;
    const uint32_t n = atomic_load(&n_entries);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(entries[i]->name, b->name) == 0)
            return N4D_E_STATE;
    if (n == MAX_BACKENDS)
        return N4D_E_LIMIT;
    entries[n] = b;
    atomic_store(&n_entries, n + 1); /* readers see the entry before the count */
    return N4D_OK;
}

static void add_builtins(void)
{
    for (size_t i = 0; n4d__builtin_backends[i]; i++)
        (void)add_entry(n4d__builtin_backends[i]);
}

n4d_status n4d__backend_register(const n4d__backend *b)
{
    pthread_once(&once, add_builtins);
    pthread_mutex_lock(&lock);
    n4d_status st = add_entry(b);
    pthread_mutex_unlock(&lock);
    return st;
}

uint32_t n4d__backend_count(void)
{
    pthread_once(&once, add_builtins);
    return atomic_load(&n_entries);
}

const n4d__backend *n4d__backend_at(uint32_t i)
{
    return i < n4d__backend_count() ? entries[i] : NULL;
}

const n4d__backend *n4d__backend_lookup(const char *name, int32_t *device, int *bad_index)
{
    *device = 0;
    *bad_index = 0;
    if (!name)
        return NULL;
    const char *colon = strchr(name, ':');
    const size_t len = colon ? (size_t)(colon - name) : strlen(name);
    const uint32_t n = n4d__backend_count();
    for (uint32_t i = 0; i < n; i++) {
        const n4d__backend *b = entries[i];
        if (!same_name(b, name, len))
            continue;
        if (!colon)
            return b;
        char *end = NULL;
        const long d = strtol(colon + 1, &end, 10);
        if (!(b->caps & N4D__CAP_DEVICE_INDEX) || colon[1] < '0' || colon[1] > '9' || *end ||
            d > 1024) {
            *bad_index = 1;
            return b;
        }
        *device = (int32_t)d;
        return b;
    }
    return NULL;
}

void n4d__backend_names(char *buf, size_t cap)
{
    size_t len = 0;
    int w = snprintf(buf, cap, "auto");
    len = w > 0 ? (size_t)w : 0;
    const uint32_t n = n4d__backend_count();
    for (uint32_t i = 0; i < n && len < cap; i++) {
        const n4d__backend *b = entries[i];
        w = (b->caps & N4D__CAP_DEVICE_INDEX) ? snprintf(buf + len, cap - len, ", %s, %s:N", b->name, b->name)
                                              : snprintf(buf + len, cap - len, ", %s", b->name);
        len += w > 0 ? (size_t)w : 0;
    }
}

const n4d__backend *n4d__backend_with(uint32_t caps)
{
    const uint32_t n = n4d__backend_count();
    for (uint32_t i = 0; i < n; i++)
        if ((entries[i]->caps & caps) == caps)
            return entries[i];
    return NULL;
}

/* ---- public queries (include/n4d/sim.h) ------------------------------------ */

uint32_t n4d_backend_count(void) { return n4d__backend_count(); }

const char *n4d_backend_name(uint32_t index)
{
    const n4d__backend *b = n4d__backend_at(index);
    return b ? b->name : NULL;
}

uint32_t n4d_backend_caps(const char *name)
{
    int32_t device;
    int bad;
    const n4d__backend *b = n4d__backend_lookup(name, &device, &bad);
    return b && !bad ? b->caps : 0;
}

n4d_status n4d_backend_probe(const char *name, char *why, size_t cap)
{
    if (why && cap)
        why[0] = '\0';
    int32_t device;
    int bad;
    const n4d__backend *b = n4d__backend_lookup(name, &device, &bad);
    char msg[N4D_CUDA_ERR_CAP + 2200] = "";
    n4d_status st = N4D_OK;
    if (!b || bad) {
        st = N4D_E_INVALID_ARG;
        snprintf(msg, sizeof msg, "unknown backend \"%s\"", name ? name : "(null)");
    } else if (b->probe) {
        st = b->probe(device, 0, msg, sizeof msg);
    }
    if (st && why && cap)
        snprintf(why, cap, "%s", msg);
    return st;
}
