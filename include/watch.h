/* watch: the live model of one process (design §3): the sampler, the timeline, the ranked
 * rows, the baseline, the memory limit and the cost budget. Used by `watch`,
 * `dump --region top` and the monitor; later by triggers and metrics. It never prints. */
#ifndef RW_WATCH_H
#define RW_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sampler.h"
#include "goinfo.h"
#include "pool.h"
#include "timeline.h"
#include "util.h"

#define WATCH_MAX_COST_DEFAULT 5.0   /* percent of one core */

struct watch_opts {
	pid_t pid;
	double interval;              /* seconds between samples, as asked */
	double window;                /* seconds of statistics */
	double max_cost;              /* percent of one core a sample may cost before the
	                               * interval stretches (0: never stretch) */
};

struct inspect_growth;

/* One watch sample or the final ranking, as the text table, JSON and the monitor show it. */
struct watch_view {
	int pid;
	const char *comm;
	uint64_t seq;                  /* samples taken so far */
	double elapsed;                /* seconds since the first sample */
	double window_s;               /* seconds covered by the statistics */
	size_t window_samples;
	struct totals_stats tot;
	struct mem_limit lim;
	double cost_ms;                /* own CPU time of this sample */
	double interval;               /* seconds to the next sample, stretched or as asked */
	int stretched;                 /* the interval was stretched by the cost budget */
	double max_cost;               /* the budget, percent of one core */
	size_t torn;                   /* torn records in this sample (summary: in all samples) */
	const struct area **areas;     /* ranked, best first; a pool's row is its summed area */
	const struct area_stats *st;
	const struct pool *const *pools; /* per row: the pool it is, or NULL for one area */
	size_t n;                      /* entries in areas/st */
	size_t nareas;                 /* areas alive in total */
	uint64_t vanished;
	const char *end;               /* summary only: "count", "interrupted", "exited" */
	/* A Go program (goinfo): which grows, the Go heap or native memory */
	const struct goinfo *go;       /* NULL when not Go */
	int64_t goroutines, goroutines_first;   /* -1 when unknown */
	double go_heap_rate, native_rate;       /* bytes/s: go-heap areas; [heap] + arenas */
	/* summary with --content: what the first ncontent rows' new pages hold */
	int content_asked;
	const struct inspect_growth *content;  /* [ncontent], for the rows content_rows[] */
	const size_t *content_rows;
	size_t ncontent;
	const char *content_note;      /* why there is no content (NULL: there is, or not asked) */
	uint64_t content_budget;
	int content_histogram;         /* --histogram: the text shows the histogram too */
	uint64_t triggers_total;       /* --trigger firings so far (set by trigger_eval) */
};

/* The verdict in words for a Go program ("Go heap flat, glibc malloc +3.1M/s: native
 * (cgo/C) memory, which Go's pprof does not see"); "" when not Go or too early. */
const char *watch_go_verdict(const struct watch_view *v, char *out, size_t outlen);

struct watch_baseline {
	uint64_t id, rss;
};

struct watch_id_slot {
	uint64_t id;                   /* 0: empty (area ids count from 1; pool rows' have bit 63) */
	size_t idx;                    /* into tl.areas, or pools.pools for a pool row's id */
};

struct watch {
	struct watch_opts o;
	struct sampler sm;
	struct timeline tl;
	int exited;                    /* the process exited (or was replaced) */
	double t0, t_last;             /* monotonic times of the first and the latest sample */
	double cost_ms;                /* own CPU time of the latest step and the ranks after it */
	double cost_avg_ms;            /* moving average of cost_ms over the steps before it */
	size_t torn_total;
	struct totals_stats tot;       /* of the latest sample */
	struct mem_limit lim;
	/* Rows of the latest sample, ranked best first (watch_rank): pools whose growth is
	 * spread over their members, and the areas that no such pool holds. */
	const struct area **rank;
	struct area_stats *rank_st;
	const struct pool **rank_pool;   /* per row: its pool, or NULL */
	size_t nrank, rank_cap;
	struct pool_set pools;
	struct goinfo go;                /* read at the first sample */
	int64_t goroutines, goroutines_first;
	double go_heap_rate, native_rate;
	const struct area **scratch;     /* areas ranked before pools are merged in */
	struct area_stats *scratch_st;
	size_t scratch_cap;
	/* RSS per area id at the baseline (the first sample, or watch_set_baseline) */
	struct watch_baseline *base;
	size_t nbase;
	double base_time;
	/* id -> area or pool row (watch_find_area, watch_find_pool): an open-addressing hash
	 * of the latest sample's areas and pool rows, rebuilt on the first lookup after a new
	 * sample (areas move in memory and are born and vanish at every timeline_add) */
	struct watch_id_slot *ids;
	size_t ids_cap;                  /* slots, a power of two (0: none) */
	uint64_t ids_seq;                /* timeline seq it was built for (0: never) */
	const struct area *ids_areas;    /* the area array it indexes */
};

/* Open the process and size the timeline for o->window / o->interval. Takes no sample. */
int watch_open(struct watch *w, const struct watch_opts *o, struct rw_err *err);
void watch_close(struct watch *w);

/* Take one sample, add it to the timeline, refresh totals and the limit. The first sample
 * is the baseline.
 * Returns 0, -ESRCH when the process has exited (w->exited), or -errno. */
int watch_step(struct watch *w, struct rw_err *err);

/* Rank the rows of the latest sample, best first, into w->rank / w->rank_st / rank_pool:
 * the first max of them (all with max = SIZE_MAX). A row is a pool whose growth is spread
 * over its members (pool.h; its members are then not rows of their own) or one area.
 * Returns how many. */
size_t watch_rank(struct watch *w, size_t max);

/* Seconds to wait before the next step: o.interval, stretched while steps (with their
 * ranking; a moving average, so one dear sample does not stall the next) cost more than
 * o.max_cost percent of one core. */
double watch_interval(const struct watch *w);
/* The same rule for several watches under one budget (watch -p A,B, --cgroup): the sum of
 * their watch_cost_avg against o->max_cost. */
double watch_interval_for(const struct watch_opts *o, double cost_avg_ms);
/* The moving average of the cost of the steps so far (ms). */
double watch_cost_avg(const struct watch *w);

/* The baseline is now: deltas (watch_baseline_rss) are measured from the latest sample. */
void watch_set_baseline(struct watch *w);
/* RSS of area id at the baseline; *found 0 when the area was born after it. */
uint64_t watch_baseline_rss(const struct watch *w, uint64_t id, int *found);

/* After watch_rank: the first ranked row if it grows (score > 0), or NULL: "nothing
 * grows" (rows are ranked by score, so no later row grows either). */
const struct area *watch_top_growing(const struct watch *w, const struct area_stats **st);

/* The pool whose row this is (from the latest watch_rank), or NULL for an area. */
const struct pool *watch_row_pool(const struct watch *w, const struct area *row);
/* A pool's member that grew most over the window (NULL for no members). */
const struct area *watch_pool_top_member(const struct watch *w, const struct pool *p);

/* The area with this id in the latest sample, or NULL (never seen, vanished, or merged into
 * an older one, whose id it now carries). O(1): a hash rebuilt, O(areas), on the first
 * lookup after each watch_step. The pointer is valid until the next watch_step. */
const struct area *watch_find_area(struct watch *w, uint64_t id);
/* The pool whose row has this id (pool.c: stable across samples) in the latest sample,
 * whether it is ranked as a row or not, or NULL (no such pool, or under two members: no
 * row). Builds the pool set for the latest sample first if it is not (pool_set_build), so
 * its members are the latest sample's areas. Valid until the next watch_step. */
const struct pool *watch_find_pool(struct watch *w, uint64_t row_id);

/* Fill v from the latest step and the rows of the latest watch_rank. */
void watch_fill_view(const struct watch *w, struct watch_view *v);

#endif
