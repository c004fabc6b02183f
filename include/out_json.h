/* out_json: JSON documents (the only includer of jansson). */
#ifndef RW_OUT_JSON_H
#define RW_OUT_JSON_H

#include <stdio.h>
#include "diff.h"
#include "out_table.h"
#include "region.h"

struct diff_json_opts {
	const char *name_a, *name_b;
	int all;                      /* include rows with status same */
	uint64_t min_delta;
};

int out_json_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		  const struct diff_result *r, const struct diff_json_opts *o);

/* JSON Lines: one {"type":"sample"} per sample, then one {"type":"summary"}. */
int out_json_watch_sample(FILE *fp, const struct watch_view *v);
int out_json_watch_summary(FILE *fp, const struct watch_view *v);

#endif
