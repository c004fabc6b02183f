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

void out_table_watch_sample(FILE *fp, const struct watch_view *v);
void out_table_watch_summary(FILE *fp, const struct watch_view *v);

#endif
