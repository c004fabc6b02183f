/* out_table: aligned human tables. */
#ifndef RW_OUT_TABLE_H
#define RW_OUT_TABLE_H

#include <stdio.h>
#include "diff.h"
#include "sampler.h"
#include "timeline.h"

struct diff_table_opts {
	const char *name_a, *name_b;
	int all;
	uint64_t min_delta;
};

void out_table_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		    const struct diff_result *r, const struct diff_table_opts *o);

/* One watch sample or the final ranking, as both text and JSON show it. */
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
	size_t torn;                   /* torn records in this sample (summary: in all samples) */
	const struct area **areas;     /* ranked, best first */
	const struct area_stats *st;
	size_t n;                      /* entries in areas/st */
	size_t nareas;                 /* areas alive in total */
	uint64_t vanished;
	const char *end;               /* summary only: "count", "interrupted", "exited" */
};

void out_table_watch_sample(FILE *fp, const struct watch_view *v);
void out_table_watch_summary(FILE *fp, const struct watch_view *v);

#endif
