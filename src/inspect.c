/* inspect: what the monitor's region view shows, read before it is drawn. */
#include "inspect.h"
#include "memread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void inspect_init(struct inspect *in)
{
	memset(in, 0, sizeof(*in));
	in->hex = xmalloc(INSPECT_HEX_WINDOW);
	in->hex_present = xcalloc(INSPECT_HEX_WINDOW / 4096, 1);
}

static void free_census(struct inspect *in)
{
	for (size_t i = 0; i < in->ntops; i++)
		free(in->tops[i].text);
	for (size_t i = 0; i < in->nshapes; i++)
		free(in->shapes[i].text);
	in->ntops = in->nshapes = 0;
	for (size_t i = 0; i < in->nmatches; i++)
		free(in->matches[i].text);
	free(in->matches);
	in->matches = NULL;
	in->nmatches = 0;
	in->matches_total = 0;
	in->have_census = 0;
}

void inspect_free(struct inspect *in)
{
	if (!in)
		return;
	free_census(in);
	free(in->pmap_present);
	free(in->pmap_swapped);
	free(in->hex);
	free(in->hex_present);
	memset(in, 0, sizeof(*in));
}

static void copy_tops(struct inspect_top *dst, size_t *n, const struct scan_top_entry *e, size_t count)
{
	for (size_t i = 0; i < count; i++)
		dst[i] = (struct inspect_top){ xstrndup(e[i].text, e[i].len), e[i].count, e[i].error };
	*n = count;
}

/* Where to start reading so that [from, end) holds about INSPECT_SAMPLE_CAP of resident
 * pages: pagemap in up to 4096 cells, summed from the top. start when all of it fits. */
static uint64_t tail_start(const struct procfs *p, uint64_t start, uint64_t end)
{
	size_t cells = (size_t)((end - start) / 4096);
	uint32_t *present, *swapped;
	uint64_t from = start, bytes = 0;

	if (end - start <= INSPECT_SAMPLE_CAP)
		return start;
	if (cells > 4096)
		cells = 4096;
	present = xcalloc(cells, sizeof(*present));
	swapped = xcalloc(cells, sizeof(*swapped));
	if (!memread_page_map(p, start, end, cells, present, swapped, NULL)) {
		for (size_t c = cells; c-- > 0;) {
			bytes += (uint64_t)present[c] * 4096;
			if (bytes >= INSPECT_SAMPLE_CAP) {
				from = start + (uint64_t)((double)(end - start) * (double)c / (double)cells);
				from &= ~(uint64_t)4095;
				if (from < start)
					from = start;
				break;
			}
		}
	}
	free(present);
	free(swapped);
	return from;
}

int inspect_region(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		   uint64_t start, uint64_t end, const char *pattern, size_t map_cells,
		   int newest, struct rw_err *err)
{
	uint64_t from;
	struct analysis_opts ao;
	struct analysis *an;
	struct memread_stats st;
	struct memread_opts mo;
	struct memread_sink sink;
	struct scan_top_entry e[INSPECT_TOPN];
	int rc;

	free_census(in);
	if (in->start != start || in->end != end)
		in->hex_valid = 0;
	in->start = start;
	in->end = end;
	from = newest ? tail_start(p, start, end) : start;
	in->read_from = from;
	in->read_tail = from > start;
	memset(&ao, 0, sizeof(ao));
	ao.top = INSPECT_TOPN;
	ao.histogram = 1;
	ao.grep = pattern && pattern[0] ? pattern : NULL;
	ao.json = 1;                      /* collect, print nothing */
	ao.base = from;
	ao.size = end - from;
	ao.out = stdout;
	an = analysis_new(&ao, err);
	if (!an)
		return err ? -err->code : -EINVAL;
	memset(&mo, 0, sizeof(mo));
	mo.max_bytes = INSPECT_SAMPLE_CAP;
	/* the counting thread reads a buffer until memread settles it */
	sink = (struct memread_sink){ .data = analysis_data, .hole = analysis_hole, .ctx = an,
				      .mark = analysis_mark, .settle = analysis_settle };
	rc = memread_range(p, s, from, end, &mo, &sink, &st, err);
	analysis_finish(an);
	in->read_bytes = st.bytes_read;
	in->read_present = st.pages_present;
	in->read_truncated = st.truncated;
	in->strings_found = an->strings_found;
	copy_tops(in->tops, &in->ntops, e, analysis_top_strings(an, e, INSPECT_TOPN));
	copy_tops(in->shapes, &in->nshapes, e, analysis_top_shapes(an, e, INSPECT_TOPN));
	in->hist = an->hist_result;
	if (an->grep) {
		in->matches = an->matches;
		in->nmatches = an->nmatches;
		in->matches_total = scan_grep_count(an->grep);
		an->matches = NULL;
		an->nmatches = 0;
	}
	analysis_free(an);
	in->have_census = 1;
	/* resident map: pagemap only */
	free(in->pmap_present);
	free(in->pmap_swapped);
	in->pmap_n = map_cells ? map_cells : 1;
	in->pmap_present = xcalloc(in->pmap_n, sizeof(*in->pmap_present));
	in->pmap_swapped = xcalloc(in->pmap_n, sizeof(*in->pmap_swapped));
	if (!rc)
		rc = memread_page_map(p, start, end, in->pmap_n, in->pmap_present, in->pmap_swapped, err);
	return rc;
}

int inspect_hex_covers(const struct inspect *in, uint64_t top, uint64_t bytes)
{
	return in->hex_valid && top >= in->hex_base && top + bytes <= in->hex_base + INSPECT_HEX_WINDOW;
}

static void hex_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct inspect *in = ctx;

	if (addr < in->hex_base || addr + len > in->hex_base + INSPECT_HEX_WINDOW)
		return;
	memcpy(in->hex + (addr - in->hex_base), buf, len);
	for (uint64_t a = addr; a < addr + len; a += 4096)
		in->hex_present[(a - in->hex_base) / 4096] = 1;
}

int inspect_hex(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		uint64_t top, struct rw_err *err)
{
	struct memread_stats st;
	struct memread_sink sink = { .data = hex_data, .ctx = in };
	uint64_t end;

	/* The window starts on a half-window boundary at or before top, within the area. */
	in->hex_base = top & ~(uint64_t)(INSPECT_HEX_WINDOW / 2 - 1);
	if (in->hex_base > top)
		in->hex_base = top;
	if (in->hex_base < in->start)
		in->hex_base = in->start & ~(uint64_t)4095;
	end = in->hex_base + INSPECT_HEX_WINDOW;
	if (end > in->end)
		end = in->end;
	memset(in->hex, 0, INSPECT_HEX_WINDOW);
	memset(in->hex_present, 0, INSPECT_HEX_WINDOW / 4096);
	in->hex_valid = 1;
	return memread_range(p, s, in->hex_base, end, NULL, &sink, &st, err);
}

/* ---- the content of growth ---------------------------------------------------------- */

void inspect_baseline_init(struct inspect_baseline *b)
{
	memset(b, 0, sizeof(*b));
	b->runs = xmalloc(2 * (size_t)INSPECT_BASE_MAX_RUNS * sizeof(*b->runs));
}

void inspect_baseline_free(struct inspect_baseline *b)
{
	if (!b)
		return;
	free(b->areas);
	free(b->runs);
	memset(b, 0, sizeof(*b));
}

int inspect_growth_kind(int kind)
{
	return kind == KIND_ANON || kind == KIND_HEAP || kind == KIND_GLIBC_ARENA ||
	       kind == KIND_GO_HEAP || kind == KIND_STACK;
}

int inspect_baseline_add(struct inspect_baseline *b, const struct procfs *p, uint64_t id,
			 uint64_t start, uint64_t end, struct rw_err *err)
{
	size_t n = 0;
	int rc;

	rc = memread_present_runs(p, start, end, b->runs + 2 * b->nruns,
				  INSPECT_BASE_MAX_RUNS - b->nruns, &n, err);
	if (rc == -ENOSPC) {
		b->areas_unrecorded++;
		return rc;
	}
	if (rc)
		return rc;
	if (b->nareas == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->areas = xrealloc(b->areas, b->cap * sizeof(*b->areas));
	}
	if (b->nareas && b->areas[b->nareas - 1].id > id)
		b->unsorted = 1;
	b->areas[b->nareas++] = (struct inspect_base_area){ id, b->nruns, n };
	for (size_t i = 0; i < n; i++)
		b->bytes_present += b->runs[2 * (b->nruns + i) + 1] - b->runs[2 * (b->nruns + i)];
	b->nruns += n;
	return 0;
}

static int base_area_cmp(const void *x, const void *y)
{
	const struct inspect_base_area *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

void inspect_baseline_index(struct inspect_baseline *b)
{
	if (b->unsorted && b->nareas)
		qsort(b->areas, b->nareas, sizeof(*b->areas), base_area_cmp);
	b->unsorted = 0;
}

static const struct inspect_base_area *baseline_find(const struct inspect_baseline *b, uint64_t id)
{
	struct inspect_base_area key = { id, 0, 0 };

	if (!b->unsorted)
		return b->nareas ? bsearch(&key, b->areas, b->nareas, sizeof(*b->areas), base_area_cmp)
				 : NULL;
	for (size_t i = 0; i < b->nareas; i++)
		if (b->areas[i].id == id)
			return &b->areas[i];
	return NULL;
}

const char *inspect_ptr_name(enum inspect_ptr k)
{
	static const char *const names[INSPECT_PTR_COUNT] = {
		"this row", "go heap", "glibc malloc", "anon", "stack", "file", "other mapped", "none",
	};
	return k < INSPECT_PTR_COUNT ? names[k] : "?";
}

void inspect_runs_add(struct inspect_runs *r, uint64_t s, uint64_t e)
{
	if (e <= s)
		return;
	r->bytes += e - s;
	if (r->n && r->v[2 * r->n - 1] == s) {
		r->v[2 * r->n - 1] = e;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = xrealloc(r->v, 2 * r->cap * sizeof(*r->v));
	}
	r->v[2 * r->n] = s;
	r->v[2 * r->n + 1] = e;
	r->n++;
}

void inspect_runs_free(struct inspect_runs *r)
{
	if (!r)
		return;
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void inspect_runs_split(const uint64_t *cur, size_t ncur, const uint64_t *base, size_t nbase,
			struct inspect_runs *fresh, struct inspect_runs *old)
{
	size_t j = 0;

	for (size_t i = 0; i < ncur; i++) {
		uint64_t at = cur[2 * i], end = cur[2 * i + 1];
		while (j < nbase && base[2 * j + 1] <= at)
			j++;
		for (size_t k = j; k < nbase && base[2 * k] < end && at < end; k++) {
			uint64_t bs = base[2 * k] > at ? base[2 * k] : at;
			uint64_t be = base[2 * k + 1] < end ? base[2 * k + 1] : end;
			inspect_runs_add(fresh, at, bs);
			inspect_runs_add(old, bs, be);
			at = be;
		}
		inspect_runs_add(fresh, at, end);
	}
}

/* Systematic sampling over the runs laid end to end as one stream of pages: m pieces of P
 * pages (the last one shorter) whose sum is the budget in whole pages, the unread pages
 * spread evenly before, between and after them. A piece that crosses the end of a run
 * goes on in the next run, so the sum does not depend on how the runs are cut, and no
 * piece leaves them. */
void inspect_runs_pick(const struct inspect_runs *r, uint64_t budget, struct inspect_runs *out)
{
	const uint64_t pg = 4096;
	uint64_t total = 0, want, piece, m, gap, run_first = 0;
	size_t i = 0;

	if (r->bytes <= budget) {
		for (size_t k = 0; k < r->n; k++)
			inspect_runs_add(out, r->v[2 * k], r->v[2 * k + 1]);
		return;
	}
	for (size_t k = 0; k < r->n; k++)
		total += (r->v[2 * k + 1] - r->v[2 * k]) / pg;
	want = budget / pg;
	if (want > total)
		want = total;
	if (!want)
		return;
	piece = want / 16;
	if (piece > 256)
		piece = 256;                     /* 1 MiB */
	if (!piece)
		piece = 1;
	m = (want + piece - 1) / piece;
	gap = total - want;
	for (uint64_t k = 0; k < m; k++) {
		uint64_t at = k * piece + (uint64_t)(((double)k + 0.5) * (double)gap / (double)m);
		uint64_t len = k + 1 < m ? piece : want - (m - 1) * piece;
		while (len && i < r->n) {
			uint64_t run_pages = (r->v[2 * i + 1] - r->v[2 * i]) / pg, off, take;
			if (at >= run_first + run_pages) {
				run_first += run_pages;
				i++;
				continue;
			}
			off = at - run_first;
			take = run_pages - off < len ? run_pages - off : len;
			inspect_runs_add(out, r->v[2 * i] + off * pg, r->v[2 * i] + (off + take) * pg);
			at += take;
			len -= take;
		}
	}
}

/* Where a word points, as sorted disjoint intervals of one class each: the row's spans
 * (ROW) over the map's regions (by kind), gaps absent. Built once per census, so a word
 * costs one range check, a check of the interval the last word hit (pointers into one
 * array cluster), else a branch-free binary search, instead of two binary searches. */
struct ptr_map {
	uint64_t *start, *end;
	uint8_t *cls;
	size_t n, cap;
	uint64_t lo, span;                   /* [lo, lo + span): every interval */
	size_t last;                         /* the interval the last lookup hit */
};

struct ptr_census {
	struct ptr_map map;
	struct inspect_growth *g;
	/* pointers kept for the hop: one at a pseudo-random place in each block of stride
	 * pointers seen (not every stride-th one: that aliases with arrays whose pointers
	 * alternate between stores); when full, one of each two kept is dropped and the
	 * stride doubles, so the sample stays even over the whole read */
	uint64_t *ptrs;                      /* [INSPECT_HOP_TARGETS] */
	size_t nptrs;
	uint64_t stride, seen, pick, rng;
	struct analysis *an;                 /* its histogram runs here too (analysis_split) */
	int hist_early;
};

static enum inspect_ptr kind_class(int kind)
{
	switch (kind) {
	case KIND_GO_HEAP: return INSPECT_PTR_GO_HEAP;
	case KIND_HEAP: case KIND_GLIBC_ARENA: return INSPECT_PTR_MALLOC;
	case KIND_ANON: return INSPECT_PTR_ANON;
	case KIND_STACK: return INSPECT_PTR_STACK;
	case KIND_FILE: return INSPECT_PTR_FILE;
	default: return INSPECT_PTR_OTHER;
	}
}

static void ptr_map_add(struct ptr_map *m, uint64_t a, uint64_t b, enum inspect_ptr k)
{
	if (b <= a)
		return;
	if (m->n && m->end[m->n - 1] == a && m->cls[m->n - 1] == (uint8_t)k) {
		m->end[m->n - 1] = b;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->start = xreallocarray(m->start, m->cap, sizeof(*m->start));
		m->end = xreallocarray(m->end, m->cap, sizeof(*m->end));
		m->cls = xreallocarray(m->cls, m->cap, sizeof(*m->cls));
	}
	m->start[m->n] = a;
	m->end[m->n] = b;
	m->cls[m->n++] = (uint8_t)k;
}

/* spans: sorted by start. Regions at or above 2^47 ([vsyscall]) are left out: a word
 * pointing there is counted as pointing nowhere, as it was when the bounds stopped below. */
static void ptr_map_build(struct ptr_map *m, const struct snapshot *s,
			  const struct inspect_span *spans, size_t nspans)
{
	uint64_t *u = xmalloc(2 * (nspans ? nspans : 1) * sizeof(*u));
	size_t nu = 0, j = 0, ri = 0;
	uint64_t at = 0;

	memset(m, 0, sizeof(*m));
	/* the spans' union, merged */
	for (size_t i = 0; i < nspans; i++) {
		if (spans[i].end <= spans[i].start)
			continue;
		if (nu && spans[i].start <= u[2 * nu - 1]) {
			if (spans[i].end > u[2 * nu - 1])
				u[2 * nu - 1] = spans[i].end;
			continue;
		}
		u[2 * nu] = spans[i].start;
		u[2 * nu + 1] = spans[i].end;
		nu++;
	}
	/* sweep: at each point, a span wins over the region under it */
	while (ri < s->count || j < nu) {
		const struct region *r = ri < s->count ? &s->regions[ri] : NULL;
		if (r && r->start >= (1ull << 47)) {
			ri = s->count;
			continue;
		}
		if (j < nu && (!r || u[2 * j] <= (r->start > at ? r->start : at))) {
			ptr_map_add(m, u[2 * j], u[2 * j + 1], INSPECT_PTR_ROW);
			at = u[2 * j + 1];
			j++;
			while (ri < s->count && s->regions[ri].end <= at)
				ri++;
			continue;
		}
		{
			uint64_t a = r->start > at ? r->start : at;
			uint64_t b = j < nu && u[2 * j] < r->end ? u[2 * j] : r->end;
			ptr_map_add(m, a, b, kind_class(r->kind));
			at = b;
			if (b == r->end)
				ri++;
		}
	}
	free(u);
	if (m->n) {
		m->lo = m->start[0];
		m->span = m->end[m->n - 1] - m->lo;
	}
}

static void ptr_map_free(struct ptr_map *m)
{
	free(m->start);
	free(m->end);
	free(m->cls);
	memset(m, 0, sizeof(*m));
}

static inline enum inspect_ptr ptr_lookup(struct ptr_map *m, uint64_t v)
{
	const uint64_t *base;
	size_t n, i;

	if (v - m->lo >= m->span)
		return INSPECT_PTR_NONE;
	i = m->last;
	if (v - m->start[i] < m->end[i] - m->start[i])
		return (enum inspect_ptr)m->cls[i];
	/* the last interval starting at or below v */
	base = m->start;
	n = m->n;
	while (n > 1) {
		size_t half = n / 2;
		base = base[half] <= v ? base + half : base;
		n -= half;
	}
	i = (size_t)(base - m->start);
	if (v >= m->end[i])
		return INSPECT_PTR_NONE;
	m->last = i;
	return (enum inspect_ptr)m->cls[i];
}

static uint64_t hop_rand(struct ptr_census *pc)
{
	pc->rng ^= pc->rng << 13;
	pc->rng ^= pc->rng >> 7;
	pc->rng ^= pc->rng << 17;
	return pc->rng;
}

static void ptr_keep(struct ptr_census *pc, uint64_t v)
{
	uint64_t i = pc->seen++, off = i % pc->stride;

	if (!off)
		pc->pick = hop_rand(pc) % pc->stride;
	if (off != pc->pick)
		return;
	if (pc->nptrs == INSPECT_HOP_TARGETS) {
		/* blocks 0..n-1 hold one each, so this is the first half of a new block */
		for (size_t j = 0; 2 * j + 1 < pc->nptrs; j++)
			pc->ptrs[j] = pc->ptrs[2 * j + (hop_rand(pc) & 1)];
		pc->nptrs /= 2;
		pc->stride *= 2;
		if (hop_rand(pc) & 1) {
			pc->pick = pc->stride / 2 + hop_rand(pc) % (pc->stride / 2);
			return;
		}
		pc->pick = off;
	}
	pc->ptrs[pc->nptrs++] = v;
}

/* The word census (and the histogram, when split off the analysis) on memread's reading
 * thread (memread_opts early_data): it sees what the sink sees, in the same order, while
 * the strings and shapes run on the delivering thread. */
static void census_early(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct ptr_census *pc = ctx;
	struct inspect_growth *g = pc->g;
	size_t skip = (size_t)((8 - (addr & 7)) & 7);
	uint64_t words = 0, zeros = 0;

	if (pc->hist_early)
		analysis_early_data(pc->an, addr, buf, len);
	for (size_t i = skip; i + 8 <= len; i += 8) {
		uint64_t v;
		enum inspect_ptr k;
		memcpy(&v, buf + i, 8);
		words++;
		if (!v) {
			zeros++;
			continue;
		}
		k = ptr_lookup(&pc->map, v);
		g->points_into[k]++;
		if (k != INSPECT_PTR_NONE)
			ptr_keep(pc, v);
	}
	g->words += words;
	g->zero_words += zeros;
}

static void census_early_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct ptr_census *pc = ctx;

	if (pc->hist_early)
		analysis_early_hole(pc->an, addr, len, why);
}

/* Read the ranges of pick through sink in one stream (one reader for the whole census:
 * its buffers and fds are reused, small pieces share process_vm_readv calls). Pieces apart
 * are not one stream: a hole between them ends strings and grep windows (one page, so the
 * histogram does not walk a gap of terabytes). Returns 0 or -ESRCH; other errors leave the
 * rest of the pieces unread (what was read counts). */
static int read_picked(struct memread_reader *mr, const struct snapshot *s,
		       const struct inspect_runs *pick, const struct memread_opts *mo,
		       const struct memread_sink *sink, uint64_t *bytes, struct rw_err *err)
{
	struct memread_stats st;
	int rc;

	*bytes = 0;
	if (!pick->n)
		return 0;
	rc = memread_read(mr, s, pick->v, pick->n, 4096, mo, sink, &st, err);
	*bytes = st.bytes_read;
	return rc == -ESRCH ? rc : 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct inspect_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void inspect_ptr_classify(const struct snapshot *s, const struct inspect_span *spans, size_t nspans,
			  const uint64_t *v, size_t n, enum inspect_ptr *out)
{
	struct inspect_span *sorted = xmalloc((nspans ? nspans : 1) * sizeof(*sorted));
	struct ptr_map m;

	memcpy(sorted, spans, nspans * sizeof(*sorted));
	qsort(sorted, nspans, sizeof(*sorted), span_cmp);
	ptr_map_build(&m, s, sorted, nspans);
	for (size_t i = 0; i < n; i++)
		out[i] = ptr_lookup(&m, v[i]);
	ptr_map_free(&m);
	free(sorted);
}

int inspect_new_runs(const struct procfs *p, const struct inspect_baseline *b,
		     const struct inspect_span *spans, size_t nspans, uint64_t budget,
		     uint64_t **runs, size_t *nruns, uint64_t *new_bytes, uint64_t *unrecorded,
		     struct rw_err *err)
{
	struct inspect_runs fresh = { 0 }, old = { 0 }, pick = { 0 };
	uint64_t *cur = xmalloc(2 * (size_t)INSPECT_BASE_MAX_RUNS * sizeof(*cur));
	struct inspect_span *sorted = xmalloc((nspans ? nspans : 1) * sizeof(*sorted));
	int rc = 0;

	*unrecorded = 0;
	memcpy(sorted, spans, nspans * sizeof(*sorted));
	qsort(sorted, nspans, sizeof(*sorted), span_cmp);
	for (size_t i = 0; i < nspans; i++) {
		const struct inspect_base_area *ba = NULL;
		size_t ncur = 0;
		if (!sorted[i].born_after && !(ba = baseline_find(b, sorted[i].id))) {
			(*unrecorded)++;
			continue;
		}
		rc = memread_present_runs(p, sorted[i].start, sorted[i].end, cur,
					  INSPECT_BASE_MAX_RUNS, &ncur, err);
		if (rc == -ESRCH)
			break;
		rc = 0;   /* -ENOSPC: the first runs will do (as inspect_growth) */
		inspect_runs_split(cur, ncur, ba ? b->runs + 2 * ba->first : NULL, ba ? ba->n : 0,
				   &fresh, &old);
	}
	*new_bytes = fresh.bytes;
	if (!rc)
		inspect_runs_pick(&fresh, budget, &pick);
	*runs = pick.v;
	*nruns = pick.n;
	free(fresh.v);
	free(old.v);
	free(cur);
	free(sorted);
	return rc;
}

double inspect_shape_score(const struct inspect_shape *sh)
{
	double n = sh->new_per_mib, o = sh->old_per_mib;

	return n + o > 0 ? n * n / (n + o) : 0;
}

static int shape_cmp(const void *a, const void *b)
{
	const struct inspect_shape *x = a, *y = b;
	double ex = inspect_shape_score(x), ey = inspect_shape_score(y);

	if (ex != ey)
		return ex > ey ? -1 : 1;
	return x->count > y->count ? -1 : x->count < y->count;
}

/* ---- one hop: what the pointers of the new pages point at ---------------------------- */

struct hop_sink {
	struct analysis *an;
	const struct inspect_runs *win;      /* the windows at the targets, merged */
	size_t at;                           /* first window not fully fed */
	uint64_t fed_end;                    /* end of the last byte fed (0: none) */
	uint64_t *fed;                       /* bytes fed */
};

/* The pages read hold the windows and what lies between them: feed only the windows, a
 * hole between two (so that a string does not run from one target into the next). */
static void hop_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct hop_sink *h = ctx;
	uint64_t end = addr + len;

	while (h->at < h->win->n && h->win->v[2 * h->at + 1] <= addr)
		h->at++;
	for (size_t k = h->at; k < h->win->n && h->win->v[2 * k] < end; k++) {
		uint64_t ws = h->win->v[2 * k] > addr ? h->win->v[2 * k] : addr;
		uint64_t we = h->win->v[2 * k + 1] < end ? h->win->v[2 * k + 1] : end;
		if (h->fed_end && ws != h->fed_end)
			analysis_hole(h->an, h->fed_end, ws > h->fed_end ? ws - h->fed_end : 1,
				      MEMREAD_HOLE_SKIPPED);
		analysis_data(h->an, ws, buf + (ws - addr), (size_t)(we - ws));
		*h->fed += we - ws;
		h->fed_end = we;
		if (we < h->win->v[2 * k + 1])
			break;                   /* the window goes on in the next piece */
	}
}

/* The windows stay in memread's buffer until settled: the analysis's mark and settle. */
static uint64_t hop_mark(void *ctx)
{
	return analysis_mark(((struct hop_sink *)ctx)->an);
}

static void hop_settle(void *ctx, uint64_t mark)
{
	analysis_settle(((struct hop_sink *)ctx)->an, mark);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The windows at targets[0..n) (sorted, distinct), each clipped to its mapping, merged;
 * the pages holding them, runs touching or at most 2 pages apart merged (fewer, longer
 * reads: pagemap and process_vm_readv once per run, not once per pointer). */
static void hop_runs(const struct snapshot *s, const uint64_t *targets, size_t n,
		     struct inspect_runs *win, struct inspect_runs *pages)
{
	win->n = win->bytes = pages->n = pages->bytes = 0;
	for (size_t i = 0; i < n; i++) {
		long ri = snapshot_find(s, targets[i]);
		uint64_t ws = targets[i], we, ps, pe;
		if (ri < 0)
			continue;
		we = ws + INSPECT_HOP_WINDOW < s->regions[ri].end ? ws + INSPECT_HOP_WINDOW : s->regions[ri].end;
		if (win->n && ws < win->v[2 * win->n - 1])
			ws = win->v[2 * win->n - 1];
		if (ws < we)
			inspect_runs_add(win, ws, we);
		ps = targets[i] & ~(uint64_t)4095;
		pe = (we + 4095) & ~(uint64_t)4095;
		if (pages->n && ps <= pages->v[2 * pages->n - 1] + 2 * 4096) {
			if (pe > pages->v[2 * pages->n - 1]) {
				pages->bytes += pe - pages->v[2 * pages->n - 1];
				pages->v[2 * pages->n - 1] = pe;
			}
		} else {
			inspect_runs_add(pages, ps, pe);
		}
	}
}

static void hop_follow(struct inspect_growth *g, struct memread_reader *mr, const struct snapshot *s,
		       struct ptr_census *pc, uint64_t budget, const struct analysis_opts *o,
		       struct rw_err *err)
{
	uint64_t *t = xmalloc((pc->nptrs ? pc->nptrs : 1) * sizeof(*t));
	struct inspect_runs win = { 0 }, pages = { 0 };
	struct analysis_opts ho = *o;
	struct analysis *an;
	struct scan_top_entry e[INSPECT_TOPN];
	struct hop_sink hs;
	struct memread_sink sink;
	size_t n = 0, step = 1, best = 0, run = 0;
	long best_ri = -1, cur_ri = -1;

	memcpy(t, pc->ptrs, pc->nptrs * sizeof(*t));
	qsort(t, pc->nptrs, sizeof(*t), u64_cmp);
	for (size_t i = 0; i < pc->nptrs; i++)
		if (!n || t[i] != t[n - 1])
			t[n++] = t[i];
	g->hop_sampled = pc->nptrs;
	/* at most the budget of pages: every other target dropped until they fit */
	for (;;) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += step)
			t[m++] = t[i];
		n = m;
		hop_runs(s, t, n, &win, &pages);
		if (pages.bytes <= budget || n <= 1)
			break;
		step = 2;
	}
	if (pages.bytes > budget) {
		n = 0;
		win.n = win.bytes = pages.n = pages.bytes = 0;
	}
	g->hop = 1;
	g->hop_targets = n;
	/* where the targets live, and the mapping holding most of them */
	for (size_t i = 0; i < n; i++) {
		long ri = snapshot_find(s, t[i]);
		g->hop_into[ptr_lookup(&pc->map, t[i])]++;
		if (ri != cur_ri) {
			cur_ri = ri;
			run = 0;
		}
		if (ri >= 0 && ++run > best) {
			best = run;
			best_ri = ri;
		}
	}
	if (best_ri >= 0) {
		const struct region *r = &s->regions[best_ri];
		g->hop_map_start = r->start;
		g->hop_map_end = r->end;
		g->hop_map_kind = r->kind;
		g->hop_map_path = xstrdup(r->path ? r->path : "");
		g->hop_map_targets = best;
	}
	if (!win.n)
		goto out;
	ho.histogram = 0;
	ho.grep = NULL;
	ho.base = win.v[0];
	ho.size = win.v[2 * win.n - 1] - win.v[0];
	an = analysis_new(&ho, err);
	if (!an)
		goto out;
	hs = (struct hop_sink){ an, &win, 0, 0, &g->hop_window_bytes };
	sink = (struct memread_sink){ .data = hop_data, .ctx = &hs, .mark = hop_mark,
				      .settle = hop_settle };
	if (read_picked(mr, s, &pages, NULL, &sink, &g->hop_read_bytes, err) == -ESRCH)
		g->exited = 1;
	analysis_finish(an);
	g->hop_strings_found = an->strings_found;
	copy_tops(g->hop_tops, &g->hop_ntops, e, analysis_top_strings(an, e, o->top));
	copy_tops(g->hop_shapes, &g->hop_nshapes, e, analysis_top_shapes(an, e, o->top));
	analysis_free(an);
out:
	inspect_runs_free(&win);
	inspect_runs_free(&pages);
	free(t);
}

#define OLD_SHAPES_LOOKUP 4096
#define OLD_SHAPES_CAPACITY 65536     /* as analysis.c's tables */

/* The old pages are read for their shapes only: strings to shapes to one table, without
 * the analysis's table of whole strings (half of its cost on text that is all distinct,
 * and never looked at here). What reaches the shapes table is what analysis.c feeds it. */
struct old_shapes {
	struct scan_strings *ss;
	struct scan_top *shapes;
	uint64_t end;                 /* end of the last string piece (continuations) */
	int enc, any;
};

static void old_string(void *ctx, uint64_t addr, const char *text, size_t len, enum scan_enc enc)
{
	struct old_shapes *os = ctx;
	int cont = os->any && addr == os->end && (int)enc == os->enc;
	char shape[512];
	size_t n;

	os->end = addr + (enc == SCAN_ENC_UTF16LE ? 2 * len : len);
	os->enc = (int)enc;
	os->any = 1;
	if (cont)
		return;
	n = scan_shape(text, len, shape, sizeof(shape));
	scan_top_add(os->shapes, shape, n, addr);
}

static void old_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct old_shapes *os = ctx;

	scan_strings_feed(os->ss, addr, buf, len);
}

static void old_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct old_shapes *os = ctx;

	(void)why;
	scan_strings_hole(os->ss, addr, len);
}

int inspect_growth(struct inspect_growth *g, const struct procfs *p, const struct snapshot *s,
		   const struct inspect_baseline *b, const struct inspect_span *spans,
		   size_t nspans, uint64_t budget, const struct analysis_opts *ao,
		   struct rw_err *err)
{
	struct inspect_runs fresh = { 0 }, old = { 0 }, pick = { 0 }, pick_old = { 0 };
	uint64_t *cur = xmalloc(2 * (size_t)INSPECT_BASE_MAX_RUNS * sizeof(*cur));
	struct inspect_span *sorted = xmalloc((nspans ? nspans : 1) * sizeof(*sorted));
	struct analysis_opts o = *ao;
	struct analysis *an = NULL;
	struct old_shapes os = { 0 };
	struct ptr_census pc = { 0 };
	struct memread_reader *mr = NULL;
	struct memread_opts mo;
	struct memread_sink sink;
	struct scan_top_entry e[INSPECT_TOPN], *olde = NULL;
	size_t ntop, nold;
	double t0;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < nspans; i++) {
		const struct inspect_base_area *ba = NULL;
		size_t ncur = 0;
		if (!spans[i].born_after && !(ba = baseline_find(b, spans[i].id))) {
			g->areas_unrecorded++;
			continue;
		}
		rc = memread_present_runs(p, spans[i].start, spans[i].end, cur,
					  INSPECT_BASE_MAX_RUNS, &ncur, err);
		if (rc == -ESRCH)
			goto out_free;
		/* -ENOSPC: the first INSPECT_BASE_MAX_RUNS runs will do; other errors: none */
		rc = 0;
		inspect_runs_split(cur, ncur, ba ? b->runs + 2 * ba->first : NULL, ba ? ba->n : 0, &fresh, &old);
	}
	g->new_bytes = fresh.bytes;
	g->old_bytes = old.bytes;
	if (!fresh.bytes)
		goto out_free;
	inspect_runs_pick(&fresh, budget, &pick);
	g->sampled = pick.bytes < fresh.bytes;

	o.json = 1;                 /* collect, print nothing */
	o.strings = o.gnu = o.hexdump = 0;
	if (!o.top || o.top > INSPECT_TOPN)
		o.top = INSPECT_TOPN;
	o.histogram = 1;
	o.base = pick.v[0];
	o.size = pick.v[2 * pick.n - 1] - pick.v[0];
	o.out = stdout;
	an = analysis_new(&o, err);
	if (!an) {
		rc = err ? -err->code : -EINVAL;
		goto out_free;
	}
	memcpy(sorted, spans, nspans * sizeof(*sorted));
	qsort(sorted, nspans, sizeof(*sorted), span_cmp);
	pc.g = g;
	pc.stride = 1;
	pc.rng = 0x9e3779b97f4a7c15ull;
	pc.an = an;
	pc.ptrs = xmalloc(INSPECT_HOP_TARGETS * sizeof(*pc.ptrs));
	/* The map's bounds reject most words at once (text, counters, small integers); they
	 * stop below 2^47 (not [vsyscall] at 0xffffffffff600000, or every word would be
	 * searched for). */
	ptr_map_build(&pc.map, s, sorted, nspans);
	/* the strings and shapes on the delivering thread, the string table (and the histogram:
	 * analysis_split) on --top's counting thread, the word census on the reading one (each
	 * sees every byte, in address order) */
	pc.hist_early = analysis_split(an);
	memset(&mo, 0, sizeof(mo));
	mo.early_data = census_early;
	mo.early_hole = census_early_hole;
	mo.early_ctx = &pc;
	sink = (struct memread_sink){ .data = analysis_data, .hole = analysis_hole, .ctx = an,
				      .mark = analysis_mark, .settle = analysis_settle };
	mr = memread_reader_new(p);
	t0 = now_mono();
	rc = read_picked(mr, s, &pick, &mo, &sink, &g->read_bytes, err);
	analysis_finish(an);
	g->ms_new = (now_mono() - t0) * 1e3;
	g->strings_found = an->strings_found;
	copy_tops(g->tops, &g->ntops, e, analysis_top_strings(an, e, o.top));
	g->hist = an->hist_result;
	if (an->grep) {
		g->grep = 1;
		g->matches = an->matches;
		g->nmatches = an->nmatches;
		g->matches_total = scan_grep_count(an->grep);
		an->matches = NULL;
		an->nmatches = 0;
	}
	if (rc == -ESRCH) {
		g->exited = 1;
		goto out_shapes;
	}
	if (g->words) {
		uint64_t mapped = g->words - g->zero_words - g->points_into[INSPECT_PTR_NONE];
		g->ptr_share = (double)mapped / (double)g->words;
	}
	if (g->ptr_share >= INSPECT_HOP_SHARE && pc.nptrs) {
		t0 = now_mono();
		hop_follow(g, mr, s, &pc, budget, &o, err);
		g->ms_hop = (now_mono() - t0) * 1e3;
		if (g->exited)
			goto out_shapes;
	}

	/* The comparison: as many bytes of the row's older pages, spread the same way. */
	inspect_runs_pick(&old, g->read_bytes, &pick_old);
	if (pick_old.n) {
		struct scan_strings_opts so = { o.min_len ? o.min_len : 4,
						o.encodings ? o.encodings : SCAN_ENC_ASCII, o.gnu,
						old_string, &os, 0 };
		t0 = now_mono();
		os.ss = scan_strings_new(&so);
		os.shapes = scan_top_new(OLD_SHAPES_CAPACITY);
		sink = (struct memread_sink){ .data = old_data, .hole = old_hole, .ctx = &os };
		rc = read_picked(mr, s, &pick_old, NULL, &sink, &g->old_read_bytes, err);
		scan_strings_finish(os.ss);
		if (rc == -ESRCH)
			g->exited = 1;
		g->ms_old = (now_mono() - t0) * 1e3;
	}
out_shapes:
	ntop = analysis_top_shapes(an, e, o.top);
	nold = 0;
	if (os.shapes) {
		olde = xmalloc(OLD_SHAPES_LOOKUP * sizeof(*olde));
		nold = scan_top_result(os.shapes, olde, OLD_SHAPES_LOOKUP);
	}
	for (size_t i = 0; i < ntop; i++) {
		struct inspect_shape *sh = &g->shapes[i];
		sh->text = xstrndup(e[i].text, e[i].len);
		sh->count = e[i].count;
		for (size_t k = 0; k < nold; k++)
			if (olde[k].len == e[i].len && !memcmp(olde[k].text, e[i].text, e[i].len)) {
				sh->old_count = olde[k].count;
				break;
			}
		sh->new_per_mib = g->read_bytes ? (double)sh->count * 1048576.0 / (double)g->read_bytes : 0;
		sh->old_per_mib = g->old_read_bytes
					  ? (double)sh->old_count * 1048576.0 / (double)g->old_read_bytes : 0;
	}
	g->nshapes = ntop;
	qsort(g->shapes, g->nshapes, sizeof(g->shapes[0]), shape_cmp);
	free(olde);
	rc = g->exited ? -ESRCH : 0;
out_free:
	analysis_free(an);
	scan_strings_free(os.ss);
	scan_top_free(os.shapes);
	free(fresh.v);
	free(old.v);
	free(pick.v);
	free(pick_old.v);
	free(cur);
	free(sorted);
	free(pc.ptrs);
	ptr_map_free(&pc.map);
	memread_reader_free(mr);
	return rc;
}

void inspect_growth_free(struct inspect_growth *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ntops; i++)
		free(g->tops[i].text);
	for (size_t i = 0; i < g->nshapes; i++)
		free(g->shapes[i].text);
	for (size_t i = 0; i < g->nmatches; i++)
		free(g->matches[i].text);
	free(g->matches);
	for (size_t i = 0; i < g->hop_ntops; i++)
		free(g->hop_tops[i].text);
	for (size_t i = 0; i < g->hop_nshapes; i++)
		free(g->hop_shapes[i].text);
	free(g->hop_map_path);
	memset(g, 0, sizeof(*g));
}
