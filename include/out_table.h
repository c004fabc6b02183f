/* out_table: aligned human tables. */
#ifndef RW_OUT_TABLE_H
#define RW_OUT_TABLE_H

#include <stdio.h>
#include "diff.h"
#include "watch.h"

struct diff_table_opts {
	const char *name_a, *name_b;
	int all;
	uint64_t min_delta;
};

void out_table_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		    const struct diff_result *r, const struct diff_table_opts *o);
/* The same table in pieces, for rows kept outside a diff_result: the head (inputs, with
 * the region counts of t), each shown row (aw: the widest out_table_diff_width of them;
 * *shown counts rows and puts the column header before the first), the foot. */
int out_table_diff_width(const struct diff_row *row);
void out_table_diff_head(FILE *fp, const struct snapshot *a, const struct snapshot *b,
			 const struct diff_totals *t, const struct diff_table_opts *o);
void out_table_diff_row(FILE *fp, const struct diff_row *row, int aw, size_t *shown);
void out_table_diff_foot(FILE *fp, const struct snapshot *a, const struct snapshot *b,
			 const struct diff_totals *t, size_t shown, size_t hidden,
			 const struct diff_table_opts *o);

void out_table_watch_sample(FILE *fp, const struct watch_view *v);
void out_table_watch_summary(FILE *fp, const struct watch_view *v);

struct unwind_thread;
/* stacks text: 'thread TID (NAME) state S, stack START-END', then its frames innermost
 * first, and why unwinding stopped (used by `stacks` and the trigger action `stacks`). */
void out_table_stacks(FILE *fp, const struct unwind_thread *v, size_t n);

#endif
