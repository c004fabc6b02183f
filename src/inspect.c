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
	sink = (struct memread_sink){ analysis_data, analysis_hole, an };
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
	struct memread_sink sink = { hex_data, NULL, in };
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
	b->areas[b->nareas++] = (struct inspect_base_area){ id, b->nruns, n };
	for (size_t i = 0; i < n; i++)
		b->bytes_present += b->runs[2 * (b->nruns + i) + 1] - b->runs[2 * (b->nruns + i)];
	b->nruns += n;
	return 0;
}

static const struct inspect_base_area *baseline_find(const struct inspect_baseline *b, uint64_t id)
{
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

struct runs {
	uint64_t *v;                  /* pairs */
	size_t n, cap;
	uint64_t bytes;
};

static void runs_add(struct runs *r, uint64_t s, uint64_t e)
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

/* cur minus base into fresh, cur and base into old; all sorted, disjoint. */
static void runs_split(const uint64_t *cur, size_t ncur, const uint64_t *base, size_t nbase,
		       struct runs *fresh, struct runs *old)
{
	size_t j = 0;

	for (size_t i = 0; i < ncur; i++) {
		uint64_t at = cur[2 * i], end = cur[2 * i + 1];
		while (j < nbase && base[2 * j + 1] <= at)
			j++;
		for (size_t k = j; k < nbase && base[2 * k] < end && at < end; k++) {
			uint64_t bs = base[2 * k] > at ? base[2 * k] : at;
			uint64_t be = base[2 * k + 1] < end ? base[2 * k + 1] : end;
			runs_add(fresh, at, bs);
			runs_add(old, bs, be);
			at = be;
		}
		runs_add(fresh, at, end);
	}
}

/* Pieces of r to read: all of it within budget, else pieces of `piece` bytes spread evenly
 * (every total/budget-th piece), never more than budget bytes in all. */
static void runs_pick(const struct runs *r, uint64_t budget, struct runs *out)
{
	uint64_t piece, taken = 0;
	double credit = 1.0, share;

	if (r->bytes <= budget) {
		for (size_t i = 0; i < r->n; i++)
			runs_add(out, r->v[2 * i], r->v[2 * i + 1]);
		return;
	}
	piece = budget / 16 & ~(uint64_t)4095;
	if (piece > (1u << 20))
		piece = 1u << 20;
	if (piece < 4096)
		piece = 4096;
	share = (double)budget / (double)r->bytes;
	for (size_t i = 0; i < r->n; i++) {
		for (uint64_t a = r->v[2 * i]; a < r->v[2 * i + 1]; a += piece) {
			uint64_t e = a + piece < r->v[2 * i + 1] ? a + piece : r->v[2 * i + 1];
			credit += share * (double)(e - a) / (double)piece;
			if (credit < 1.0 || taken + (e - a) > budget)
				continue;
			credit -= 1.0;
			runs_add(out, a, e);
			taken += e - a;
		}
	}
}

struct ptr_census {
	struct analysis *an;
	const struct snapshot *s;
	const struct inspect_span *spans;    /* sorted by start */
	size_t nspans;
	uint64_t lo, hi;                     /* lowest and highest mapped address */
	struct inspect_growth *g;
};

static enum inspect_ptr ptr_class(const struct ptr_census *pc, uint64_t v)
{
	size_t lo = 0, hi = pc->nspans;
	const struct region *r;

	if (v < pc->lo || v >= pc->hi)
		return INSPECT_PTR_NONE;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pc->spans[mid].end <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pc->nspans && pc->spans[lo].start <= v)
		return INSPECT_PTR_ROW;
	lo = 0;
	hi = pc->s->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pc->s->regions[mid].end <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= pc->s->count || pc->s->regions[lo].start > v)
		return INSPECT_PTR_NONE;
	r = &pc->s->regions[lo];
	switch (r->kind) {
	case KIND_GO_HEAP: return INSPECT_PTR_GO_HEAP;
	case KIND_HEAP: case KIND_GLIBC_ARENA: return INSPECT_PTR_MALLOC;
	case KIND_ANON: return INSPECT_PTR_ANON;
	case KIND_STACK: return INSPECT_PTR_STACK;
	case KIND_FILE: return INSPECT_PTR_FILE;
	default: return INSPECT_PTR_OTHER;
	}
}

static void census_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct ptr_census *pc = ctx;
	size_t skip = (size_t)((8 - (addr & 7)) & 7);

	analysis_data(pc->an, addr, buf, len);
	for (size_t i = skip; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, buf + i, 8);
		pc->g->words++;
		if (!v)
			pc->g->zero_words++;
		else
			pc->g->points_into[ptr_class(pc, v)]++;
	}
}

static void census_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct ptr_census *pc = ctx;

	analysis_hole(pc->an, addr, len, why);
}

/* Read the ranges of pick through sink; stops on -ESRCH. Returns bytes read or -ESRCH. */
static int read_picked(const struct procfs *p, const struct snapshot *s, const struct runs *pick,
		       const struct memread_sink *sink, uint64_t *bytes, struct rw_err *err)
{
	struct memread_stats st;

	*bytes = 0;
	for (size_t i = 0; i < pick->n; i++) {
		int rc;
		/* Pieces apart are not one stream: a hole between them ends strings and grep
		 * windows (one page, so the histogram does not walk a gap of terabytes). */
		if (i && sink->hole)
			sink->hole(sink->ctx, pick->v[2 * i - 1], pick->v[2 * i] - pick->v[2 * i - 1] < 4096
					      ? pick->v[2 * i] - pick->v[2 * i - 1] : 4096, MEMREAD_HOLE_SKIPPED);
		rc = memread_range(p, s, pick->v[2 * i], pick->v[2 * i + 1], NULL, sink, &st, err);
		*bytes += st.bytes_read;
		if (rc == -ESRCH)
			return rc;
		/* other errors: that range is a hole; the rest is still worth reading */
	}
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct inspect_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int inspect_new_runs(const struct procfs *p, const struct inspect_baseline *b,
		     const struct inspect_span *spans, size_t nspans, uint64_t budget,
		     uint64_t **runs, size_t *nruns, uint64_t *new_bytes, uint64_t *unrecorded,
		     struct rw_err *err)
{
	struct runs fresh = { 0 }, old = { 0 }, pick = { 0 };
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
		runs_split(cur, ncur, ba ? b->runs + 2 * ba->first : NULL, ba ? ba->n : 0, &fresh, &old);
	}
	*new_bytes = fresh.bytes;
	if (!rc)
		runs_pick(&fresh, budget, &pick);
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

#define OLD_SHAPES_LOOKUP 4096

int inspect_growth(struct inspect_growth *g, const struct procfs *p, const struct snapshot *s,
		   const struct inspect_baseline *b, const struct inspect_span *spans,
		   size_t nspans, uint64_t budget, const struct analysis_opts *ao,
		   struct rw_err *err)
{
	struct runs fresh = { 0 }, old = { 0 }, pick = { 0 }, pick_old = { 0 };
	uint64_t *cur = xmalloc(2 * (size_t)INSPECT_BASE_MAX_RUNS * sizeof(*cur));
	struct inspect_span *sorted = xmalloc((nspans ? nspans : 1) * sizeof(*sorted));
	struct analysis_opts o = *ao;
	struct analysis *an = NULL, *an_old = NULL;
	struct ptr_census pc;
	struct memread_sink sink;
	struct scan_top_entry e[INSPECT_TOPN], *olde = NULL;
	size_t ntop, nold;
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
		runs_split(cur, ncur, ba ? b->runs + 2 * ba->first : NULL, ba ? ba->n : 0, &fresh, &old);
	}
	g->new_bytes = fresh.bytes;
	g->old_bytes = old.bytes;
	if (!fresh.bytes)
		goto out_free;
	runs_pick(&fresh, budget, &pick);
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
	pc = (struct ptr_census){ an, s, sorted, nspans, 0, 0, g };
	if (s->count) {
		pc.lo = s->regions[0].start;
		pc.hi = s->regions[s->count - 1].end;
	}
	sink = (struct memread_sink){ census_data, census_hole, &pc };
	rc = read_picked(p, s, &pick, &sink, &g->read_bytes, err);
	analysis_finish(an);
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

	/* The comparison: as many bytes of the row's older pages, spread the same way. */
	runs_pick(&old, g->read_bytes, &pick_old);
	if (pick_old.n) {
		struct analysis_opts oo = o;
		oo.histogram = 0;
		oo.grep = NULL;
		oo.base = pick_old.v[0];
		oo.size = pick_old.v[2 * pick_old.n - 1] - pick_old.v[0];
		an_old = analysis_new(&oo, err);
		if (an_old) {
			sink = (struct memread_sink){ analysis_data, analysis_hole, an_old };
			rc = read_picked(p, s, &pick_old, &sink, &g->old_read_bytes, err);
			analysis_finish(an_old);
			if (rc == -ESRCH)
				g->exited = 1;
		}
	}
out_shapes:
	ntop = analysis_top_shapes(an, e, o.top);
	nold = 0;
	if (an_old) {
		olde = xmalloc(OLD_SHAPES_LOOKUP * sizeof(*olde));
		nold = analysis_top_shapes(an_old, olde, OLD_SHAPES_LOOKUP);
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
	analysis_free(an_old);
	free(fresh.v);
	free(old.v);
	free(pick.v);
	free(pick_old.v);
	free(cur);
	free(sorted);
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
	memset(g, 0, sizeof(*g));
}
