/* report: one self-contained HTML file of a watch (inline SVG charts, no scripts, no
 * external assets): RSS over time of the process and its top rows, the verdicts, the pools
 * and what grew, stacks where they were taken, trigger events, the command line, host,
 * kernel and times. Written atomically (temporary file, fsync, rename) at the end of a
 * watch and by the `report` trigger action. Its history is bounded: samples are thinned
 * as a long watch goes on, so hours cost the same memory as minutes. */
#ifndef RW_REPORT_H
#define RW_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct watch_view;
struct report;

/* argc/argv: the command line as given (shown escaped). */
struct report *report_new(int argc, char **argv);
void report_free(struct report *r);

/* After each sample: the process totals and the RSS of the first rows of v. */
void report_add_sample(struct report *r, const struct watch_view *v);

/* Evidence taken along the way: a trigger's event line (text) and, when it took them,
 * the stacks text (as printed by `regionwatch stacks`). Copied. */
void report_add_event(struct report *r, double elapsed, const char *line, const char *stacks);

/* Write the report of v (the latest sample's rows, or the summary's, with content when
 * v carries it) to path, atomically. 0, or -errno with err set; on error nothing is
 * left at path that was not there before. */
int report_write(struct report *r, const struct watch_view *v, const char *path,
		 struct rw_err *err);

#endif
