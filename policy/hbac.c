/*
 * hbac.c - HBAC decisions.  See hbac.h.
 *
 * Candidate rules come from the index built at load time (snapshot.c): the
 * enabled allow rules naming the user, naming one of the user's groups, or
 * having user category ALL, each list in ascending rule order.  Only those
 * are checked for host and service, and each list stops at the first match
 * or at the best match found so far, so the answer (the lowest matching rule
 * index, as libipa_hbac reports) costs a few rules, not all of them.
 */
#include <string.h>

#include "policy/hbac.h"

static const struct tg_idlist tg_empty_ids = {NULL, 0, 0};

/* Do two sorted id lists share an element? */
static bool tg_intersects(const struct tg_idlist *a, const struct tg_idlist *b)
{
    uint32_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        if (a->v[i] == b->v[j])
            return true;
        if (a->v[i] < b->v[j])
            i++;
        else
            j++;
    }
    return false;
}

static bool tg_el_match(const struct tg_hbac_el *el, uint32_t id, const struct tg_idlist *groups)
{
    if (el->all)
        return true;
    if (id != TG_STRMAP_NONE && tg_idlist_has(&el->names, id))
        return true;
    return tg_intersects(&el->groups, groups);
}

/* Scan one ascending candidate list; lower *best on a match. */
static void tg_scan(const struct tg_snapshot_data *d, const uint32_t *r, uint32_t n,
                    const struct tg_hbac_req *q, uint32_t *best)
{
    for (uint32_t i = 0; i < n && r[i] < *best; i++) {
        const struct tg_hbac_rule *h = &d->hbac[r[i]];
        if (tg_el_match(&h->hosts, q->host, q->host_groups) &&
            tg_el_match(&h->services, q->service, q->service_groups)) {
            *best = r[i];
            return;
        }
    }
}

long tg_hbac_eval(const struct tg_snapshot_data *d, const struct tg_hbac_req *q)
{
    uint32_t best = UINT32_MAX;
    tg_scan(d, d->hbac_user_all, (uint32_t)d->nhbac_user_all, q, &best);
    if (q->user != TG_STRMAP_NONE && d->hbac_by_user.off) {
        const struct tg_csr *c = &d->hbac_by_user;
        tg_scan(d, c->rules + c->off[q->user], c->off[q->user + 1] - c->off[q->user], q, &best);
    }
    const struct tg_csr *g = &d->hbac_by_group;
    for (uint32_t k = 0; k < q->user_groups->n && g->off; k++) {
        uint32_t id = q->user_groups->v[k];
        tg_scan(d, g->rules + g->off[id], g->off[id + 1] - g->off[id], q, &best);
    }
    return best == UINT32_MAX ? -1 : (long)best;
}

static uint32_t tg_lookup(const struct tg_snapshot *s, enum tg_ns ns, const char *name,
                          const struct tg_idlist **groups)
{
    uint32_t id = name ? tg_snap_find(&s->d, ns, name, strlen(name)) : TG_STRMAP_NONE;
    *groups = id == TG_STRMAP_NONE ? &tg_empty_ids : &s->d.ns[ns].v[id].closure;
    return id;
}

long tg_hbac_check(const struct tg_snapshot *s, const char *user, const char *host,
                   const char *service)
{
    struct tg_hbac_req q;
    q.user = tg_lookup(s, TG_NS_USER, user, &q.user_groups);
    q.host = tg_lookup(s, TG_NS_HOST, host, &q.host_groups);
    q.service = tg_lookup(s, TG_NS_SERVICE, service, &q.service_groups);
    return tg_hbac_eval(&s->d, &q);
}
