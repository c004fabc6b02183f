/* timeline: areas across samples, growth statistics, and the suspicion score.
 *
 * Each sample's regions are first joined into groups of touching pieces of one reservation
 * (region_joinable: Go arena VMAs, a glibc arena's rw prefix and ---p tail, brk pieces).
 * Groups are then matched to the previous sample's areas by address overlap: every set of
 * old areas and new groups connected by overlap becomes one area, so VMAs that split, merge
 * or move their rw/---p boundary keep their history. An area that was not in the previous
 * sample is gone; a group that overlaps no area is a new area. */
#include "timeline.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* RSS ranges below this are noise (16 pages): such an area is flat. */
#define TL_NOISE_BYTES (64u * 1024)
/* "Still growing" is judged over the recent part of the window: its last third, at most
 * TL_RECENT_MAX_S seconds, and at least TL_RECENT_MIN samples (fewer: the whole window). */
#define TL_RECENT_MAX_S 30.0
#define TL_RECENT_MIN 4
/* Growing over the window but, in the recent part, below this share of the window's rate
 * (or not rising at all): it stopped, and is flat. */
#define TL_RECENT_SHARE 0.25

const char *trend_name(enum trend t)
{
	static const char *const names[] = { "flat", "growing", "sawtooth", "shrinking" };
	return (unsigned)t < 4 ? names[t] : "?";
}

void timeline_init(struct timeline *tl, size_t cap)
{
	memset(tl, 0, sizeof(*tl));
	if (cap < 2)
		cap = 2;
	if (cap > TL_MAX_SAMPLES)
		cap = TL_MAX_SAMPLES;
	tl->cap = cap;
	tl->times = xcalloc(cap, sizeof(*tl->times));
	tl->tot_rss = xcalloc(cap, sizeof(*tl->tot_rss));
	tl->tot_anon = xcalloc(cap, sizeof(*tl->tot_anon));
	tl->tot_swap = xcalloc(cap, sizeof(*tl->tot_swap));
	tl->series_t = xcalloc(cap, sizeof(*tl->series_t));
	tl->series_v = xcalloc(cap, sizeof(*tl->series_v));
	tl->next_id = 1;
}

/* Keep a few rings for reuse (areas come and go each sample in a churning process); free
 * the rest, so rings given up by areas that went flat do not pile up. */
#define TL_FREE_RINGS_KEPT 64

static void recycle_ring(struct timeline *tl, uint32_t *ring)
{
	if (!ring)
		return;
	if (tl->nfree >= TL_FREE_RINGS_KEPT) {
		free(ring);
		return;
	}
	if (tl->nfree == tl->free_cap) {
		tl->free_cap = tl->free_cap ? tl->free_cap * 2 : 64;
		tl->free_rings = xreallocarray(tl->free_rings, tl->free_cap, sizeof(*tl->free_rings));
	}
	tl->free_rings[tl->nfree++] = ring;
}

static void drop_area(struct timeline *tl, struct area *a)
{
	free(a->path);
	a->path = NULL;
	recycle_ring(tl, a->rss);
	a->rss = NULL;
}

void timeline_free(struct timeline *tl)
{
	for (size_t i = 0; i < tl->nareas; i++) {
		free(tl->areas[i].path);
		free(tl->areas[i].rss);
	}
	for (size_t i = 0; i < tl->nfree; i++)
		free(tl->free_rings[i]);
	free(tl->free_rings);
	free(tl->areas);
	free(tl->next);
	free(tl->times);
	free(tl->tot_rss);
	free(tl->tot_anon);
	free(tl->tot_swap);
	free(tl->scratch_st);
	free(tl->scratch_idx);
	free(tl->series_t);
	free(tl->series_v);
	memset(tl, 0, sizeof(*tl));
}

static uint32_t *new_ring(struct timeline *tl)
{
	uint32_t *r = tl->nfree ? tl->free_rings[--tl->nfree] : xmalloc(tl->cap * sizeof(*r));
	for (size_t i = 0; i < tl->cap; i++)
		r[i] = TL_ABSENT;
	return r;
}

/* Give a constant area (rss == NULL) its ring: rss_const in every slot of the window from
 * its birth on (the slot of sample tl->seq is about to be written). */
static void materialize_ring(struct timeline *tl, struct area *a)
{
	uint64_t from = tl->seq >= tl->cap ? tl->seq - tl->cap : 0;

	if (a->rss)
		return;
	a->rss = new_ring(tl);
	if (from < a->born_seq)
		from = a->born_seq;
	for (uint64_t seq = from; seq < tl->seq; seq++)
		a->rss[seq % tl->cap] = a->rss_const;
}

/* The ring entry at slot k, whose sample must be at or after a->born_seq. */
static uint32_t ring_at(const struct area *a, size_t k)
{
	return a->rss ? a->rss[k] : a->rss_const;
}

struct group {
	size_t first, last;          /* region indexes, inclusive */
	uint64_t start, end;
};

/* Next group of touching, joinable regions starting at region *i. */
static int next_group(const struct snapshot *s, size_t *i, struct group *g)
{
	if (*i >= s->count)
		return 0;
	g->first = g->last = *i;
	g->start = s->regions[*i].start;
	g->end = s->regions[*i].end;
	while (g->last + 1 < s->count && region_joinable(&s->regions[g->last], &s->regions[g->last + 1])) {
		g->last++;
		g->end = s->regions[g->last].end;
	}
	*i = g->last + 1;
	return 1;
}

void timeline_add(struct timeline *tl, const struct snapshot *s, double t)
{
	size_t k = (size_t)(tl->seq % tl->cap);
	size_t ai = 0, ri = 0, nn = 0;
	struct group g;
	int have_g;
	uint64_t rss = 0, anon = 0, swap = 0;

	for (size_t i = 0; i < s->count; i++) {
		rss += s->regions[i].f[RF_RSS];
		anon += s->regions[i].f[RF_ANONYMOUS];
		swap += s->regions[i].f[RF_SWAP];
	}
	tl->times[k] = t;
	tl->tot_rss[k] = rss;
	tl->tot_anon[k] = anon;
	tl->tot_swap[k] = swap;

	have_g = next_group(s, &ri, &g);
	while (ai < tl->nareas || have_g) {
		/* One component: old areas and new groups connected by overlap. */
		struct area *base = NULL;
		const struct region *rep = NULL;
		uint64_t cstart, cend, gstart = UINT64_MAX, gend = 0, crss = 0, csize = 0;
		size_t nvmas = 0, ngroups = 0;

		if (have_g && (ai >= tl->nareas || g.start < tl->areas[ai].start)) {
			cstart = g.start;
			cend = g.end;
		} else {
			cstart = tl->areas[ai].start;
			cend = tl->areas[ai].end;
		}
		for (;;) {
			if (ai < tl->nareas && tl->areas[ai].start < cend &&
			    tl->areas[ai].end > cstart) {
				struct area *a = &tl->areas[ai++];
				if (a->end > cend)
					cend = a->end;
				if (!base) {
					base = a;
				} else {
					/* Merge: keep the older area, add the other's history to it. */
					struct area *keep = a->born_seq < base->born_seq ? a : base;
					struct area *gone = keep == a ? base : a;
					materialize_ring(tl, keep);
					materialize_ring(tl, gone);
					for (size_t j = 0; j < tl->cap; j++) {
						if (gone->rss[j] == TL_ABSENT)
							continue;
						uint64_t sum = (keep->rss[j] == TL_ABSENT ? 0 : keep->rss[j]) +
							       (uint64_t)gone->rss[j];
						keep->rss[j] = sum >= TL_ABSENT ? TL_ABSENT - 1 : (uint32_t)sum;
					}
					/* The summed history steps where the other one was born or
					 * changed: the constant shortcuts must see that. */
					if (gone->changed_seq > keep->changed_seq)
						keep->changed_seq = gone->changed_seq;
					drop_area(tl, gone);
					base = keep;
				}
			} else if (have_g && g.start < cend && g.end > cstart) {
				for (size_t r = g.first; r <= g.last; r++) {
					const struct region *reg = &s->regions[r];
					crss += reg->f[RF_RSS];
					csize += reg->end - reg->start;
					if (region_better_rep(reg, rep))
						rep = reg;
				}
				nvmas += g.last - g.first + 1;
				ngroups++;
				if (g.end > cend)
					cend = g.end;
				if (g.start < gstart)
					gstart = g.start;
				if (g.end > gend)
					gend = g.end;
				have_g = next_group(s, &ri, &g);
			} else {
				break;
			}
		}
		if (!ngroups) {
			/* Old areas only: gone from this sample. */
			drop_area(tl, base);
			tl->vanished++;
			continue;
		}
		if (nn == tl->next_cap) {
			tl->next_cap = tl->next_cap ? tl->next_cap * 2 : 256;
			tl->next = xreallocarray(tl->next, tl->next_cap, sizeof(*tl->next));
		}
		{
			struct area *out = &tl->next[nn++];
			if (base) {
				*out = *base;
			} else {
				memset(out, 0, sizeof(*out));
				out->id = tl->next_id++;
				out->born_seq = tl->seq;
				out->rss = NULL;
			}
			out->start = gstart;    /* the span is this sample's, not the union with old spans */
			out->end = gend;
			out->size = csize;
			out->last_seq = tl->seq;
			out->nvmas = nvmas;
			out->kind = rep->kind;
			memcpy(out->perms, rep->perms, sizeof(out->perms));
			if (!out->path || strcmp(out->path, rep->path)) {
				free(out->path);
				out->path = xstrdup(rep->path);
			}
			{
				size_t prev = k ? k - 1 : tl->cap - 1;
				uint64_t kib = crss / 1024;
				uint32_t val = kib >= TL_ABSENT ? TL_ABSENT - 1 : (uint32_t)kib;
				if (!base) {
					out->changed_seq = tl->seq;
					out->rss_const = val;
				} else if (ring_at(out, prev) != val) {
					out->changed_seq = tl->seq;
					materialize_ring(tl, out);
				}
				if (out->rss) {
					out->rss[k] = val;
					/* Unchanged through the whole window again: back to a constant. */
					if (out->changed_seq + tl->cap <= tl->seq + 1) {
						recycle_ring(tl, out->rss);
						out->rss = NULL;
						out->rss_const = val;
					}
				}
			}
		}
	}
	{
		struct area *tmp = tl->areas;
		size_t tcap = tl->areas_cap;
		tl->areas = tl->next;
		tl->areas_cap = tl->next_cap;
		tl->nareas = nn;
		tl->next = tmp;
		tl->next_cap = tcap;
	}
	tl->seq++;
}

uint64_t timeline_area_rss(const struct timeline *tl, const struct area *a, uint64_t seq)
{
	uint32_t v;

	if (seq >= tl->seq || seq + tl->cap < tl->seq || seq < a->born_seq)
		return UINT64_MAX;
	v = ring_at(a, (size_t)(seq % tl->cap));
	return v == TL_ABSENT ? UINT64_MAX : (uint64_t)v * 1024;
}

size_t timeline_window_samples(const struct timeline *tl)
{
	return tl->seq < tl->cap ? (size_t)tl->seq : tl->cap;
}

double timeline_window_seconds(const struct timeline *tl)
{
	size_t n = timeline_window_samples(tl);

	if (n < 2)
		return 0;
	return tl->times[(tl->seq - 1) % tl->cap] - tl->times[(tl->seq - n) % tl->cap];
}

/* Least squares fit of y over x: slope and R^2. */
static void fit(const double *x, const uint64_t *y, size_t n, double *slope, double *r2)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;

	*slope = 0;
	*r2 = 0;
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += (double)y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dx = x[i] - mx, dy = (double)y[i] - my;
		sxx += dx * dx;
		sxy += dx * dy;
		syy += dy * dy;
	}
	if (sxx <= 0)
		return;
	*slope = sxy / sxx;
	*r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
}

/* Over the recent part of the series: does it still rise at a good share of rate? 1 when
 * the recent part is the whole series (too few samples to tell a stop from a pause). */
static int still_growing(const double *t, const uint64_t *rss, size_t n, double rate)
{
	double span = t[n - 1] - t[0], recent = span / 3, slope, r2;
	size_t from = n;

	if (recent > TL_RECENT_MAX_S)
		recent = TL_RECENT_MAX_S;
	while (from > 0 && t[from - 1] >= t[n - 1] - recent)
		from--;
	if (n - from < TL_RECENT_MIN)
		from = n >= TL_RECENT_MIN ? n - TL_RECENT_MIN : 0;
	if (from == 0)
		return 1;
	fit(t + from, rss + from, n - from, &slope, &r2);
	return slope > 0 && slope >= TL_RECENT_SHARE * rate;
}

/*
 * Trend and score (a heuristic, documented in regionwatch(1)):
 *   range = max - min over the window; below 64 KiB the area is flat.
 *   sawtooth: some single drop is at least a quarter of the range, or the drops add up to
 *             half the range, while the rises add up to at least half of it (it rises and
 *             falls back);
 *   growing:  otherwise, last - first is at least half the range and the slope is positive;
 *   shrinking: first - last is at least half the range and the slope is negative;
 *   flat:     anything else.
 *   A growing area must still grow: over the recent part of the window (its last third, at
 *   most 30 s, at least 4 samples) the slope must be at least a quarter of the window's
 *   rate; if not, it stopped and is flat (a heap that grew for a minute and stopped 30 s ago
 *   is not a leak now, and has no time-to-limit). rate, R^2 and monotonic stay the window's.
 *   score = max(rate, 0) * R^2 * monotonic, times 1 for growing, 0.05 for sawtooth and 0 for
 *   flat and shrinking: a steady leak scores its rate in bytes/s; a big flat buffer scores 0;
 *   a sawtooth's poor linear fit and weight keep it far below a leak of the same rate.
 */
void timeline_series_stats(const double *t, const uint64_t *rss, size_t n, struct area_stats *st)
{
	uint64_t range;
	double rises = 0, drops = 0, big_drop = 0;
	size_t nondecreasing = 0;

	memset(st, 0, sizeof(*st));
	st->samples = n;
	st->trend = TREND_FLAT;
	if (!n)
		return;
	st->rss_first = rss[0];
	st->rss_last = rss[n - 1];
	st->rss_min = st->rss_max = rss[0];
	for (size_t i = 0; i < n; i++) {
		if (rss[i] < st->rss_min)
			st->rss_min = rss[i];
		if (rss[i] > st->rss_max)
			st->rss_max = rss[i];
		if (i) {
			double d = (double)rss[i] - (double)rss[i - 1];
			if (d >= 0) {
				nondecreasing++;
				rises += d;
			} else {
				drops -= d;
				if (-d > big_drop)
					big_drop = -d;
			}
		}
	}
	st->delta = (int64_t)(st->rss_last - st->rss_first);
	st->monotonic = n > 1 ? (double)nondecreasing / (double)(n - 1) : 1.0;
	fit(t, rss, n, &st->rate, &st->r2);
	range = st->rss_max - st->rss_min;
	if (range < TL_NOISE_BYTES)
		st->trend = TREND_FLAT;
	else if ((big_drop >= 0.25 * (double)range || drops >= 0.5 * (double)range) &&
		 rises >= 0.5 * (double)range)
		st->trend = TREND_SAWTOOTH;
	else if ((double)st->delta >= 0.5 * (double)range && st->rate > 0)
		st->trend = still_growing(t, rss, n, st->rate) ? TREND_GROWING : TREND_FLAT;
	else if ((double)-st->delta >= 0.5 * (double)range && st->rate < 0)
		st->trend = TREND_SHRINKING;
	else
		st->trend = TREND_FLAT;
	if (st->trend == TREND_GROWING || st->trend == TREND_SAWTOOTH) {
		double w = st->trend == TREND_GROWING ? 1.0 : 0.05;
		st->score = w * (st->rate > 0 ? st->rate : 0) * st->r2 * st->monotonic;
	}
}

void timeline_area_stats(const struct timeline *tl, const struct area *a, struct area_stats *st)
{
	size_t n = timeline_window_samples(tl), m = 0, k;
	uint64_t from = tl->seq - n;
	double *t = tl->series_t;
	uint64_t *v = tl->series_v;

	if (a->born_seq <= from && a->changed_seq <= from) {
		/* Unchanged through the whole window (most areas, most of the time): flat. */
		uint64_t rss = (uint64_t)ring_at(a, (size_t)((tl->seq - 1) % tl->cap)) * 1024;
		memset(st, 0, sizeof(*st));
		st->samples = n;
		st->rss_first = st->rss_last = st->rss_min = st->rss_max = rss;
		st->monotonic = 1.0;
		st->trend = TREND_FLAT;
		return;
	}
	if (a->born_seq > from)
		from = a->born_seq;
	k = (size_t)(from % tl->cap);
	for (uint64_t seq = from; seq < tl->seq; seq++) {
		uint32_t kib = ring_at(a, k);
		if (kib != TL_ABSENT) {
			t[m] = tl->times[k];
			v[m] = (uint64_t)kib * 1024;
			m++;
		}
		if (++k == tl->cap)
			k = 0;
	}
	timeline_series_stats(t, v, m, st);
}

void timeline_totals(const struct timeline *tl, struct totals_stats *st)
{
	size_t n = timeline_window_samples(tl), m = 0;
	double slope, r2;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	for (uint64_t seq = tl->seq - n; seq < tl->seq; seq++)
		tl->series_t[m++] = tl->times[seq % tl->cap];
	{
		size_t first = (size_t)((tl->seq - n) % tl->cap), last = (size_t)((tl->seq - 1) % tl->cap);
		st->rss = tl->tot_rss[last];
		st->anon = tl->tot_anon[last];
		st->swap = tl->tot_swap[last];
		st->rss_first = tl->tot_rss[first];
		st->anon_first = tl->tot_anon[first];
		st->swap_first = tl->tot_swap[first];
	}
	{
		const uint64_t *src[3] = { tl->tot_rss, tl->tot_anon, tl->tot_swap };
		double *dst[3] = { &st->rss_rate, &st->anon_rate, &st->swap_rate };
		for (int w = 0; w < 3; w++) {
			m = 0;
			for (uint64_t seq = tl->seq - n; seq < tl->seq; seq++)
				tl->series_v[m++] = src[w][seq % tl->cap];
			fit(tl->series_t, tl->series_v, m, &slope, &r2);
			*dst[w] = slope;
			if (w == 0) {
				/* the total's trend, by the areas' rule: a time-to-limit only
				 * while the total still grows */
				struct area_stats ts;
				timeline_series_stats(tl->series_t, tl->series_v, m, &ts);
				st->rss_trend = ts.trend;
			}
		}
	}
}

static const struct area_stats *sort_st;
static const struct area *sort_areas;

static int cmp_rank(const void *x, const void *y)
{
	const struct area_stats *a = &sort_st[*(const size_t *)x], *b = &sort_st[*(const size_t *)y];
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	if (a->delta != b->delta)
		return a->delta < b->delta ? 1 : -1;
	if (a->rss_last != b->rss_last)
		return a->rss_last < b->rss_last ? 1 : -1;
	return sort_areas[*(const size_t *)x].start > sort_areas[*(const size_t *)y].start ? 1 : -1;
}

size_t timeline_rank(struct timeline *tl, const struct area **out, struct area_stats *st,
		     size_t max)
{
	struct timeline *mt = tl;
	size_t n = tl->nareas;

	if (n > mt->scratch_cap) {
		mt->scratch_cap = n * 2;
		mt->scratch_st = xreallocarray(mt->scratch_st, mt->scratch_cap, sizeof(*mt->scratch_st));
		mt->scratch_idx = xreallocarray(mt->scratch_idx, mt->scratch_cap, sizeof(*mt->scratch_idx));
	}
	for (size_t i = 0; i < n; i++) {
		timeline_area_stats(tl, &tl->areas[i], &mt->scratch_st[i]);
		mt->scratch_idx[i] = i;
	}
	sort_st = mt->scratch_st;
	sort_areas = tl->areas;
	if (max > n)
		max = n;
	if (max && max < n / 8) {
		/* Top K of many (each sample): keep a sorted prefix of K, insert what beats its last. */
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			size_t j;
			if (kept == max && cmp_rank(&i, &mt->scratch_idx[max - 1]) >= 0)
				continue;
			j = kept < max ? kept++ : max - 1;
			while (j > 0 && cmp_rank(&i, &mt->scratch_idx[j - 1]) < 0) {
				mt->scratch_idx[j] = mt->scratch_idx[j - 1];
				j--;
			}
			mt->scratch_idx[j] = i;
		}
	} else if (n) {
		qsort(mt->scratch_idx, n, sizeof(*mt->scratch_idx), cmp_rank);
	}
	for (size_t i = 0; i < max; i++) {
		out[i] = &tl->areas[mt->scratch_idx[i]];
		st[i] = mt->scratch_st[mt->scratch_idx[i]];
	}
	return max;
}
