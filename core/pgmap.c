/* pgmap.c — see pgmap.h. */
#include "pgmap.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint64_t pgno, size_t cap)
{
    uint64_t h = pgno * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

pdb_pgmap_ent *pdb_pgmap_find(const pdb_pgmap *m, uint64_t pgno)
{
    if (!m->cap) return NULL;
    for (size_t i = slot_of(pgno, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].pgno == pgno) return &m->slots[i];
        if (m->slots[i].pgno == 0) return NULL;
    }
}

static int grow(pdb_pgmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    pdb_pgmap_ent *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].pgno) continue;
        size_t j = slot_of(m->slots[i].pgno, ncap);
        while (ns[j].pgno) j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

pdb_pgmap_ent *pdb_pgmap_add(pdb_pgmap *m, uint64_t pgno)
{
    pdb_pgmap_ent *e = pdb_pgmap_find(m, pgno);
    if (e) return e;
    if ((m->count + 1) * 2 > m->cap && grow(m)) return NULL;
    size_t i = slot_of(pgno, m->cap);
    while (m->slots[i].pgno) i = (i + 1) & (m->cap - 1);
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->slots[i].pgno = pgno;
    if (++m->count > m->peak) m->peak = m->count;
    return &m->slots[i];
}

void pdb_pgmap_del(pdb_pgmap *m, uint64_t pgno)
{
    if (!m->cap) return;
    size_t mask = m->cap - 1, i = slot_of(pgno, m->cap);
    while (m->slots[i].pgno != pgno) {
        if (!m->slots[i].pgno) return;
        i = (i + 1) & mask;
    }
    /* backward-shift deletion */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].pgno) break;
        size_t k = slot_of(m->slots[j].pgno, m->cap);
        /* move j into hole i if k is not cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].pgno = 0;
    m->count--;
}

void pdb_pgmap_clear(pdb_pgmap *m)
{
    if (m->peak == 0) return; /* already empty: every slot is 0 */
    /* the capacity `peak` entries need at load factor <= 1/2 (grow's sequence) */
    size_t need = 64;
    while (need < 2 * m->peak) need *= 2;
    if (m->cap > 4 * need) {
        /* grown by an earlier, larger transaction: give the memory back rather than
           wipe it on every commit; the next transaction grows from 64 slots again */
        pdb_pgmap_free(m);
        return;
    }
    memset(m->slots, 0, m->cap * sizeof *m->slots); /* cap <= 4 * need = O(peak) */
    m->count = 0;
    m->peak = 0;
}

void pdb_pgmap_free(pdb_pgmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->peak = 0;
}
