/* diff: two snapshots compared by address overlap. VMAs split, merge and move their
 * rw/---p boundary (Go arenas, glibc heaps, brk), so a region's start address is not its
 * identity: every set of regions connected by overlap across A and B is one row. */
#include "diff.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *diff_status_name(enum diff_status s)
{
	static const char *const names[] = { "added", "removed", "grown", "shrunk", "same" };
	return (unsigned)s < 5 ? names[s] : "?";
}

int diff_row_shown(const struct diff_row *row, int all, uint64_t min_delta)
{
	uint64_t mag = row->delta < 0 ? (uint64_t)0 - (uint64_t)row->delta : (uint64_t)row->delta;

	if (row->status == DIFF_SAME && !all)
		return 0;
	/* Added/removed rows with no RSS still changed the layout; --min-delta filters by RSS. */
	if (min_delta && mag < min_delta)
		return 0;
	return 1;
}

/* The sums of one member region into its row. */
static void add_sums(struct diff_row *row, const struct region *r, int side_b)
{
	uint64_t size = r->end - r->start;

	if (r->start < row->start)
		row->start = r->start;
	if (r->end >= row->end)
		row->end = r->end;
	if (side_b) {
		row->size_b += size;
		row->rss_b += r->f[RF_RSS];
		row->anon_b += r->f[RF_ANONYMOUS];
		row->swap_b += r->f[RF_SWAP];
		row->nregions_b++;
	} else {
		row->size_a += size;
		row->rss_a += r->f[RF_RSS];
		row->anon_a += r->f[RF_ANONYMOUS];
		row->swap_a += r->f[RF_SWAP];
		row->nregions_a++;
	}
}

static void add_member(struct diff_row *row, const struct region *r, int side_b,
		       const struct region **rep_b, const struct region **rep_a,
		       const struct region **tail)
{
	const struct region **rep = side_b ? rep_b : rep_a;

	if (r->end >= row->end)
		*tail = r;
	add_sums(row, r, side_b);
	if (region_better_rep(r, *rep))
		*rep = r;
}

static void row_begin(struct diff_row *row)
{
	memset(row, 0, sizeof(*row));
	row->start = UINT64_MAX;
}

/* Status and representative of a complete row, and its share of the totals. */
static void row_end(struct diff_row *row, const struct region *rep_a, const struct region *rep_b,
		    struct diff_totals *t)
{
	row->delta = (int64_t)(row->rss_b - row->rss_a);
	if (!row->nregions_a)
		row->status = DIFF_ADDED;
	else if (!row->nregions_b)
		row->status = DIFF_REMOVED;
	else if (row->delta > 0)
		row->status = DIFF_GROWN;
	else if (row->delta < 0)
		row->status = DIFF_SHRUNK;
	else
		row->status = DIFF_SAME;
	row->rep = rep_b ? rep_b : rep_a;
	memcpy(row->perms, row->rep->perms, sizeof(row->perms));
	t->rss_a += row->rss_a;
	t->rss_b += row->rss_b;
	t->anon_a += row->anon_a;
	t->anon_b += row->anon_b;
	t->swap_a += row->swap_a;
	t->swap_b += row->swap_b;
	t->size_a += row->size_a;
	t->size_b += row->size_b;
}

void diff_compute(const struct snapshot *a, const struct snapshot *b, struct diff_result *out)
{
	size_t i = 0, j = 0, cap = 0;
	struct diff_totals *t = &out->totals;

	memset(out, 0, sizeof(*out));
	while (i < a->count || j < b->count) {
		const struct region *rep_a = NULL, *rep_b = NULL, *tail = NULL;
		struct diff_row row;
		int from_b;

		row_begin(&row);
		/* Seed with the lower region, then absorb everything overlapping the span. */
		from_b = i >= a->count || (j < b->count && b->regions[j].start < a->regions[i].start);
		if (from_b)
			add_member(&row, &b->regions[j++], 1, &rep_b, &rep_a, &tail);
		else
			add_member(&row, &a->regions[i++], 0, &rep_b, &rep_a, &tail);
		for (;;) {
			const struct region *ra = i < a->count ? &a->regions[i] : NULL;
			const struct region *rb = j < b->count ? &b->regions[j] : NULL;
			if (ra && (ra->start < row.end || region_joinable(tail, ra)))
				add_member(&row, ra, 0, &rep_b, &rep_a, &tail), i++;
			else if (rb && (rb->start < row.end || region_joinable(tail, rb)))
				add_member(&row, rb, 1, &rep_b, &rep_a, &tail), j++;
			else
				break;
		}
		row_end(&row, rep_a, rep_b, t);
		if (out->count == cap) {
			cap = cap ? cap * 2 : 256;
			out->rows = xreallocarray(out->rows, cap, sizeof(*out->rows));
		}
		out->rows[out->count++] = row;
	}
	t->regions_a = a->count;
	t->regions_b = b->count;
	t->anon_known = snapshot_has_field(a, RF_ANONYMOUS) && snapshot_has_field(b, RF_ANONYMOUS);
	t->swap_known = snapshot_has_field(a, RF_SWAP) && snapshot_has_field(b, RF_SWAP);
}

/* A region kept past its source's next pop: a row's representatives and its tail. */
struct held {
	struct region r;
	char *path;
	size_t cap;
	int set;
};

static void hold(struct held *h, const struct region *r)
{
	size_t n = strlen(r->path);

	if (n + 1 > h->cap) {
		h->cap = n + 65;
		h->path = xrealloc(h->path, h->cap);
	}
	memcpy(h->path, r->path, n + 1);
	h->r = *r;
	h->r.path = h->path;
	h->r.vmflags = "";
	h->set = 1;
}

static const struct region *held_region(const struct held *h)
{
	return h->set ? &h->r : NULL;
}

struct merge {
	const struct diff_source *src[2];
	const struct region *next[2];   /* peeked, NULL at the end */
	size_t taken[2];
	struct held rep[2], tail;
	struct diff_row row;
};

static int take(struct merge *m, int side)
{
	const struct region *r = m->next[side];

	if (r->end >= m->row.end)
		hold(&m->tail, r);
	add_sums(&m->row, r, side);
	if (region_better_rep(r, held_region(&m->rep[side])))
		hold(&m->rep[side], r);
	m->taken[side]++;
	m->src[side]->pop(m->src[side]->ctx);
	return m->src[side]->peek(m->src[side]->ctx, &m->next[side]);
}

int diff_stream(const struct diff_source *a, const struct diff_source *b, diff_row_fn fn,
		void *ctx, struct diff_totals *t)
{
	struct merge m;
	int rc;

	memset(&m, 0, sizeof(m));
	memset(t, 0, sizeof(*t));
	m.src[0] = a;
	m.src[1] = b;
	rc = a->peek(a->ctx, &m.next[0]);
	if (!rc)
		rc = b->peek(b->ctx, &m.next[1]);
	while (!rc && (m.next[0] || m.next[1])) {
		const struct region *ra = m.next[0], *rb = m.next[1];

		row_begin(&m.row);
		m.rep[0].set = m.rep[1].set = m.tail.set = 0;
		/* The rule of diff_compute: seed with the lower region, absorb what overlaps. */
		rc = take(&m, !ra || (rb && rb->start < ra->start));
		while (!rc) {
			const struct region *tail = held_region(&m.tail);
			ra = m.next[0];
			rb = m.next[1];
			if (ra && (ra->start < m.row.end || region_joinable(tail, ra)))
				rc = take(&m, 0);
			else if (rb && (rb->start < m.row.end || region_joinable(tail, rb)))
				rc = take(&m, 1);
			else
				break;
		}
		if (rc)
			break;
		row_end(&m.row, held_region(&m.rep[0]), held_region(&m.rep[1]), t);
		rc = fn(ctx, &m.row);
	}
	t->regions_a = m.taken[0];
	t->regions_b = m.taken[1];
	free(m.rep[0].path);
	free(m.rep[1].path);
	free(m.tail.path);
	return rc;
}

static int cmp_addr(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	return (a->start > b->start) - (a->start < b->start);
}

static int cmp_delta(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	if (a->delta != b->delta)
		return a->delta < b->delta ? 1 : -1;
	return cmp_addr(x, y);
}

static int cmp_rss(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	uint64_t ra = a->rss_b > a->rss_a ? a->rss_b : a->rss_a;
	uint64_t rb = b->rss_b > b->rss_a ? b->rss_b : b->rss_a;
	if (ra != rb)
		return ra < rb ? 1 : -1;
	return cmp_addr(x, y);
}

void diff_sort(struct diff_result *r, enum diff_sort how)
{
	int (*cmp)(const void *, const void *) =
		how == DIFF_SORT_ADDR ? cmp_addr : how == DIFF_SORT_RSS ? cmp_rss : cmp_delta;
	if (r->count)
		qsort(r->rows, r->count, sizeof(*r->rows), cmp);
}

void diff_free(struct diff_result *r)
{
	free(r->rows);
	r->rows = NULL;
	r->count = 0;
}
