/* timeline: the last N snapshots of one process, grouped into areas that survive VMA
 * split/merge and boundary moves, with growth statistics and a suspicion score. No I/O. */
#ifndef RW_TIMELINE_H
#define RW_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include "region.h"

enum trend { TREND_FLAT, TREND_GROWING, TREND_SAWTOOTH, TREND_SHRINKING };

/* Ring entries are RSS in KiB (what smaps prints): 4 bytes a sample, up to 4 TiB an area. */
#define TL_ABSENT UINT32_MAX
/* Samples kept at most: the window is shortened to this many intervals when longer. */
#define TL_MAX_SAMPLES 512

/* What a person thinks of as "the same memory" across samples. */
struct area {
	uint64_t id;                 /* stable for the life of the area */
	uint64_t start, end;         /* span in the latest sample it was seen in */
	uint64_t size;               /* summed VMA sizes in that sample */
	uint64_t born_seq;           /* sample number it appeared in */
	uint64_t last_seq;           /* last sample it was seen in */
	uint64_t changed_seq;        /* last sample whose RSS differed from the one before */
	uint8_t kind;                /* of its largest-RSS region, latest sample */
	char perms[5];
	char *path;                  /* owned copy */
	size_t nvmas;                /* VMAs in the latest sample */
	/* RSS in KiB per sample: ring[cap], TL_ABSENT where absent; or NULL while the area's RSS
	 * has been rss_const in every sample of the window since born_seq (most areas never
	 * change: 60,000 of them would otherwise hold 120 MiB of identical rings). Read it with
	 * timeline_area_rss. */
	uint32_t *rss;
	uint32_t rss_const;
};

struct area_stats {
	size_t samples;              /* samples in the window where the area was present */
	uint64_t rss_first, rss_last, rss_min, rss_max;
	int64_t delta;               /* last - first */
	double rate;                 /* least-squares slope, bytes/s */
	double r2;                   /* coefficient of determination of that fit, 0..1 */
	double monotonic;            /* share of intervals without a decrease, 0..1 */
	enum trend trend;
	double score;
};

struct totals_stats {
	uint64_t rss, anon, swap;                 /* latest sample */
	uint64_t rss_first, anon_first, swap_first;
	double rss_rate, anon_rate, swap_rate;    /* bytes/s, least squares over the window */
	enum trend rss_trend;                     /* of the total RSS, as an area's trend */
};

struct timeline {
	size_t cap;                  /* ring length (samples kept) */
	uint64_t seq;                /* samples added so far */
	double *times;               /* ring[cap]: seconds (monotonic) */
	uint64_t *tot_rss, *tot_anon, *tot_swap;  /* ring[cap] */
	struct area *areas;          /* sorted by start; spans are disjoint */
	size_t nareas, areas_cap;
	struct area *next;           /* scratch for the next sample (double buffer) */
	size_t next_cap;
	uint64_t next_id;
	uint64_t vanished;           /* areas that disappeared so far */
	uint32_t **free_rings;       /* recycled rss rings */
	size_t nfree, free_cap;
	struct area_stats *scratch_st; /* ranking scratch, grown as areas grow */
	size_t *scratch_idx;
	size_t scratch_cap;
	double *series_t;            /* [cap] scratch for one area's series */
	uint64_t *series_v;
};

/* cap: number of samples kept (the window divided by the interval, plus one); clamped to
 * [2, TL_MAX_SAMPLES]. */
void timeline_init(struct timeline *tl, size_t cap);
void timeline_free(struct timeline *tl);

/* Add one snapshot (classified) taken at monotonic time t. */
void timeline_add(struct timeline *tl, const struct snapshot *s, double t);

/* RSS in bytes of area a in sample seq, or UINT64_MAX when absent or out of the ring. */
uint64_t timeline_area_rss(const struct timeline *tl, const struct area *a, uint64_t seq);

/* Statistics of one area over the samples in the ring. */
void timeline_area_stats(const struct timeline *tl, const struct area *a, struct area_stats *st);
void timeline_totals(const struct timeline *tl, struct totals_stats *st);

/* Samples in the window (min(seq, cap)) and its length in seconds. */
size_t timeline_window_samples(const struct timeline *tl);
double timeline_window_seconds(const struct timeline *tl);

/* Areas present in the latest sample, ranked by score (best first), with their stats.
 * Fills up to max entries of out/st; returns how many. */
size_t timeline_rank(struct timeline *tl, const struct area **out, struct area_stats *st,
		     size_t max);

const char *trend_name(enum trend t);

/* Growth-trend classification of one RSS series (exposed for tests). */
void timeline_series_stats(const double *t, const uint64_t *rss, size_t n, struct area_stats *st);

#endif
