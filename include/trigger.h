/* trigger: `watch --trigger EXPR`: conditions on the ranked rows (or the whole process)
 * tested after each sample, and what a firing does (--on-trigger dump,stacks,report) within
 * bounds: --max-triggers firings with actions, a cooldown per expression, a disk budget
 * that checks free space before it writes. The grammar (regionwatch(1), TRIGGERS):
 *
 *   trigger  = [ "process:" ] cond
 *   cond     = "growth" ">" size "/" duration     RSS now minus RSS at most duration ago
 *            | "rss"    ">" size                  resident bytes now
 *            | "rate"   ">" size "/" unit         least-squares rate over watch's --window
 *            | "ttl"    "<" duration              headroom to the memory limit / rate
 *   size     = number [ "K" | "M" | "G" | "T" ] [ "i" ] [ "B" ]   binary units, any case
 *   duration = number unit                         unit = "s" | "m" | "h"
 *   number   = digits [ "." digits ]
 *
 * A row is followed by its identity: an area's id (stable while the area lives, through
 * VMA splits, merges and boundary moves) or a pool's (its kind, and a file pool's path).
 * The history is bounded: TRIGGER_FOLLOW rows, TRIGGER_POINTS points per longest growth
 * window. Writes only into --out DIR; never prints but its event lines (to the FILE given
 * to trigger_open) and one-line notes on stderr through the caller's name. */
#ifndef RW_TRIGGER_H
#define RW_TRIGGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "inspect.h"
#include "util.h"

struct watch;
struct watch_view;
struct area;
struct area_stats;
struct pool;

enum trigger_metric { TRIGGER_GROWTH, TRIGGER_RSS, TRIGGER_RATE, TRIGGER_TTL };

#define TRIGGER_MAX_EXPRS 16
#define TRIGGER_FOLLOW 64                 /* rows whose history is kept */
#define TRIGGER_POINTS 64                 /* history points per longest growth window */
#define TRIGGER_MAX_DEFAULT 3             /* --max-triggers */
#define TRIGGER_COOLDOWN_DEFAULT 600.0    /* --trigger-cooldown, seconds */
#define TRIGGER_BUDGET_DEFAULT (1ull << 30)   /* --out-budget */
#define TRIGGER_KEEP_FREE_PCT 5           /* free space kept: 5 % of the filesystem ... */
#define TRIGGER_KEEP_FREE_MAX (256ull << 20)  /* ... but at most 256 MiB */
#define TRIGGER_SMALL_FILES (256ull << 10)    /* room kept for the census, stacks, event */
#define TRIGGER_MIN_DUMP (64ull << 10)        /* a dump smaller than this room is refused */

#define TRIGGER_ACT_DUMP 1u
#define TRIGGER_ACT_STACKS 2u
#define TRIGGER_ACT_REPORT 4u

struct trigger_expr {
	const char *text;             /* as given (borrowed from argv) */
	int process;                  /* "process:": the process's totals, not a row */
	enum trigger_metric metric;
	double threshold;             /* bytes, bytes/s or seconds */
	double window;                /* growth: seconds */
	double last_fire;             /* monotonic time of its last firing; < 0: never */
	uint64_t fired;
};

/* One firing, as its event line says it. */
struct trigger_event {
	uint64_t n;                   /* firing number in this watch, from 1 */
	int pid;
	const char *comm;
	uint64_t seq;                 /* the sample it fired on */
	double elapsed;               /* seconds since the first sample */
	const struct trigger_expr *expr;
	double value;                 /* in the metric's unit (see trigger_unit) */
	double covered;               /* growth: seconds the value covers (<= the window) */
	const struct area *row;       /* NULL: process-wide */
	const struct area_stats *st;
	const struct pool *pool;      /* the row's pool, or NULL */
	const char *actions[3];       /* the actions taken (their files complete) */
	size_t nactions;
	const char *dir;              /* DIR/<name> of its files, or NULL */
	const char *files[24];        /* names inside dir */
	size_t nfiles;
	char note[400];               /* what was not done and why ("" when all was) */
};

const char *trigger_metric_name(enum trigger_metric m);
/* "bytes", "bytes_per_s" or "seconds" */
const char *trigger_unit(enum trigger_metric m);

/* The report action: called with the event (dir and files set when other actions wrote
 * them). 0, or -errno. NULL: `report` is refused at option time. */
typedef int (*trigger_report_fn)(void *ctx, const struct trigger_event *ev);

struct trigger_row;

struct trigger_set {
	struct trigger_expr exprs[TRIGGER_MAX_EXPRS];
	size_t nexprs;
	unsigned actions;             /* TRIGGER_ACT_* */
	const char *out_dir;
	unsigned long max_triggers;
	double cooldown;
	uint64_t out_budget;
	trigger_report_fn on_report;
	void *report_ctx;
	/* state */
	struct trigger_set *shared;   /* several processes: the set holding the limits'
	                               * counters (acted, written, max_said, fired_all);
	                               * NULL: this one */
	uint64_t fired_all;           /* firings of every process (event numbers) */
	const char *name;             /* the command's name for messages ("watch") */
	FILE *out;
	int json;
	uint64_t fired;               /* this process's firings (regionwatch_triggers_total) */
	uint64_t acted;               /* firings that took actions */
	uint64_t written;             /* bytes written into out_dir so far */
	int max_said;
	double max_window;            /* longest growth window: the history's span */
	struct trigger_row *rows;     /* [TRIGGER_FOLLOW] */
	struct trigger_row *proc;     /* the process's total RSS */
	int have_base;
	struct inspect_baseline base; /* present pages at the first sample (dump action) */
};

void trigger_init(struct trigger_set *ts);

/* Options of watch, by which (TRIGGER_OPT_*): the expression (repeatable), the actions
 * list, the directory, --max-triggers, --trigger-cooldown, --out-budget. 0, or -EINVAL
 * with err set to a one-line message naming the option (and the column, for a grammar
 * error). */
enum { TRIGGER_OPT_EXPR, TRIGGER_OPT_ACTIONS, TRIGGER_OPT_OUT, TRIGGER_OPT_MAX,
       TRIGGER_OPT_COOLDOWN, TRIGGER_OPT_BUDGET, TRIGGER_OPT_COUNT };
int trigger_option(struct trigger_set *ts, int which, const char *arg, struct rw_err *err);

/* Parse one expression into e (e->text = s). 0, or -EINVAL with err: "column N: ...". */
int trigger_parse(const char *s, struct trigger_expr *e, struct rw_err *err);

/* After the options: they fit together, --out DIR is a writable directory when an action
 * writes files, `report` has on_report. -EINVAL (a usage error) or -errno (DIR) with err. */
int trigger_check(struct trigger_set *ts, trigger_report_fn on_report, void *report_ctx,
		  struct rw_err *err);

/* Any --trigger given. */
int trigger_active(const struct trigger_set *ts);

/* Before the first sample: where event lines go (text, or JSON Lines with json). */
void trigger_open(struct trigger_set *ts, const char *name, FILE *out, int json);

/* After each sample's watch_rank and watch_fill_view: follow the rows, test every
 * expression, fire (event line, actions) and set v->triggers_total. The first call
 * records the present-page baseline the dump action needs. Returns firings this call. */
size_t trigger_eval(struct trigger_set *ts, struct watch *w, struct watch_view *v);

/* A set of its own for one process of several (watch -p A,B, --cgroup): tmpl's options,
 * a history, baseline and cooldowns of its own, the limits (--max-triggers, --out-budget,
 * event numbers) counted in tmpl. report_ctx: passed to on_report. Then trigger_open. */
void trigger_fork(struct trigger_set *tmpl, struct trigger_set *ts, void *report_ctx);

/* The text event line ("trigger N: 'EXPR' fired on ...\n"), as watch prints it. */
void trigger_event_text(FILE *out, const struct trigger_event *ev);

void trigger_close(struct trigger_set *ts);

#endif
