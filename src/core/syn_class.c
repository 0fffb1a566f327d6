/* Synapse parameters and the plastic synapse classes of a model
 * (internal.h, n4d__syn_class; docs/plasticity.md): a projection's
 * parameters by name, and the classes made from the projections at the
 * build, by an import or from a file. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)

n4d_status n4d__syn_params_resolve(n4d_model *m, const char *who, const n4d__synapse_model *sm,
                                   const n4d_param_value *pv, uint32_t n, double *q)
{
    for (int32_t k = 0; k < sm->n_params; k++)
        q[k] = sm->params[k].def;
    if (n && !pv)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "projection \"%s\": synapse_params is NULL", who);
    for (uint32_t i = 0; i < n; i++) {
        if (!pv[i].name)
            return MODEL_ERR(m, N4D_E_INVALID_ARG,
                             "projection \"%s\": synapse parameter %u has no name", who, i);
        const int32_t k = n4d__pdef_index(sm->params, sm->n_params, pv[i].name);
        if (k < 0) {
            char names[400];
            return MODEL_ERR(m, N4D_E_CONFIG,
                             "projection \"%s\": unknown parameter \"%s\" of synapse model "
                             "\"%s\" (expected %s)",
                             who, pv[i].name, sm->name,
                             sm->n_params ? n4d__pdef_names(sm->params, sm->n_params, names,
                                                            sizeof names)
                                          : "none: it has no parameters");
        }
        if (!n4d__pdef_valid(&sm->params[k], pv[i].value)) {
            char range[96];
            return MODEL_ERR(m, N4D_E_RANGE,
                             "projection \"%s\": parameter \"%s\" of synapse model \"%s\" is "
                             "%g (expected %s)",
                             who, sm->params[k].name, sm->name, pv[i].value,
                             n4d__pdef_range_text(&sm->params[k], range, sizeof range));
        }
        q[k] = pv[i].value;
    }
    if (sm->id == N4D__SYN_HEBB_4DNC && !(q[1] <= q[2]))
        return MODEL_ERR(m, N4D_E_RANGE,
                         "projection \"%s\": hebb_4dnc weight_min %g is above weight_max %g", who,
                         q[1], q[2]);
    if (sm->id == N4D__SYN_STDP && q[7] != 0.0 && q[7] != 1.0)
        return MODEL_ERR(m, N4D_E_RANGE, "projection \"%s\": stdp nearest must be 0 or 1", who);
    return N4D_OK;
}

static n4d_status add_class(n4d_model *m, const char *name, const n4d__synapse_model *sm,
                            const double *q, int32_t source, int32_t target)
{
    if (m->n_cls >= N4D__MAX_SYN_CLASSES)
        return n4d__error(&m->hdr, N4D_E_LIMIT, "more than %u plastic population pairs",
                          N4D__MAX_SYN_CLASSES);
    if (!n4d__grow(m->ctx, N4D_MEM_OTHER, (void **)&m->cls, &m->cap_cls, m->n_cls + 1,
                   sizeof *m->cls))
        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the synapse classes");
    n4d__syn_class *c = &m->cls[m->n_cls];
    memset(c, 0, sizeof *c);
    if (!(c->name = n4d__strdup(m->ctx, name)))
        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the synapse classes");
    c->sm = sm;
    memcpy(c->params, q, sizeof c->params);
    c->source = source;
    c->target = target;
    m->n_cls++;
    return N4D_OK;
}

n4d_status n4d__model_make_classes(n4d_model *m)
{
    n4d__model_free_classes(m);
    for (size_t i = 0; i < m->n_projs; i++) {
        const n4d__projection *pr = &m->projs[i];
        /* every projection of the pair must agree, static ones included */
        for (size_t j = 0; j < i; j++) {
            const n4d__projection *q = &m->projs[j];
            if (q->source != pr->source || q->target != pr->target)
                continue;
            if (q->sm != pr->sm ||
                memcmp(q->syn_params, pr->syn_params, sizeof pr->syn_params) != 0) {
                n4d__model_free_classes(m);
                return n4d__error(&m->hdr, N4D_E_CONFIG,
                                  "projections \"%s\" and \"%s\" join the same populations with "
                                  "different synapse models or parameters (n4d keeps one synapse "
                                  "model per pair of populations)",
                                  q->name, pr->name);
            }
            break;
        }
        /* static pairs stay in the model, unless a cell lifecycle mutates
         * their weights: then they are a class whose weights the sim owns */
        const bool owned = n4d__pop_mutates_weights(m, pr->source) ||
                           n4d__pop_mutates_weights(m, pr->target);
        if ((pr->sm->id == N4D__SYN_STATIC && !owned) ||
            n4d__model_pair_class(m, pr->source, pr->target))
            continue;
        n4d_status st = add_class(m, pr->name, pr->sm, pr->syn_params, pr->source, pr->target);
        if (st) {
            n4d__model_free_classes(m);
            return st;
        }
    }
    return N4D_OK;
}

n4d_status n4d__model_add_class(n4d_model *m, const char *name, const n4d__synapse_model *sm,
                                const n4d_param_value *pv, uint32_t n, int32_t source,
                                int32_t target)
{
    double q[N4D__MAX_SYN_PARAMS] = {0};
    n4d_status st = n4d__syn_params_resolve(m, name, sm, pv, n, q);
    if (st)
        return st;
    if (n4d__model_pair_class(m, source, target))
        return n4d__error(&m->hdr, N4D_E_CONFIG, "synapse class \"%s\": its populations already "
                          "have a class", name);
    return add_class(m, name, sm, q, source, target);
}

uint32_t n4d__model_pair_class(const n4d_model *m, int32_t src, int32_t tgt)
{
    for (uint32_t k = 0; k < m->n_cls; k++) {
        const n4d__syn_class *c = &m->cls[k];
        if ((c->source < 0 || c->source == src) && (c->target < 0 || c->target == tgt))
            return k + 1;
    }
    return 0;
}

void n4d__model_free_classes(n4d_model *m)
{
    for (uint32_t k = 0; k < m->n_cls; k++)
        n4d__strfree(m->ctx, m->cls[k].name);
    n4d__free(m->ctx, N4D_MEM_OTHER, m->cls, m->cap_cls * sizeof *m->cls);
    m->cls = NULL;
    m->n_cls = 0;
    m->cap_cls = 0;
}

