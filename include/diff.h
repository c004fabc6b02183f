/* diff: compare two snapshots by address overlap. */
#ifndef RW_DIFF_H
#define RW_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include "region.h"

enum diff_status { DIFF_ADDED, DIFF_REMOVED, DIFF_GROWN, DIFF_SHRUNK, DIFF_SAME };

/* One group of regions connected by address overlap across A and B: the VMAs that split,
 * merged or moved their boundary are one row. */
struct diff_row {
	uint64_t start, end;          /* union span of the group's regions */
	enum diff_status status;
	uint64_t size_a, size_b;
	uint64_t rss_a, rss_b;
	uint64_t anon_a, anon_b;
	uint64_t swap_a, swap_b;
	int64_t delta;                /* rss_b - rss_a */
	size_t nregions_a, nregions_b;
	const struct region *rep;     /* representative region (largest RSS, B preferred) */
	char perms[5];
};

struct diff_totals {
	uint64_t rss_a, rss_b, anon_a, anon_b, swap_a, swap_b, size_a, size_b;
	int anon_known, swap_known;   /* both snapshots carry the field */
	size_t regions_a, regions_b;
};

struct diff_result {
	struct diff_row *rows;
	size_t count;
	struct diff_totals totals;
};

enum diff_sort { DIFF_SORT_DELTA, DIFF_SORT_RSS, DIFF_SORT_ADDR };

/* Both snapshots must be sorted by address (the parser guarantees it). */
void diff_compute(const struct snapshot *a, const struct snapshot *b, struct diff_result *out);
/* diff_compute over regions that come one at a time, for inputs too large to hold: a source
 * gives its regions in address order (peek: *r the next, NULL at the end, borrowed until
 * pop; 0 or -errno). fn gets each row in address order, its rep borrowed for the call; a
 * nonzero return stops the diff and is returned. Memory: a row's representatives and tail,
 * whatever the row's size. t gets the totals except anon_known and swap_known, which the
 * caller knows from its inputs' fields. */
struct diff_source {
	int (*peek)(void *ctx, const struct region **r);
	void (*pop)(void *ctx);
	void *ctx;
};
typedef int (*diff_row_fn)(void *ctx, const struct diff_row *row);
int diff_stream(const struct diff_source *a, const struct diff_source *b, diff_row_fn fn,
		void *ctx, struct diff_totals *t);
void diff_sort(struct diff_result *r, enum diff_sort how);
void diff_free(struct diff_result *r);
const char *diff_status_name(enum diff_status s);
/* A row passes the filters shared by table and JSON output: changed rows only unless all;
 * |delta| >= min_delta when min_delta is set. */
int diff_row_shown(const struct diff_row *row, int all, uint64_t min_delta);

#endif
