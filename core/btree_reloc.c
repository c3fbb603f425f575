/*
 * btree_reloc.c — the B+ tree's relocation walk for online compaction (FORMAT.md §12.3;
 * driven step by step by core/compact.c through pdb_bt_relocate, btree.h): from a resume
 * key on, every page of a tree numbered at or above the target, and every overflow run
 * with such a page, is rewritten by copy-on-write into the lowest reusable page numbers
 * (with `reseal`, also every page sealed under another key epoch than the realm's current
 * one: data key rotation, FORMAT.md §13.3, driven by core/rotate.c), and adjacent leaves under one parent are merged, or their cells shifted left, on the way.
 * The tree's own operations (search, insert, delete, flush, cursors) are btree.c; the node
 * accessors and helpers both files use are btree_int.h. Cells are read through
 * pdb_cell_parse (node.h) like everywhere in the tree.
 *
 * Runs only in a write transaction (c->writer): every page it changes is touched first
 * (pager.h invariant 1: no committed page is written), so readers' snapshots are
 * untouched, and a parent is always owned before a child's new number is written into it.
 */
#include "btree_int.h"

/* The key (leaf) or separator (branch) of the cell at offset off of node d (node.h). */
static void cell_key(const uint8_t *d, unsigned off, int leaf, const uint8_t **k, size_t *kl)
{
    pdb_cell c;
    pdb_cell_parse(d, off, leaf, &c);
    *k = c.key;
    *kl = c.klen;
}

/* Rewrite a leaf's overflow runs that have a page >= r->target into newly allocated runs
   (chunks of up to 64 pages: read, authenticate, re-seal). *fp (the leaf, pinned) is
   touched first (it may move: the caller compares page numbers). */
static int reloc_ovf(pdb_btctx *c, pdb_tree *t, pdb_bt_reloc *r, pdb_frame **fp)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    unsigned n = n_count((*fp)->data);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *d = (*fp)->data;
        unsigned off = n_slot(d, i);
        pdb_cell cl;
        pdb_cell_parse(d, off, 1, &cl);
        if (!cl.overflow) continue;
        size_t kl = cl.klen, vlen = cl.vlen;
        const uint8_t *ref = cl.val;
        int rc = pdb_bt_ovf_check(c, (*fp)->pgno, ref, vlen);
        if (rc) return rc;
        uint32_t np = ovf_pages(ps, vlen);
        uint64_t first = pdb_get64(ref + PDB_OVF_FIRST);
        if (first + np <= r->target) {
            if (!r->reseal) continue;
            /* a run is written whole under one key epoch: its first page tells (§13.3) */
            rc = ensure(&c->vbuf, &c->vcap, ps, 1);
            if (!rc) rc = pdb_pager_read_run(c->p, t->realm, first, 1, PDB_KIND_OVERFLOW, c->vbuf, NULL);
            if (rc) return rc;
            r->read++;
            if (pdb_get32(c->vbuf + PDB_PH_EPOCH) == r->epoch) continue;
        }
        uint8_t oldref[16];
        memcpy(oldref, ref + PDB_OVF_TAG, PDB_TAG_BYTES);
        uint8_t *tags = malloc((size_t)np * 32);
        if (!tags) return PAGEDB_ENOMEM;
        uint64_t nf = 0;
        rc = pdb_pager_alloc_run(c->p, np, &nf);
        for (uint32_t done = 0; done < np && !rc;) {
            uint32_t k = np - done < 64 ? np - done : 64;
            rc = ensure(&c->vbuf, &c->vcap, (size_t)k * ps, 1);
            if (!rc) rc = pdb_pager_read_run(c->p, t->realm, first + done, k, 0, c->vbuf, tags + (size_t)done * 16);
            for (uint32_t j = 0; j < k && !rc; j++)
                if (c->vbuf[(size_t)j * ps] != PDB_KIND_OVERFLOW)
                    rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d, expected %d", (unsigned long long)(first + done + j),
                                 c->vbuf[(size_t)j * ps], PDB_KIND_OVERFLOW);
            if (!rc)
                rc = pdb_pager_write_run(c->p, t->realm, PDB_KIND_OVERFLOW, nf + done, k, c->vbuf,
                                         tags + (size_t)np * 16 + (size_t)done * 16);
            done += k;
        }
        uint8_t tg[16];
        if (!rc) {
            run_tag(tg, tags, np);
            if (pdb_tag_cmp(tg, oldref) != 0)
                rc = pdb_err(PAGEDB_EAUTH, "overflow pages %llu..%llu: tags do not match the leaf's record",
                             (unsigned long long)first, (unsigned long long)(first + np - 1));
        }
        int moved;
        if (!rc) rc = pdb_pager_touch(c->p, fp, &moved);
        if (!rc) {
            if (moved) r->moved++;
            uint8_t *wd = (*fp)->data; /* the copy has the same layout: off still names the cell */
            uint8_t *wref = wd + off + PDB_LEAF_KEY + kl;
            pdb_put64(wref + PDB_OVF_FIRST, nf);
            run_tag(wref + PDB_OVF_TAG, tags + (size_t)np * 16, np);
            for (uint32_t j = 0; j < np && !rc; j++) rc = pdb_pager_free(c->p, first + j);
            r->moved += np;
        }
        free(tags);
        if (rc) return rc;
    }
    return PAGEDB_OK;
}

/* Leaves that do not fit one page together: move the first cells of the right leaf *rfp
   (child i+1) to the end of *lf (child i) while *lf stays within 15/16 of a page, and
   give the parent the new separator (the shortest prefix of the right leaf's new first
   key above the left leaf's new last key, §5.2). Skipped when *lf is that full already,
   when the right leaf would be left empty, or when the parent cannot hold the longer
   separator. f (the parent) is owned; both leaves are touched (their parent's child
   numbers updated). */
static int reloc_shift(pdb_btctx *c, pdb_bt_reloc *r, pdb_frame *f, unsigned i, pdb_frame **lf, pdb_frame **rfp)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    size_t lim = capacity(ps) * 15 / 16, lu = pdb_bt_node_used((*lf)->data);
    const uint8_t *rd = (*rfp)->data;
    unsigned rn = n_count(rd), k = 0;
    size_t add = 0;
    while (k + 1 < rn) {
        size_t cs = cell_size_at(rd, n_slot(rd, k), 1) + 2;
        if (lu + add + cs > lim) break;
        add += cs;
        k++;
    }
    if (k == 0) return PAGEDB_OK;
    const uint8_t *ak, *bk, *ok;
    size_t al, bl, ol;
    cell_key(rd, n_slot(rd, k - 1), 1, &ak, &al);
    cell_key(rd, n_slot(rd, k), 1, &bk, &bl);
    size_t pl = 0;
    while (pl < al && pl < bl && ak[pl] == bk[pl]) pl++;
    pl++; /* keys strictly increase: b differs from a at pl-1, or a is a proper prefix of b */
    if (pl > bl) pl = bl;
    cell_key(f->data, n_slot(f->data, i + 1), 0, &ok, &ol);
    if (pdb_bt_node_used(f->data) + pl > capacity(ps) + ol) return PAGEDB_OK;
    int rc = pdb_bt_ensure_wbuf(c, ps + PDB_BRANCH_FIXED + bl);
    int moved;
    if (!rc) rc = pdb_pager_touch(c->p, lf, &moved);
    if (rc) return rc;
    if (moved) {
        br_set_child(f->data, i, (*lf)->pgno);
        r->moved++;
    }
    if ((rc = pdb_pager_touch(c->p, rfp, &moved)) != 0) return rc;
    if (moved) {
        br_set_child(f->data, i + 1, (*rfp)->pgno);
        r->moved++;
    }
    uint8_t *lcopy = c->wbuf, *rcopy = c->wbuf + ps;
    cellref *refs = (cellref *)(c->wbuf + 2 * (size_t)ps);
    uint8_t *pcopy = c->wbuf + 2 * (size_t)ps + (ps / 2 + 2) * sizeof(cellref), *ncell = pcopy + ps;
    memcpy(lcopy, (*lf)->data, ps);
    memcpy(rcopy, (*rfp)->data, ps);
    unsigned ln = n_count(lcopy);
    for (unsigned j = 0; j < ln; j++) {
        refs[j].p = lcopy + n_slot(lcopy, j);
        refs[j].n = cell_size_at(lcopy, n_slot(lcopy, j), 1);
    }
    for (unsigned j = 0; j < k; j++) {
        refs[ln + j].p = rcopy + n_slot(rcopy, j);
        refs[ln + j].n = cell_size_at(rcopy, n_slot(rcopy, j), 1);
    }
    pdb_bt_node_build((*lf)->data, ps, refs, ln + k);
    for (unsigned j = k; j < rn; j++) {
        refs[j - k].p = rcopy + n_slot(rcopy, j);
        refs[j - k].n = cell_size_at(rcopy, n_slot(rcopy, j), 1);
    }
    pdb_bt_node_build((*rfp)->data, ps, refs, rn - k);
    /* the parent with cell i+1's key replaced (child number and tag kept) */
    cell_key(rcopy, n_slot(rcopy, k), 1, &bk, &bl);
    memcpy(pcopy, f->data, ps);
    unsigned pn = n_count(pcopy);
    for (unsigned j = 0; j < pn; j++) {
        refs[j].p = pcopy + n_slot(pcopy, j);
        refs[j].n = cell_size_at(pcopy, n_slot(pcopy, j), 0);
    }
    const uint8_t *oc = pcopy + n_slot(pcopy, i + 1);
    refs[i + 1].n = make_branch_cell(ncell, pdb_get64(oc + PDB_BRANCH_CHILD), oc + PDB_BRANCH_TAG, bk, pl);
    refs[i + 1].p = ncell;
    pdb_bt_node_build(f->data, ps, refs, pn);
    r->merged++;
    return PAGEDB_OK;
}

/* Merge leaf child i+1 of the owned branch f into child *lf (child i, pinned) when their
   cells fit one page; *merged = 1 then (cell i+1 is gone from f, its page freed). */
static int reloc_merge(pdb_btctx *c, pdb_tree *t, pdb_bt_reloc *r, pdb_frame *f, unsigned i, pdb_frame **lf, int *merged)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    *merged = 0;
    pdb_frame *rf;
    int rc = pdb_bt_get_page(c, t, br_child(f->data, i + 1), br_tag(f->data, i + 1), 1, &rf);
    if (rc) return rc;
    r->read++;
    if (pdb_bt_node_used((*lf)->data) + pdb_bt_node_used(rf->data) > capacity(ps)) {
        int rc2 = reloc_shift(c, r, f, i, lf, &rf);
        pdb_pager_unpin(c->p, rf);
        return rc2;
    }
    int moved;
    rc = pdb_bt_ensure_wbuf(c, 0);
    if (!rc) rc = pdb_pager_touch(c->p, lf, &moved);
    if (rc) {
        pdb_pager_unpin(c->p, rf);
        return rc;
    }
    if (moved) {
        br_set_child(f->data, i, (*lf)->pgno);
        r->moved++;
    }
    uint8_t *lcopy = c->wbuf, *rcopy = c->wbuf + ps;
    memcpy(lcopy, (*lf)->data, ps);
    memcpy(rcopy, rf->data, ps);
    unsigned ln = n_count(lcopy), rn = n_count(rcopy);
    cellref *refs = (cellref *)(c->wbuf + 2 * (size_t)ps);
    for (unsigned j = 0; j < ln; j++) {
        refs[j].p = lcopy + n_slot(lcopy, j);
        refs[j].n = cell_size_at(lcopy, n_slot(lcopy, j), 1);
    }
    for (unsigned j = 0; j < rn; j++) {
        refs[ln + j].p = rcopy + n_slot(rcopy, j);
        refs[ln + j].n = cell_size_at(rcopy, n_slot(rcopy, j), 1);
    }
    pdb_bt_node_build((*lf)->data, ps, refs, ln + rn);
    uint64_t rpg = rf->pgno;
    pdb_pager_unpin(c->p, rf);
    pdb_bt_node_remove(f->data, i + 1);
    rc = pdb_pager_free(c->p, rpg);
    t->pages--;
    r->merged++;
    *merged = 1;
    return rc;
}

/* Walk the subtree of *fp (pinned, at tree level `level`, 1 = leaf) from r's resume key. */
static int reloc_sub(pdb_btctx *c, pdb_tree *t, pdb_bt_reloc *r, pdb_frame **fp, uint32_t level, int *stop)
{
    int moved, rc;
    if ((*fp)->pgno >= r->target || (r->reseal && pdb_get32((*fp)->data + PDB_PH_EPOCH) != r->epoch)) {
        rc = pdb_pager_touch(c->p, fp, &moved);
        if (rc) return rc;
        if (moved) r->moved++;
    }
    if (level == 1) return reloc_ovf(c, t, r, fp);
    unsigned i = r->resume_len ? pdb_bt_branch_search((*fp)->data, r->resume, r->resume_len) : 0;
    int first = 1;
    while (i < n_count((*fp)->data)) {
        if (!first && (r->moved >= r->max_moved || r->read >= r->max_read)) {
            const uint8_t *k;
            size_t kl;
            cell_key((*fp)->data, n_slot((*fp)->data, i), 0, &k, &kl);
            memcpy(r->resume, k, kl);
            r->resume_len = kl;
            *stop = 1;
            return PAGEDB_OK;
        }
        first = 0;
        uint64_t cpg = br_child((*fp)->data, i);
        pdb_frame *ch;
        rc = pdb_bt_get_page(c, t, cpg, br_tag((*fp)->data, i), (int)level - 1, &ch);
        if (rc) return rc;
        r->read++;
        rc = reloc_sub(c, t, r, &ch, level - 1, stop);
        if (!rc && ch->pgno != cpg) {
            rc = pdb_pager_touch(c->p, fp, &moved);
            if (!rc) {
                if (moved) r->moved++;
                br_set_child((*fp)->data, i, ch->pgno);
            }
        }
        /* merge the following leaves into this one while they fit (FORMAT.md §12.3) */
        while (!rc && !*stop && level == 2 && r->merge && i + 1 < n_count((*fp)->data)) {
            int merged;
            rc = pdb_pager_touch(c->p, fp, &moved);
            if (rc) break;
            if (moved) r->moved++;
            rc = reloc_merge(c, t, r, *fp, i, &ch, &merged);
            if (!merged) break;
            /* the merged cells' overflow runs were not walked yet (ch is owned: it stays) */
            if (!rc) rc = reloc_ovf(c, t, r, &ch);
        }
        pdb_pager_unpin(c->p, ch);
        if (rc || *stop) return rc;
        r->resume_len = 0; /* every later child lies wholly after the resume key */
        i++;
    }
    return PAGEDB_OK;
}

int pdb_bt_relocate(pdb_btctx *c, pdb_tree *t, pdb_bt_reloc *r)
{
    hold_drop(c); /* pages are moved and freed below: the held path may not survive */
    r->done = 0;
    if (!t->root) {
        r->done = 1;
        return PAGEDB_OK;
    }
    if (t->depth == 0 || t->depth > PDB_MAX_DEPTH) return pdb_err(PAGEDB_ECORRUPT, "tree depth %u invalid", t->depth);
    uint64_t moved0 = r->moved, merged0 = r->merged;
    pdb_frame *f;
    int rc = pdb_bt_get_page(c, t, t->root, t->root_tag, (int)t->depth, &f);
    if (rc) return rc;
    r->read++;
    int stop = 0;
    rc = reloc_sub(c, t, r, &f, t->depth, &stop);
    if (!rc && f->pgno != t->root) t->root = f->pgno;
    /* a root branch left with one child (its leaves merged into one) is collapsed */
    while (!rc && t->depth > 1 && n_count(f->data) == 1) {
        uint64_t ch = br_child(f->data, 0);
        uint8_t ctag[16];
        memcpy(ctag, br_tag(f->data, 0), 16);
        rc = pdb_pager_free(c->p, f->pgno);
        pdb_pager_unpin(c->p, f);
        f = NULL;
        if (rc) break;
        t->pages--;
        t->root = ch;
        memcpy(t->root_tag, ctag, 16);
        t->depth--;
        rc = pdb_bt_get_page(c, t, t->root, t->root_tag, (int)t->depth, &f);
    }
    if (f) pdb_pager_unpin(c->p, f);
    if (r->moved != moved0 || r->merged != merged0) {
        t->dirty = 1;
        t->mod++;
    }
    if (!rc && !stop) {
        r->done = 1;
        r->resume_len = 0;
    }
    return rc;
}
