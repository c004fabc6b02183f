/* out_json: JSON documents (the only includer of jansson). */
#ifndef RW_OUT_JSON_H
#define RW_OUT_JSON_H

#include <stdio.h>
#include "diff.h"
#include "analysis.h"
#include "memread.h"
#include "out_table.h"
#include "region.h"

struct diff_json_opts {
	const char *name_a, *name_b;
	int all;                      /* include rows with status same */
	uint64_t min_delta;
};

int out_json_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		  const struct diff_result *r, const struct diff_json_opts *o);
/* The same document in pieces, rows written as they are made: begin, a row at a time (first
 * set for the first), end with the inputs (their meta and counts) and totals. A diff that
 * fails midway writes no end, so what was written does not parse as a document. */
int out_json_diff_begin(FILE *fp);
int out_json_diff_row(FILE *fp, const struct diff_row *row, int anon_known, int swap_known,
		      int first);
int out_json_diff_end(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		      const struct diff_totals *t, const struct diff_json_opts *o);

/* JSON Lines: one {"type":"sample"} per sample, then one {"type":"summary"}. */
int out_json_watch_sample(FILE *fp, const struct watch_view *v);
int out_json_watch_summary(FILE *fp, const struct watch_view *v);
/* watch --cgroup: before each sample's process lines, the cgroup and how many it holds. */
int out_json_watch_cgroup(FILE *fp, const char *path, uint64_t seq, size_t nprocs);

/* What was read, for dump --json and the dump manifest. */
struct dump_info {
	int pid;                       /* 0 for analyze */
	const char *comm;
	const char *file;              /* dump file or analyzed file, or NULL */
	uint64_t start, end;
	const char *perms, *path, *kind;
	double time;                   /* unix seconds */
	double read_ms, freeze_ms;     /* freeze_ms < 0: not frozen */
	const struct memread_stats *st;
	const uint64_t *runs;          /* [start, end) pairs, nruns of them */
	size_t nruns;
	uint64_t runs_total;
	int exited;
};

/* dump/analyze --json: one document with the read and every requested analysis. */
int out_json_dump(FILE *fp, const struct dump_info *d, struct analysis *a);
/* FILE.json beside a dump file. */
int out_json_manifest(FILE *fp, const struct dump_info *d);

struct unwind_thread;          /* unwind.h */

/* stacks --json: {"type":"stacks","pid","comm","frozen_ms","threads":[{"tid","comm","state",
 * "sp","stack":{"start","end"}|null,"frames":[{"ip","function","offset","module"}],
 * "truncated","truncated_by","error"}]}. */
int out_json_stacks(FILE *fp, int pid, const char *comm, double frozen_ms,
		    const struct unwind_thread *threads, size_t count);

struct inspect_growth;         /* inspect.h */
struct trigger_event;          /* trigger.h */

/* The content census of one row's new pages (the "content" object of watch --content's
 * summary rows) as one document: the trigger action dump's census.json. */
int out_json_growth(FILE *fp, const struct inspect_growth *g, uint64_t budget);

/* watch --json, one line per trigger firing: {"type":"event","event":"trigger","n","pid",
 * "comm","seq","elapsed_s","expr","scope","metric","value","threshold","unit","window_s",
 * "covered_s","row":{...}|null,"actions":[...],"dir","files":[...],"note"}. */
int out_json_trigger_event(FILE *fp, const struct trigger_event *ev);

#endif
