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

/* Points kept per chart line (the process's RSS, anon, swap and each row's). When full,
 * every other point is dropped and one sample in twice as many is kept from then on: at
 * -i 1, full resolution for 8.5 minutes, a point per 2 s up to 17 minutes, and so on. */
#define REPORT_POINTS 512
#define REPORT_TRACK 8             /* rows of each sample whose RSS is kept */
#define REPORT_SERIES_MAX 24       /* row histories kept (the longest out of the top rows
                                    * gives its slot to a new one) */
#define REPORT_CHART_ROWS 5        /* rows charted: the first of the view written */
#define REPORT_TABLE_ROWS 50       /* rows in the table */
#define REPORT_MEMBERS_SHOWN 16    /* members listed per pool row */
#define REPORT_EVENTS_MAX 64       /* events kept: the first REPORT_EVENTS_FIRST and the */
#define REPORT_EVENTS_FIRST 8      /* latest ones */
#define REPORT_STACKS_MAX (64 * 1024)  /* bytes of stacks text kept per event */

/* argc/argv: the command line as given (shown escaped and shell-quoted); argv[0] is the
 * program or the subcommand's name ("watch"), after "regionwatch". Reads uname(2). */
struct report *report_new(int argc, char **argv);
void report_free(struct report *r);

/* After each sample: the process totals and the RSS of the first REPORT_TRACK rows of v
 * (areas by id, pools by kind and name). The first call fixes the start time. */
void report_add_sample(struct report *r, const struct watch_view *v);
/* Points kept so far, and one point per *stride samples (for tests and --help's claims). */
size_t report_points(const struct report *r, uint64_t *stride);

/* Evidence taken along the way: a trigger's event line (text) and, when it took them,
 * the stacks text (as printed by `regionwatch stacks`; NULL for none). Copied; elapsed
 * is seconds since the first sample (the view's elapsed), drawn as a marker E1, E2 ...
 * on the charts. */
void report_add_event(struct report *r, double elapsed, const char *line, const char *stacks);

/* Write the report of v (the latest sample's rows, or the summary's, with content when
 * v carries it) to path, atomically: the page is formatted in memory, written to a
 * temporary file in path's directory, fsync'd and renamed over path (mode 0600: it may
 * hold strings from the target). May be called again: each call replaces the file.
 * 0, or -errno with err set ("report PATH: writing: No space left on device"); on error
 * nothing is left at path that was not there before. */
int report_write(struct report *r, const struct watch_view *v, const char *path,
		 struct rw_err *err);

#endif
