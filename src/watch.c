/* watch: one live process sampled into a timeline, ranked, with a baseline and a cost
 * budget. The loop that drives it (and the printing) belongs to its callers. */
#include "watch.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int watch_open(struct watch *w, const struct watch_opts *o, struct rw_err *err)
{
	double n;
	int rc;

	memset(w, 0, sizeof(*w));
	w->o = *o;
	rc = sampler_open(&w->sm, o->pid, err);
	if (rc)
		return rc;
	n = ceil(o->window / o->interval) + 1;
	timeline_init(&w->tl, n > 100000 ? 100000 : (size_t)n);
	return 0;
}

void watch_close(struct watch *w)
{
	timeline_free(&w->tl);
	sampler_close(&w->sm);
	free(w->rank);
	free(w->rank_st);
	free(w->rank_pool);
	free(w->scratch);
	free(w->scratch_st);
	pool_set_free(&w->pools);
	free(w->base);
	free(w->ids);
	memset(w, 0, sizeof(*w));
}

static int cmp_base(const void *a, const void *b)
{
	const struct watch_baseline *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

void watch_set_baseline(struct watch *w)
{
	const struct timeline *tl = &w->tl;

	pool_set_build(&w->pools, tl);
	free(w->base);
	w->base = xcalloc(tl->nareas + w->pools.npools + 1, sizeof(*w->base));
	w->nbase = 0;
	for (size_t i = 0; i < tl->nareas; i++) {
		uint64_t r = timeline_area_rss(tl, &tl->areas[i], tl->seq - 1);
		w->base[w->nbase++] = (struct watch_baseline){ tl->areas[i].id, r == UINT64_MAX ? 0 : r };
	}
	/* pools too, by their rows' ids: a pool's delta is from its members' sum then */
	for (size_t i = 0; i < w->pools.npools; i++) {
		const struct pool *p = &w->pools.pools[i];
		if (p->nmembers >= 2)
			w->base[w->nbase++] = (struct watch_baseline){ p->row.id, p->st.rss_last };
	}
	/* Areas are sorted by address, ids by birth: sort for the binary search. */
	qsort(w->base, w->nbase, sizeof(*w->base), cmp_base);
	w->base_time = w->t_last;
}

uint64_t watch_baseline_rss(const struct watch *w, uint64_t id, int *found)
{
	size_t lo = 0, hi = w->nbase;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->base[mid].id == id) {
			*found = 1;
			return w->base[mid].rss;
		}
		if (w->base[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return 0;
}

/* cost_ms folded into the average of the steps before (weight 1/4; the first is itself). */
double watch_cost_avg(const struct watch *w)
{
	return w->tl.seq <= 1 ? w->cost_ms : 0.75 * w->cost_avg_ms + 0.25 * w->cost_ms;
}

/* The cost budget: a sample that cost more than max_cost % of one core stretches the
 * interval so that sampling stays within the budget; cheaper samples bring it back. */
double watch_interval_for(const struct watch_opts *o, double cost_avg_ms)
{
	double need;

	if (o->max_cost <= 0)
		return o->interval;
	need = cost_avg_ms / 1e3 * 100.0 / o->max_cost;
	return need > o->interval ? need : o->interval;
}

double watch_interval(const struct watch *w)
{
	return watch_interval_for(&w->o, watch_cost_avg(w));
}

/* Go: the goroutine count (one word, from a present page), and the rates of the Go heap
 * and of malloc (native memory, which the Go runtime does not account). */
static void go_step(struct watch *w)
{
	uint64_t n;

	if (w->go.allglen_addr && !goinfo_goroutines(&w->sm.proc, w->sm.snap, &w->go, &n) &&
	    n < (1ull << 40)) {
		w->goroutines = (int64_t)n;
		if (w->goroutines_first < 0)
			w->goroutines_first = (int64_t)n;
	}
	w->go_heap_rate = w->native_rate = 0;
	for (size_t i = 0; i < w->tl.nareas; i++) {
		const struct area *a = &w->tl.areas[i];
		struct area_stats st;
		if (a->last_seq + 1 != w->tl.seq ||
		    (a->kind != KIND_GO_HEAP && a->kind != KIND_HEAP && a->kind != KIND_GLIBC_ARENA))
			continue;
		timeline_area_stats(&w->tl, a, &st);
		if (a->kind == KIND_GO_HEAP)
			w->go_heap_rate += st.rate;
		else
			w->native_rate += st.rate;
	}
}

static int native_rate_shown(const struct watch_view *v)
{
	return v->native_rate >= 32 * 1024;
}

const char *watch_go_verdict(const struct watch_view *v, char *out, size_t outlen)
{
	/* "grows": a least-squares rate of 32 KiB/s or more over the window (a heuristic) */
	const double grows = 32 * 1024;
	char h[32], n[32];
	int heap, native;

	out[0] = '\0';
	if (!v->go || v->window_samples < 3)
		return out;
	heap = v->go_heap_rate >= grows;
	native = v->native_rate >= grows;
	if (heap) {
		fmt_delta((int64_t)v->go_heap_rate, h, sizeof(h) - 2);
		strcat(h, "/s");
	} else {
		snprintf(h, sizeof(h), "flat");
	}
	if (native) {
		fmt_delta((int64_t)v->native_rate, n, sizeof(n) - 2);
		strcat(n, "/s");
	} else {
		snprintf(n, sizeof(n), "flat");
	}
	/* both grow: say which dominates when one is 3 times the other */
	if (heap && native && v->native_rate >= 3 * v->go_heap_rate)
		heap = 0;
	else if (heap && native && v->go_heap_rate >= 3 * v->native_rate)
		native = 0;
	snprintf(out, outlen, "Go heap %s, glibc malloc %s: %s", h, n,
		 heap && native ? "both the Go heap and native (cgo/C) memory grow" :
		 heap ? (native_rate_shown(v) ? "mostly the Go heap (Go's pprof sees it)"
					      : "the Go heap grows (Go's pprof sees it)") :
		 native ? (v->go_heap_rate >= grows ? "mostly native (cgo/C) memory, which Go's pprof "
						      "does not see"
						    : "native (cgo/C) memory, which Go's pprof does not see") :
		 "neither grows in the window");
	return out;
}

int watch_step(struct watch *w, struct rw_err *err)
{
	double c0 = cpu_self_ms();
	int rc;

	if (w->exited)
		return rw_err_set(err, ESRCH, "process %d exited", (int)w->o.pid);
	if (w->tl.seq)
		w->cost_avg_ms = watch_cost_avg(w);
	rc = sampler_take(&w->sm, err);
	if (rc == -ESRCH)
		w->exited = 1;
	if (rc)
		return rc;
	w->t_last = now_mono();
	if (!w->tl.seq)
		w->t0 = w->t_last;
	timeline_add(&w->tl, w->sm.snap, w->t_last);
	w->torn_total += w->sm.snap->torn;
	timeline_totals(&w->tl, &w->tot);
	sampler_mem_limit(&w->sm, &w->lim);
	if (!w->base) {
		watch_set_baseline(w);
		goinfo_open(&w->sm.proc, w->sm.snap, &w->go);
		w->goroutines = w->goroutines_first = -1;
	}
	if (w->go.is_go)
		go_step(w);
	w->nrank = 0;
	w->cost_ms = cpu_self_ms() - c0;
	return 0;
}

/* Best first, as timeline_rank orders areas: score, growth, RSS, then address. */
static int row_before(const struct area_stats *a, const struct area *ra, const struct area_stats *b,
		      const struct area *rb)
{
	if (a->score != b->score)
		return a->score > b->score;
	if (a->delta != b->delta)
		return a->delta > b->delta;
	if (a->rss_last != b->rss_last)
		return a->rss_last > b->rss_last;
	return ra->start < rb->start;
}

size_t watch_rank(struct watch *w, size_t max)
{
	double c0 = cpu_self_ms();
	size_t n = w->tl.nareas, hidden = 0, want, got, npools = 0, k = 0, out = 0;
	const struct pool *shown[POOL_KIND_COUNT * 4 + 64];

	pool_set_build(&w->pools, &w->tl);
	for (size_t i = 0; i < w->pools.npools; i++)
		if (w->pools.pools[i].shown) {
			hidden += w->pools.pools[i].nmembers;
			if (npools < sizeof(shown) / sizeof(shown[0]))
				shown[npools++] = &w->pools.pools[i];
		}
	/* the pools, best first (a handful: insertion sort) */
	for (size_t i = 1; i < npools; i++)
		for (size_t j = i; j && row_before(&shown[j]->st, &shown[j]->row, &shown[j - 1]->st,
						   &shown[j - 1]->row); j--) {
			const struct pool *t = shown[j];
			shown[j] = shown[j - 1];
			shown[j - 1] = t;
		}
	if (max > n + npools)
		max = n + npools;
	want = max + hidden < n ? max + hidden : n;
	if (w->scratch_cap < want + 1) {
		w->scratch_cap = want * 2 + 16;
		w->scratch = xreallocarray(w->scratch, w->scratch_cap, sizeof(*w->scratch));
		w->scratch_st = xreallocarray(w->scratch_st, w->scratch_cap, sizeof(*w->scratch_st));
	}
	if (w->rank_cap < max + 1) {
		w->rank_cap = max * 2 + 16;
		w->rank = xreallocarray(w->rank, w->rank_cap, sizeof(*w->rank));
		w->rank_st = xreallocarray(w->rank_st, w->rank_cap, sizeof(*w->rank_st));
		w->rank_pool = xreallocarray(w->rank_pool, w->rank_cap, sizeof(*w->rank_pool));
	}
	got = timeline_rank(&w->tl, w->scratch, w->scratch_st, want);
	for (size_t i = 0; out < max && (i < got || k < npools);) {
		if (i < got && pool_set_owner(&w->pools, w->scratch[i])) {
			i++;                /* a member of a pool shown as a row */
			continue;
		}
		if (k < npools && (i >= got || row_before(&shown[k]->st, &shown[k]->row,
							   &w->scratch_st[i], w->scratch[i]))) {
			w->rank[out] = &shown[k]->row;
			w->rank_st[out] = shown[k]->st;
			w->rank_pool[out++] = shown[k++];
		} else {
			w->rank[out] = w->scratch[i];
			w->rank_st[out] = w->scratch_st[i];
			w->rank_pool[out++] = NULL;
			i++;
		}
	}
	w->nrank = out;
	w->cost_ms += cpu_self_ms() - c0;
	return w->nrank;
}

const struct area *watch_top_growing(const struct watch *w, const struct area_stats **st)
{
	if (!w->nrank || !(w->rank_st[0].score > 0) || w->rank_st[0].trend != TREND_GROWING)
		return NULL;
	if (st)
		*st = &w->rank_st[0];
	return w->rank[0];
}

const struct pool *watch_row_pool(const struct watch *w, const struct area *row)
{
	for (size_t i = 0; i < w->pools.npools; i++)
		if (&w->pools.pools[i].row == row)
			return &w->pools.pools[i];
	return NULL;
}

const struct area *watch_pool_top_member(const struct watch *w, const struct pool *p)
{
	const struct area *best = NULL;
	int64_t best_delta = INT64_MIN;

	for (size_t i = 0; i < p->nmembers; i++) {
		struct area_stats st;
		timeline_area_stats(&w->tl, p->members[i], &st);
		if (st.delta > best_delta) {
			best_delta = st.delta;
			best = p->members[i];
		}
	}
	return best;
}

void watch_fill_view(const struct watch *w, struct watch_view *v)
{
	memset(v, 0, sizeof(*v));
	v->pid = (int)w->o.pid;
	v->comm = w->sm.comm;
	v->seq = w->tl.seq;
	v->elapsed = w->t_last - w->t0;
	v->window_s = timeline_window_seconds(&w->tl);
	v->window_samples = timeline_window_samples(&w->tl);
	v->tot = w->tot;
	v->lim = w->lim;
	v->cost_ms = w->cost_ms;
	v->interval = watch_interval(w);
	v->stretched = v->interval > w->o.interval;
	v->max_cost = w->o.max_cost;
	v->torn = w->sm.snap ? w->sm.snap->torn : 0;
	v->areas = w->rank;
	v->st = w->rank_st;
	v->pools = w->rank_pool;
	v->go = w->go.is_go ? &w->go : NULL;
	v->goroutines = w->goroutines;
	v->goroutines_first = w->goroutines_first;
	v->go_heap_rate = w->go_heap_rate;
	v->native_rate = w->native_rate;
	v->n = w->nrank;
	v->nareas = w->tl.nareas;
	v->vanished = w->tl.vanished;
}

/* ---- id lookups --------------------------------------------------------------------- */

/* Area ids count up from 1 (timeline.c) and pool rows' ids are kind and path hashes with
 * bit 63 set (pool.c): a multiplicative hash spreads both. */
static size_t id_slot(uint64_t id, size_t mask)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) & mask;
}

static void id_put(struct watch *w, uint64_t id, size_t idx)
{
	size_t mask = w->ids_cap - 1, k = id_slot(id, mask);

	while (w->ids[k].id) {
		if (w->ids[k].id == id)
			return;             /* the first one wins (two files whose names hash alike) */
		k = (k + 1) & mask;
	}
	w->ids[k] = (struct watch_id_slot){ id, idx };
}

/* The index for the latest sample: its areas, then the rows of its pools. */
static void ids_build(struct watch *w)
{
	const struct timeline *tl = &w->tl;
	size_t need = tl->nareas + w->pools.npools, cap = 16;

	while (cap < 2 * need + 2)
		cap *= 2;
	if (cap != w->ids_cap) {
		free(w->ids);
		w->ids = xcalloc(cap, sizeof(*w->ids));
		w->ids_cap = cap;
	} else {
		memset(w->ids, 0, cap * sizeof(*w->ids));
	}
	for (size_t i = 0; i < tl->nareas; i++)
		if (tl->areas[i].last_seq + 1 == tl->seq)
			id_put(w, tl->areas[i].id, i);
	for (size_t i = 0; i < w->pools.npools; i++)
		if (w->pools.pools[i].nmembers >= 2)  /* a row (id set): pool.c sum_series */
			id_put(w, w->pools.pools[i].row.id, i);
	w->ids_seq = tl->seq;
	w->ids_areas = tl->areas;
}

static const struct watch_id_slot *ids_find(struct watch *w, uint64_t id)
{
	size_t mask, k;

	if (!id || !w->tl.seq)
		return NULL;
	/* pools first: the index holds their rows, and their members are this sample's */
	pool_set_build(&w->pools, &w->tl);
	if (w->ids_seq != w->tl.seq || w->ids_areas != w->tl.areas || !w->ids_cap)
		ids_build(w);
	mask = w->ids_cap - 1;
	for (k = id_slot(id, mask); w->ids[k].id; k = (k + 1) & mask)
		if (w->ids[k].id == id)
			return &w->ids[k];
	return NULL;
}

const struct area *watch_find_area(struct watch *w, uint64_t id)
{
	const struct watch_id_slot *s = id >> 63 ? NULL : ids_find(w, id);

	return s && s->idx < w->tl.nareas ? &w->tl.areas[s->idx] : NULL;
}

const struct pool *watch_find_pool(struct watch *w, uint64_t row_id)
{
	const struct watch_id_slot *s = row_id >> 63 ? ids_find(w, row_id) : NULL;

	return s && s->idx < w->pools.npools ? &w->pools.pools[s->idx] : NULL;
}
