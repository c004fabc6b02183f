/* trigger: conditions tested after each watch sample, their bounded history, and the
 * actions of a firing (a sparse dump of the row's new pages with its manifest and census,
 * the threads' stacks, the report), written into one directory that is renamed into place
 * only when complete. See trigger.h for the grammar and regionwatch(1), TRIGGERS. */
#include "trigger.h"
#include "dumpfile.h"
#include "inspect.h"
#include "memread.h"
#include "out_json.h"
#include "out_table.h"
#include "stacks.h"
#include "watch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define RING (TRIGGER_POINTS + 2)
#define DUMP_MAX_FILES 16             /* a pool's members dumped, one file each */

struct trigger_point {
	double t;
	uint64_t rss;
};

/* A followed row: its identity (the area's id, or the pool row's stable id) and its RSS at
 * points at least max_window / TRIGGER_POINTS apart, over the longest growth window. */
struct trigger_row {
	int used;
	uint64_t id;
	uint64_t ranked_seq;           /* the last sample it was ranked in */
	uint64_t cur;                  /* RSS in the latest sample */
	double cur_t;
	struct trigger_point pts[RING];
	size_t head, n;
};

const char *trigger_metric_name(enum trigger_metric m)
{
	static const char *const names[] = { "growth", "rss", "rate", "ttl" };
	return (unsigned)m < 4 ? names[m] : "?";
}

const char *trigger_unit(enum trigger_metric m)
{
	return m == TRIGGER_RATE ? "bytes_per_s" : m == TRIGGER_TTL ? "seconds" : "bytes";
}

void trigger_init(struct trigger_set *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->max_triggers = TRIGGER_MAX_DEFAULT;
	ts->cooldown = TRIGGER_COOLDOWN_DEFAULT;
	ts->out_budget = TRIGGER_BUDGET_DEFAULT;
	ts->out = stdout;
	ts->name = "watch";
}

int trigger_active(const struct trigger_set *ts)
{
	return ts->nexprs > 0;
}

/* ---- the grammar ------------------------------------------------------------------- */

static int perr(struct rw_err *err, const char *s, const char *at, const char *fmt, ...)
	RW_PRINTF(4, 5);

static int perr(struct rw_err *err, const char *s, const char *at, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rw_err_set(err, EINVAL, "column %d: %s", (int)(at - s) + 1, msg);
}

static void skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* digits [ "." digits ]; -1 when no digit is at *p */
static int parse_number(const char **p, double *v)
{
	const char *c = *p;
	double x = 0, scale = 1;

	if (!isdigit((unsigned char)*c))
		return -1;
	while (isdigit((unsigned char)*c))
		x = x * 10 + (*c++ - '0');
	if (*c == '.' && isdigit((unsigned char)c[1])) {
		c++;
		while (isdigit((unsigned char)*c)) {
			scale /= 10;
			x += (*c++ - '0') * scale;
		}
	}
	*v = x;
	*p = c;
	return 0;
}

static const char *show_char(char c, char *buf)
{
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char)c);
	return buf;
}

static int parse_size_at(const char *s, const char **p, double *out, struct rw_err *err)
{
	double v, mult = 1;
	char cb[8];

	if (parse_number(p, &v))
		return perr(err, s, *p, **p ? "expected a size (such as 512K, 200M or 2G), not %s"
					    : "expected a size (such as 512K, 200M or 2G) at the end",
			    show_char(**p, cb));
	switch (**p) {
	case 'k': case 'K': mult = 1024.0; break;
	case 'm': case 'M': mult = 1024.0 * 1024; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
	case 'b': case 'B': case '/': case ' ': case '\0': break;
	default:
		return perr(err, s, *p, "unknown size suffix %s (K, M, G or T)", show_char(**p, cb));
	}
	if (mult > 1) {
		(*p)++;
		if (**p == 'i')
			(*p)++;
	}
	if (**p == 'b' || **p == 'B')
		(*p)++;
	*out = v * mult;
	if (*out >= 18446744073709551615.0)
		return perr(err, s, *p, "size too large");
	return 0;
}

/* number unit, unit one of s, m, h; with need_number 0 the number may be left out (1). */
static int parse_duration_at(const char *s, const char **p, int need_number, double *out,
			     struct rw_err *err)
{
	double v = 1;
	char cb[8];

	if (parse_number(p, &v) && need_number)
		return perr(err, s, *p, **p ? "expected a duration (such as 30s, 10m or 2h), not %s"
					    : "expected a duration (such as 30s, 10m or 2h) at the end",
			    show_char(**p, cb));
	switch (**p) {
	case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case '\0':
		return perr(err, s, *p, "a duration needs its unit: s, m or h");
	default:
		return perr(err, s, *p, "unknown duration unit %s (s, m or h)", show_char(**p, cb));
	}
	(*p)++;
	if (!(v > 0))
		return perr(err, s, *p - 1, "a duration must be more than 0");
	if (v > 86400.0 * 366)
		return perr(err, s, *p - 1, "a duration must be at most a year");
	*out = v;
	return 0;
}

int trigger_parse(const char *s, struct trigger_expr *e, struct rw_err *err)
{
	const char *p = s, *w;
	char word[16], cb[8];
	size_t n;
	int rc;

	memset(e, 0, sizeof(*e));
	e->text = s;
	e->last_fire = -1;
	skip_space(&p);
	for (int pass = 0; pass < 2; pass++) {
		w = p;
		n = 0;
		while (isalpha((unsigned char)*p)) {
			if (n < sizeof(word) - 1)
				word[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		word[n] = 0;
		if (!n)
			return perr(err, s, w, *w ? "expected growth, rss, rate or ttl (or process:), not %s"
						  : "empty: expected growth, rss, rate or ttl",
				    show_char(*w, cb));
		if (*p != ':')
			break;
		if (pass || strcmp(word, "process"))
			return perr(err, s, w, "unknown scope '%s:' (the only one is process:)", word);
		e->process = 1;
		p++;
		skip_space(&p);
	}
	if (!strcmp(word, "growth"))
		e->metric = TRIGGER_GROWTH;
	else if (!strcmp(word, "rss"))
		e->metric = TRIGGER_RSS;
	else if (!strcmp(word, "rate"))
		e->metric = TRIGGER_RATE;
	else if (!strcmp(word, "ttl"))
		e->metric = TRIGGER_TTL;
	else
		return perr(err, s, w, "unknown condition '%s' (growth, rss, rate or ttl)", word);
	skip_space(&p);
	if (e->metric == TRIGGER_TTL && *p != '<')
		return perr(err, s, p, "ttl takes '<' (it fires when the time to the memory limit "
			    "falls below a duration)");
	if (e->metric != TRIGGER_TTL && *p != '>')
		return perr(err, s, p, "%s takes '>' (it fires above a threshold)", word);
	p++;
	skip_space(&p);
	switch (e->metric) {
	case TRIGGER_GROWTH:
	case TRIGGER_RATE:
		if ((rc = parse_size_at(s, &p, &e->threshold, err)))
			return rc;
		skip_space(&p);
		if (*p != '/')
			return perr(err, s, p, e->metric == TRIGGER_GROWTH
				    ? "growth needs its window: SIZE/DURATION, such as 200M/10m"
				    : "rate needs its unit of time: SIZE/s, SIZE/m or SIZE/h");
		p++;
		skip_space(&p);
		if ((rc = parse_duration_at(s, &p, e->metric == TRIGGER_GROWTH, &e->window, err)))
			return rc;
		if (e->metric == TRIGGER_RATE) {
			e->threshold /= e->window;      /* bytes/s */
			e->window = 0;
		}
		break;
	case TRIGGER_RSS:
		if ((rc = parse_size_at(s, &p, &e->threshold, err)))
			return rc;
		break;
	case TRIGGER_TTL:
		if ((rc = parse_duration_at(s, &p, 1, &e->threshold, err)))
			return rc;
		break;
	}
	skip_space(&p);
	if (*p)
		return perr(err, s, p, "unexpected %s after the expression", show_char(*p, cb));
	return 0;
}

/* ---- options ----------------------------------------------------------------------- */

static int opt_seconds(const char *arg, double *out)
{
	const char *p = arg;
	double v;

	if (parse_number(&p, &v))
		return -1;
	if (*p == 's')
		p++;
	else if (*p == 'm')
		v *= 60, p++;
	else if (*p == 'h')
		v *= 3600, p++;
	if (*p || v > 86400.0 * 366)
		return -1;
	*out = v;
	return 0;
}

int trigger_option(struct trigger_set *ts, int which, const char *arg, struct rw_err *err)
{
	char esc[300];
	uint64_t sz;
	double d;

	switch (which) {
	case TRIGGER_OPT_EXPR: {
		struct rw_err e;
		if (ts->nexprs == TRIGGER_MAX_EXPRS)
			return rw_err_set(err, EINVAL, "at most %d --trigger expressions", TRIGGER_MAX_EXPRS);
		if (trigger_parse(arg, &ts->exprs[ts->nexprs], &e))
			return rw_err_set(err, EINVAL, "--trigger '%s': %s",
					  escape_ctl(arg, esc, sizeof(esc)), e.msg);
		if (ts->exprs[ts->nexprs].metric == TRIGGER_GROWTH &&
		    ts->exprs[ts->nexprs].window > ts->max_window)
			ts->max_window = ts->exprs[ts->nexprs].window;
		ts->nexprs++;
		return 0;
	}
	case TRIGGER_OPT_ACTIONS: {
		const char *p = arg;
		ts->actions = 0;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (n == 4 && !strncmp(p, "dump", 4))
				ts->actions |= TRIGGER_ACT_DUMP;
			else if (n == 6 && !strncmp(p, "stacks", 6))
				ts->actions |= TRIGGER_ACT_STACKS;
			else if (n == 6 && !strncmp(p, "report", 6))
				ts->actions |= TRIGGER_ACT_REPORT;
			else
				return rw_err_set(err, EINVAL, "--on-trigger '%s': unknown action '%.*s' "
						  "(dump, stacks or report, separated by commas)",
						  escape_ctl(arg, esc, sizeof(esc)), (int)(n > 40 ? 40 : n), p);
			p += n;
			if (*p == ',' && *++p == '\0')
				break;
		}
		if (!ts->actions)
			return rw_err_set(err, EINVAL, "--on-trigger needs actions: dump, stacks or report");
		return 0;
	}
	case TRIGGER_OPT_OUT:
		if (!*arg)
			return rw_err_set(err, EINVAL, "--out needs a directory");
		ts->out_dir = arg;
		return 0;
	case TRIGGER_OPT_MAX: {
		char *end;
		unsigned long v;
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || v > 1000)
			return rw_err_set(err, EINVAL, "invalid --max-triggers '%s' (0 to 1000 firings "
					  "with actions)", escape_ctl(arg, esc, sizeof(esc)));
		ts->max_triggers = v;
		return 0;
	}
	case TRIGGER_OPT_COOLDOWN:
		if (opt_seconds(arg, &d))
			return rw_err_set(err, EINVAL, "invalid --trigger-cooldown '%s' (a duration such "
					  "as 30s, 10m or 1h; a bare number is seconds)",
					  escape_ctl(arg, esc, sizeof(esc)));
		ts->cooldown = d;
		return 0;
	case TRIGGER_OPT_BUDGET:
		if (parse_size(arg, &sz) || sz < (1u << 20))
			return rw_err_set(err, EINVAL, "invalid --out-budget '%s' (a size of at least 1M, "
					  "such as 512M or 4G)", escape_ctl(arg, esc, sizeof(esc)));
		ts->out_budget = sz;
		return 0;
	}
	return rw_err_set(err, EINVAL, "unknown trigger option");
}

int trigger_check(struct trigger_set *ts, trigger_report_fn on_report, void *report_ctx,
		  struct rw_err *err)
{
	struct stat st;
	char esc[300];

	ts->on_report = on_report;
	ts->report_ctx = report_ctx;
	if (!ts->nexprs) {
		if (ts->actions || ts->out_dir)
			return rw_err_set(err, EINVAL, "--on-trigger and --out go with --trigger EXPR");
		return 0;
	}
	if ((ts->actions & TRIGGER_ACT_REPORT) && !on_report)
		return rw_err_set(err, EINVAL, "--on-trigger report needs --report FILE.html");
	if (!(ts->actions & (TRIGGER_ACT_DUMP | TRIGGER_ACT_STACKS))) {
		if (ts->out_dir)
			return rw_err_set(err, EINVAL, "--out DIR is for the actions that write files "
					  "(--on-trigger dump or stacks)");
		return 0;
	}
	if (!ts->out_dir)
		return rw_err_set(err, EINVAL, "--on-trigger dump and stacks write files: give --out DIR");
	escape_ctl(ts->out_dir, esc, sizeof(esc));
	if (stat(ts->out_dir, &st) < 0)
		return rw_err_set(err, errno, "--out %s: %s (it must be an existing directory)", esc,
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rw_err_set(err, ENOTDIR, "--out %s: not a directory", esc);
	if (strlen(ts->out_dir) > PATH_MAX - 200)
		return rw_err_set(err, ENAMETOOLONG, "--out %s: the path is too long", esc);
	if (access(ts->out_dir, W_OK | X_OK) < 0)
		return rw_err_set(err, errno, "--out %s: not writable: %s", esc, strerror(errno));
	return 0;
}

void trigger_open(struct trigger_set *ts, const char *name, FILE *out, int json)
{
	ts->name = name ? name : "watch";
	ts->out = out;
	ts->json = json;
	if (!ts->nexprs)
		return;
	ts->rows = xcalloc(TRIGGER_FOLLOW, sizeof(*ts->rows));
	ts->proc = xcalloc(1, sizeof(*ts->proc));
}

void trigger_fork(struct trigger_set *tmpl, struct trigger_set *ts, void *report_ctx)
{
	*ts = *tmpl;
	ts->shared = tmpl;
	ts->report_ctx = report_ctx;
	ts->fired = 0;
	ts->rows = ts->proc = NULL;
	ts->have_base = 0;
	for (size_t i = 0; i < ts->nexprs; i++) {
		ts->exprs[i].last_fire = -1;
		ts->exprs[i].fired = 0;
	}
}

void trigger_close(struct trigger_set *ts)
{
	free(ts->rows);
	free(ts->proc);
	ts->rows = ts->proc = NULL;
	if (ts->have_base)
		inspect_baseline_free(&ts->base);
	ts->have_base = 0;
}

/* ---- history ----------------------------------------------------------------------- */

static void row_push(struct trigger_row *r, double t, uint64_t rss, double spacing)
{
	r->cur = rss;
	r->cur_t = t;
	if (r->n && t - r->pts[(r->head + r->n - 1) % RING].t < spacing)
		return;
	r->pts[(r->head + r->n) % RING] = (struct trigger_point){ t, rss };
	if (r->n < RING)
		r->n++;
	else
		r->head = (r->head + 1) % RING;
}

static double spacing(const struct trigger_set *ts)
{
	return ts->max_window / TRIGGER_POINTS;
}

/* A row seen for the first time: its past from the timeline (watch's --window), so a
 * row that enters the ranking late does not start from nothing. */
static void row_seed(struct trigger_set *ts, struct trigger_row *r, const struct watch *w,
		     const struct area *a)
{
	const struct timeline *tl = &w->tl;
	size_t n = timeline_window_samples(tl);
	double now = w->t_last;

	for (uint64_t seq = tl->seq - n; seq + 1 < tl->seq; seq++) {
		double t = tl->times[seq % tl->cap];
		uint64_t v = a ? timeline_area_rss(tl, a, seq) : tl->tot_rss[seq % tl->cap];
		if (v != UINT64_MAX && t >= now - ts->max_window - spacing(ts))
			row_push(r, t, v, spacing(ts));
	}
}

static struct trigger_row *row_find(struct trigger_set *ts, uint64_t id)
{
	for (size_t i = 0; i < TRIGGER_FOLLOW; i++)
		if (ts->rows[i].used && ts->rows[i].id == id)
			return &ts->rows[i];
	return NULL;
}

static struct trigger_row *row_add(struct trigger_set *ts, uint64_t id, uint64_t seq)
{
	struct trigger_row *victim = NULL;

	for (size_t i = 0; i < TRIGGER_FOLLOW; i++) {
		struct trigger_row *r = &ts->rows[i];
		if (!r->used) {
			victim = r;
			break;
		}
		if (r->ranked_seq != seq && (!victim || r->ranked_seq < victim->ranked_seq))
			victim = r;
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->id = id;
	return victim;
}

struct id_idx {
	uint64_t id;
	struct trigger_row *r;
};

static int cmp_id(const void *a, const void *b)
{
	const struct id_idx *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Follow the ranked rows, and bring the other followed rows up to date: an area by its id
 * among the areas of the latest sample, a pool by its row's id. A row not found vanished:
 * its history goes with it. */
static void follow(struct trigger_set *ts, const struct watch *w)
{
	uint64_t seq = w->tl.seq;
	double t = w->t_last, sp = spacing(ts);
	struct id_idx look[TRIGGER_FOLLOW];
	size_t nlook = 0, nr = w->nrank < TRIGGER_FOLLOW ? w->nrank : TRIGGER_FOLLOW;

	row_push(ts->proc, t, w->tot.rss, sp);
	for (size_t i = 0; i < nr; i++) {
		const struct area *a = w->rank[i];
		struct trigger_row *r = row_find(ts, a->id);
		if (!r) {
			r = row_add(ts, a->id, seq);
			if (!r)
				continue;
			row_seed(ts, r, w, a);
		}
		r->ranked_seq = seq;
		row_push(r, t, w->rank_st[i].rss_last, sp);
	}
	for (size_t i = 0; i < TRIGGER_FOLLOW; i++) {
		struct trigger_row *r = &ts->rows[i];
		int found = 0;
		if (!r->used || r->ranked_seq == seq)
			continue;
		if (!(r->id >> 63)) {
			look[nlook++] = (struct id_idx){ r->id, r };
			continue;
		}
		for (size_t k = 0; k < w->pools.npools; k++) {
			const struct pool *p = &w->pools.pools[k];
			if (p->nmembers >= 2 && p->row.id == r->id) {
				row_push(r, t, p->st.rss_last, sp);
				found = 1;
				break;
			}
		}
		if (!found)
			r->used = 0;
	}
	if (!nlook)
		return;
	qsort(look, nlook, sizeof(*look), cmp_id);
	for (size_t k = 0; k < nlook; k++)
		look[k].r->used = 0;             /* until found */
	for (size_t i = 0; i < w->tl.nareas; i++) {
		const struct area *a = &w->tl.areas[i];
		struct id_idx key = { a->id, NULL }, *hit;
		if (a->last_seq + 1 != seq)
			continue;
		hit = bsearch(&key, look, nlook, sizeof(*look), cmp_id);
		if (hit) {
			uint64_t v = timeline_area_rss(&w->tl, a, seq - 1);
			hit->r->used = 1;
			if (v != UINT64_MAX)
				row_push(hit->r, t, v, sp);
		}
	}
}

/* growth over the last `window` seconds: RSS now minus RSS at the oldest point within it
 * (the row's first, when it was followed for less). 0 with *covered 0 when there is none. */
static double row_growth(const struct trigger_row *r, double window, double *covered)
{
	*covered = 0;
	for (size_t k = 0; k < r->n; k++) {
		const struct trigger_point *p = &r->pts[(r->head + k) % RING];
		if (p->t >= r->cur_t - window - 1e-6) {
			if (p->t >= r->cur_t)
				return 0;
			*covered = r->cur_t - p->t;
			return (double)r->cur - (double)p->rss;
		}
	}
	return 0;
}

/* The value of e for a row (st, hist) or the process (st NULL); 0 when it cannot be known
 * yet (too few samples, no limit, not growing). */
static int value_of(const struct trigger_expr *e, const struct watch *w, const struct area_stats *st,
		    const struct trigger_row *hist, double *value, double *covered)
{
	size_t ws = timeline_window_samples(&w->tl);
	double rate = st ? st->rate : w->tot.rss_rate;
	enum trend trend = st ? st->trend : w->tot.rss_trend;

	*covered = 0;
	switch (e->metric) {
	case TRIGGER_GROWTH:
		if (!hist)
			return 0;
		*value = row_growth(hist, e->window, covered);
		return *covered > 0;
	case TRIGGER_RSS:
		*value = (double)(st ? st->rss_last : w->tot.rss);
		return 1;
	case TRIGGER_RATE:
		if ((st ? st->samples : ws) < 3)
			return 0;
		*value = rate;
		return 1;
	case TRIGGER_TTL:
		if (!w->lim.kind || !(rate > 0) || trend != TREND_GROWING || ws < 3)
			return 0;
		*value = (double)w->lim.headroom / rate;
		return 1;
	}
	return 0;
}

static int holds(const struct trigger_expr *e, double value)
{
	return e->metric == TRIGGER_TTL ? value < e->threshold : value > e->threshold;
}

/* ---- actions ----------------------------------------------------------------------- */

static void note_add(struct trigger_event *ev, const char *fmt, ...) RW_PRINTF(2, 3);

static void note_add(struct trigger_event *ev, const char *fmt, ...)
{
	size_t n = strlen(ev->note);
	va_list ap;

	if (n && n + 2 < sizeof(ev->note)) {
		memcpy(ev->note + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(ev->note + n, sizeof(ev->note) - n, fmt, ap);
	va_end(ap);
}

struct firing {
	struct trigger_set *ts;
	struct watch *w;
	struct trigger_event *ev;
	char final[PATH_MAX], tmpdir[PATH_MAX];
	char names[24][64];            /* files in the directory (ev->files point here) */
	uint64_t room;                 /* bytes the files may take */
	uint64_t used;                 /* bytes written so far */
};

static void add_file(struct firing *f, const char *name)
{
	struct trigger_event *ev = f->ev;
	if (ev->nfiles < sizeof(f->names) / sizeof(f->names[0])) {
		size_t n = strnlen(name, sizeof(f->names[0]) - 1);
		memcpy(f->names[ev->nfiles], name, n);
		f->names[ev->nfiles][n] = 0;
		ev->files[ev->nfiles] = f->names[ev->nfiles];
		ev->nfiles++;
	}
}

/* Remove the temporary directory and what it holds (ours alone: created by mkdtemp). */
static void remove_tmpdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* Bytes of disk the directory's files take (their blocks). */
static uint64_t dir_blocks(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			n += (uint64_t)st.st_blocks * 512;
	closedir(d);
	return n;
}

/* Write a small file in the temporary directory, synced. 0 or -errno. */
static int write_small(struct firing *f, const char *name, const char *buf, size_t len)
{
	char path[PATH_MAX + 80];
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", f->tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write_all(fd, buf, len) || fsync(fd))
		e = errno ? errno : EIO;
	if (close(fd) && !e)
		e = errno;
	if (e)
		return -e;
	f->used += len;
	add_file(f, name);
	return 0;
}

static void stacks_announce(void *ctx, size_t nthreads, const char *comm)
{
	struct firing *f = ctx;
	char name[300];

	fprintf(stderr, "regionwatch: %s: trigger %llu: stopping the %zu thread%s of %d (%s) for a "
		"moment to read %s\n", f->ts->name, (unsigned long long)f->ev->n, nthreads,
		nthreads == 1 ? "" : "s", f->ev->pid, escape_ctl(comm, name, sizeof(name)),
		nthreads == 1 ? "its stack" : "their stacks");
	fflush(stderr);
}

/* stacks.txt: a header and every thread's backtrace, as `regionwatch stacks` prints them.
 * Returns 0, 1 (not taken: the note says why), or -errno (a write failed). */
static int act_stacks(struct firing *f)
{
	struct stacks_opts so = { 0, stacks_announce, f };
	struct stacks_result r;
	struct rw_err err;
	char *text = NULL, comm[300], expr[300];
	size_t len = 0;
	FILE *mf;
	int rc;

	if (stacks_collect(&f->w->sm.proc, &so, &r, &err)) {
		stacks_free(&r);
		note_add(f->ev, "stacks: %s", err.msg);
		return 1;
	}
	fprintf(stderr, "regionwatch: %s: trigger %llu: target stopped for %.1f ms; %s\n",
		f->ts->name, (unsigned long long)f->ev->n, r.stopped_ms,
		r.was_stopped ? "it was stopped before (SIGSTOP) and stays stopped" : "running again");
	mf = open_memstream(&text, &len);
	if (!mf) {
		stacks_free(&r);
		return -ENOMEM;
	}
	fprintf(mf, "# regionwatch trigger %llu: %s; pid %d (%s); stopped for %.1f ms (%.1f ms to "
		"stop %zu thread%s, %.1f ms unwinding)\n", (unsigned long long)f->ev->n,
		escape_ctl(f->ev->expr->text, expr, sizeof(expr)), f->ev->pid,
		escape_ctl(r.comm ? r.comm : "", comm, sizeof(comm)), r.stopped_ms, r.freeze_ms,
		r.nfrozen, r.nfrozen == 1 ? "" : "s", r.unwind_ms);
	out_table_stacks(mf, r.threads, r.nthreads);
	if (r.ngone)
		fprintf(mf, "# %zu thread%s exited while being read\n", r.ngone, r.ngone == 1 ? "" : "s");
	fclose(mf);
	stacks_free(&r);
	if (f->used + len + TRIGGER_SMALL_FILES > f->room) {
		note_add(f->ev, "stacks: %zu bytes of text do not fit in the room left", len);
		free(text);
		return -ENOSPC;
	}
	rc = write_small(f, "stacks.txt", text, len);
	free(text);
	return rc;
}

/* One dump file: the runs inside [start, end) at offset = address - start. 0, 1 (nothing
 * read), -ESRCH (the process exited) or -errno. */
static int dump_one(struct firing *f, const struct snapshot *snap, uint64_t start, uint64_t end,
		    const uint64_t *runs, size_t nruns, const char *name, struct rw_err *err)
{
	struct dumpfile d;
	struct memread_opts mo;
	struct memread_sink sink;
	struct memread_stats st, one;
	struct dump_info info;
	char path[PATH_MAX + 80], final[PATH_MAX + 80], tmp[PATH_MAX + 128] = "";
	double t0 = now_mono();
	int rc = 0;

	memset(&d, 0, sizeof(d));
	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/%s", f->tmpdir, name);
	snprintf(final, sizeof(final), "%s/%s", f->final, name);
	d.fd = tmpfile_open(path, 0600, tmp, sizeof(tmp));
	if (d.fd < 0)
		return rw_err_set(err, -d.fd, "%s: %s", name, strerror(-d.fd));
	d.base = start;
	memset(&mo, 0, sizeof(mo));
	mo.run = dumpfile_run;
	mo.run_ctx = &d;
	sink = (struct memread_sink){ .data = dumpfile_data, .hole = dumpfile_hole, .ctx = &d };
	for (size_t i = 0; i < nruns && !rc; i++) {
		rc = memread_range(&f->w->sm.proc, snap, runs[2 * i], runs[2 * i + 1], &mo, &sink,
				   &one, err);
		st.bytes_read += one.bytes_read;
		st.pages_present += one.pages_present;
		for (int h = 0; h < MEMREAD_HOLE_COUNT; h++)
			st.pages[h] += one.pages[h];
		st.runs += one.runs;
		st.syscalls += one.syscalls;
		st.used_pagemap_scan |= one.used_pagemap_scan;
		st.used_proc_mem |= one.used_proc_mem;
		st.exited |= one.exited;
		if (rc && !one.exited)
			rc = 0;   /* that run is a hole; the others are still worth reading */
	}
	if (st.exited || d.write_errno || !st.bytes_read) {
		int e = st.exited ? -ESRCH : d.write_errno ? -d.write_errno : 1;
		if (d.write_errno)
			rw_err_set(err, d.write_errno, "writing %s: %s", name, strerror(d.write_errno));
		close(d.fd);
		tmpfile_discard(tmp);
		free(d.runs);
		return e;
	}
	dumpfile_info(&info, snap, final, start, end, &d, &st);
	info.pid = f->ev->pid;          /* a sampler's map has no meta */
	info.comm = f->ev->comm;
	info.read_ms = (now_mono() - t0) * 1e3;
	info.freeze_ms = -1;
	rc = dumpfile_commit(&d, tmp, path, &info, 0, err);
	if (d.fd >= 0)
		close(d.fd);
	tmpfile_discard(tmp);
	free(d.runs);
	if (rc)
		return rc;
	f->used += st.bytes_read;
	add_file(f, name);
	snprintf(path, sizeof(path), "%s.json", name);
	add_file(f, path);
	return 0;
}

/* The row's new pages as a sparse dump (one file per area: a pool's members can lie
 * terabytes apart), each with its manifest, and their census as census.json. */
static int act_dump(struct firing *f)
{
	struct trigger_set *ts = f->ts;
	struct trigger_event *ev = f->ev;
	const struct area *row = ev->row;
	const struct pool *pl = ev->pool;
	const struct snapshot *snap;
	struct inspect_span *spans;
	struct inspect_growth g;
	struct analysis_opts ao;
	struct rw_err err;
	uint64_t *runs = NULL, newb = 0, unrec = 0, budget, room;
	size_t n, nruns = 0, files = 0, skipped = 0;
	char *text = NULL, a[32], b[32];
	size_t len = 0;
	FILE *mf;
	int rc;

	if (!row) {
		note_add(ev, "dump: a process-wide trigger has no row to dump");
		return 1;
	}
	snap = sampler_full_snapshot(&f->w->sm, &err);
	if (!snap) {
		note_add(ev, "dump: %s", err.msg);
		return err.code == ESRCH ? -ESRCH : 1;
	}
	n = pl ? pl->nmembers : 1;
	spans = xcalloc(n ? n : 1, sizeof(*spans));
	for (size_t k = 0; k < n; k++) {
		const struct area *m = pl ? pl->members[k] : row;
		spans[k] = (struct inspect_span){ m->id, m->start, m->end, m->born_seq > 0 };
	}
	room = f->room > f->used + TRIGGER_SMALL_FILES ? f->room - f->used - TRIGGER_SMALL_FILES : 0;
	budget = room;
	for (int pass = 0; pass < 2; pass++) {
		free(runs);
		runs = NULL;
		rc = inspect_new_runs(&f->w->sm.proc, &ts->base, spans, n, budget, &runs, &nruns,
				      &newb, &unrec, &err);
		if (rc)
			break;
		/* room for the manifests too: about 64 bytes a run */
		uint64_t est = 64 * (uint64_t)(nruns < DUMPFILE_MANIFEST_MAX_RUNS ? nruns : DUMPFILE_MANIFEST_MAX_RUNS);
		uint64_t got = 0;
		for (size_t i = 0; i < nruns; i++)
			got += runs[2 * i + 1] - runs[2 * i];
		if (got + est <= room || est >= room)
			break;
		budget = room - est;
	}
	if (rc) {
		free(spans);
		free(runs);
		note_add(ev, "dump: %s", err.msg);
		return -ESRCH;
	}
	if (!nruns) {
		free(spans);
		note_add(ev, unrec == n ? "dump: the row's areas were not recorded at the first sample "
			 "(not a kind a leak grows in, or too many runs): no new pages to dump"
			 : "dump: no page of the row became resident since the first sample");
		return 1;
	}
	{
		uint64_t got = 0;
		for (size_t i = 0; i < nruns; i++)
			got += runs[2 * i + 1] - runs[2 * i];
		if (got < newb)
			note_add(ev, "dump: sampled: %s of %s new bytes, in pieces spread evenly (the room "
				 "left in --out and --out-budget)", fmt_size(got, a, sizeof(a)),
				 fmt_size(newb, b, sizeof(b)));
	}
	/* the spans in address order, each with the runs inside it (runs are sorted) */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j && spans[j].start < spans[j - 1].start; j--) {
			struct inspect_span t = spans[j];
			spans[j] = spans[j - 1];
			spans[j - 1] = t;
		}
	rc = 0;
	for (size_t k = 0, r0 = 0; k < n && !rc; k++) {
		size_t r1 = r0;
		char name[64];
		while (r0 < nruns && runs[2 * r0 + 1] <= spans[k].start)
			r0++;
		r1 = r0;
		while (r1 < nruns && runs[2 * r1] < spans[k].end)
			r1++;
		if (r1 == r0)
			continue;
		if (files == DUMP_MAX_FILES) {
			skipped++;
			continue;
		}
		if (n == 1)
			snprintf(name, sizeof(name), "dump.bin");
		else
			snprintf(name, sizeof(name), "dump-0x%llx.bin", (unsigned long long)spans[k].start);
		rc = dump_one(f, snap, spans[k].start, spans[k].end, runs + 2 * r0, r1 - r0, name, &err);
		if (rc == 1)
			rc = 0;               /* nothing was read there (gone meanwhile) */
		else if (!rc)
			files++;
		r0 = r1;
	}
	free(runs);
	if (rc) {
		free(spans);
		note_add(ev, "dump: %s", rc == -ESRCH ? "the process exited during the read" : err.msg);
		return rc;
	}
	if (skipped)
		note_add(ev, "dump: %zu more member%s with new pages not dumped (at most %d files; the "
			 "census covers them)", skipped, skipped == 1 ? "" : "s", DUMP_MAX_FILES);
	if (!files) {
		free(spans);
		note_add(ev, "dump: none of the new pages could be read");
		return 1;
	}
	/* the census of the new pages (read again: bounded by the content budget) */
	memset(&ao, 0, sizeof(ao));
	ao.top = 10;
	ao.encodings = SCAN_ENC_ASCII;
	rc = inspect_growth(&g, &f->w->sm.proc, snap, &ts->base, spans, n, INSPECT_BUDGET_DEFAULT,
			    &ao, &err);
	free(spans);
	if (rc == -ESRCH || g.exited) {
		inspect_growth_free(&g);
		note_add(ev, "dump: the process exited during the census");
		return -ESRCH;
	}
	mf = open_memstream(&text, &len);
	if (!mf) {
		inspect_growth_free(&g);
		return -ENOMEM;
	}
	out_json_growth(mf, &g, INSPECT_BUDGET_DEFAULT);
	fclose(mf);
	inspect_growth_free(&g);
	rc = write_small(f, "census.json", text, len);
	free(text);
	return rc;
}

/* The firing's files: room checked, a temporary directory filled, renamed into place.
 * Returns the actions that left files (TRIGGER_ACT_*). */
static unsigned act_files(struct trigger_set *ts, struct watch *w, struct trigger_event *ev,
			  struct firing *f)
{
	struct statvfs sv;
	uint64_t avail, total, keep, left, written;
	char stamp[32], esc[PATH_MAX], a[32], b[32], c[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned done = 0;
	int rc = 0, dfd;

	memset(f, 0, sizeof(*f));
	f->ts = ts;
	f->w = w;
	f->ev = ev;
	escape_ctl(ts->out_dir, esc, sizeof(esc));
	if (statvfs(ts->out_dir, &sv) < 0) {
		note_add(ev, "--out %s: %s: nothing written", esc, strerror(errno));
		return 0;
	}
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	keep = total / 100 * TRIGGER_KEEP_FREE_PCT;
	if (keep > TRIGGER_KEEP_FREE_MAX)
		keep = TRIGGER_KEEP_FREE_MAX;
	written = ts->shared ? ts->shared->written : ts->written;
	left = ts->out_budget > written ? ts->out_budget - written : 0;
	f->room = avail > keep ? avail - keep : 0;
	if (f->room > left)
		f->room = left;
	if (f->room < TRIGGER_SMALL_FILES + ((ts->actions & TRIGGER_ACT_DUMP) ? TRIGGER_MIN_DUMP : 0)) {
		note_add(ev, "--out %s: no room: %s free, %s kept free, %s of --out-budget left: "
			 "nothing written", esc, fmt_size(avail, a, sizeof(a)),
			 fmt_size(keep, b, sizeof(b)), fmt_size(left, c, sizeof(c)));
		return 0;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(f->final, sizeof(f->final), "%s/regionwatch-%d-%s-%llu", ts->out_dir, ev->pid, stamp,
		 (unsigned long long)ev->n);
	snprintf(f->tmpdir, sizeof(f->tmpdir), "%s/.regionwatch-%d-%s-%llu.XXXXXX", ts->out_dir,
		 ev->pid, stamp, (unsigned long long)ev->n);
	if (!mkdtemp(f->tmpdir)) {
		note_add(ev, "--out %s: %s: nothing written", esc, strerror(errno));
		return 0;
	}
	if ((ts->actions & TRIGGER_ACT_STACKS) && (rc = act_stacks(f)) == 0)
		done |= TRIGGER_ACT_STACKS;
	if (rc < 0)
		goto fail;
	if ((ts->actions & TRIGGER_ACT_DUMP) && (rc = act_dump(f)) == 0)
		done |= TRIGGER_ACT_DUMP;
	if (rc < 0)
		goto fail;
	if (!done) {
		remove_tmpdir(f->tmpdir);
		return 0;
	}
	if (renameat2(AT_FDCWD, f->tmpdir, AT_FDCWD, f->final, RENAME_NOREPLACE) < 0) {
		rc = -errno;
		if (rc == -EINVAL && access(f->final, F_OK) < 0)
			rc = rename(f->tmpdir, f->final) < 0 ? -errno : 0;
		if (rc) {
			note_add(ev, "%s: %s", f->final, strerror(-rc));
			goto fail_quiet;
		}
	}
	dfd = open(ts->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	(ts->shared ? ts->shared : ts)->written += dir_blocks(f->final);
	ev->dir = f->final;
	return done;
fail:
	if (rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG)
		note_add(ev, "--out %s: %s while writing", esc, strerror(-rc));
	else if (rc != -ESRCH)
		note_add(ev, "--out %s: %s", esc, strerror(-rc));
fail_quiet:
	remove_tmpdir(f->tmpdir);
	note_add(ev, "nothing kept");
	ev->nfiles = 0;
	return 0;
}

/* ---- firing ------------------------------------------------------------------------ */

static void fmt_value(enum trigger_metric m, double v, char *buf, size_t len)
{
	char s[32];

	switch (m) {
	case TRIGGER_GROWTH:
		fmt_delta((int64_t)v, buf, len);
		if (len > 1 && buf[0] == '+')
			memmove(buf, buf + 1, strlen(buf));
		break;
	case TRIGGER_RSS:
		fmt_size(v > 0 ? (uint64_t)v : 0, buf, len);
		break;
	case TRIGGER_RATE:
		fmt_delta((int64_t)v, s, sizeof(s));
		snprintf(buf, len, "%s/s", s);
		break;
	case TRIGGER_TTL:
		if (v >= 3600)
			snprintf(buf, len, "%.1fh", v / 3600);
		else if (v >= 60)
			snprintf(buf, len, "%.1fm", v / 60);
		else
			snprintf(buf, len, "%.1fs", v);
		break;
	}
}

static void print_event(struct trigger_set *ts, const struct trigger_event *ev)
{
	if (ts->json)
		out_json_trigger_event(ts->out, ev);
	else
		trigger_event_text(ts->out, ev);
}

void trigger_event_text(FILE *out, const struct trigger_event *ev)
{
	const struct trigger_expr *e = ev->expr;
	char val[48], thr[48], expr[300], path[600], note[sizeof(ev->note) + 64];

	fmt_value(e->metric, ev->value, val, sizeof(val));
	fmt_value(e->metric, e->threshold, thr, sizeof(thr));
	if (e->metric == TRIGGER_GROWTH) {
		snprintf(val + strlen(val), sizeof(val) - strlen(val), " in %.1fs", ev->covered);
		snprintf(thr + strlen(thr), sizeof(thr) - strlen(thr), "/%gs", e->window);
	}
	fprintf(out, "trigger %llu: '%s' fired on ", (unsigned long long)ev->n,
		escape_ctl(e->text, expr, sizeof(expr)));
	if (ev->row)
		fprintf(out, "%s %s %llx-%llx", ev->pool ? "pool" : region_kind_name(ev->row->kind),
			escape_ctl(ev->row->path ? ev->row->path : "", path, sizeof(path)),
			(unsigned long long)ev->row->start, (unsigned long long)ev->row->end);
	else
		fprintf(out, "the process");
	fprintf(out, ": %s %s (threshold %s)", trigger_metric_name(e->metric), val, thr);
	if (ev->nactions) {
		fputs("; ", out);
		for (size_t i = 0; i < ev->nactions; i++)
			fprintf(out, "%s%s", i ? ", " : "", ev->actions[i]);
	}
	if (ev->dir)
		fprintf(out, " -> %s", escape_ctl(ev->dir, path, sizeof(path)));
	if (ev->note[0])
		fprintf(out, " (%s)", escape_ctl(ev->note, note, sizeof(note)));
	fputc('\n', out);
}

static void fire(struct trigger_set *ts, struct watch *w, struct trigger_expr *e, double value,
		 double covered, const struct area *row, const struct area_stats *st,
		 const struct pool *pool)
{
	struct trigger_set *sh = ts->shared ? ts->shared : ts;   /* the limits */
	struct trigger_event ev;
	struct firing f;
	unsigned done = 0;

	memset(&ev, 0, sizeof(ev));
	ts->fired++;
	ev.n = ++sh->fired_all;
	ev.pid = (int)w->o.pid;
	ev.comm = w->sm.comm;
	ev.seq = w->tl.seq;
	ev.elapsed = w->t_last - w->t0;
	ev.expr = e;
	ev.value = value;
	ev.covered = covered;
	ev.row = row;
	ev.st = st;
	ev.pool = pool;
	e->fired++;
	e->last_fire = w->t_last;
	if (ts->actions && sh->acted >= ts->max_triggers) {
		if (!sh->max_said)
			fprintf(stderr, "regionwatch: %s: --max-triggers %lu reached: later firings are "
				"reported without actions\n", ts->name, ts->max_triggers);
		sh->max_said = 1;
		note_add(&ev, "no actions: --max-triggers %lu reached", ts->max_triggers);
	} else if (ts->actions) {
		sh->acted++;
		if (ts->actions & (TRIGGER_ACT_DUMP | TRIGGER_ACT_STACKS))
			done = act_files(ts, w, &ev, &f);
		if (done & TRIGGER_ACT_DUMP)
			ev.actions[ev.nactions++] = "dump";
		if (done & TRIGGER_ACT_STACKS)
			ev.actions[ev.nactions++] = "stacks";
		if ((ts->actions & TRIGGER_ACT_REPORT) && ts->on_report) {
			int r = ts->on_report(ts->report_ctx, &ev);
			if (r)
				note_add(&ev, "report: %s", strerror(-r));
			else
				ev.actions[ev.nactions++] = "report";
		}
		if (ev.note[0])
			fprintf(stderr, "regionwatch: %s: trigger %llu: %s\n", ts->name,
				(unsigned long long)ev.n, ev.note);
	}
	print_event(ts, &ev);
}

static void take_baseline(struct trigger_set *ts, struct watch *w)
{
	struct rw_err err;

	ts->have_base = 1;
	inspect_baseline_init(&ts->base);
	for (size_t i = 0; i < w->tl.nareas; i++) {
		const struct area *a = &w->tl.areas[i];
		if (!inspect_growth_kind(a->kind))
			continue;
		if (inspect_baseline_add(&ts->base, &w->sm.proc, a->id, a->start, a->end, &err) == -ESRCH)
			break;
	}
	inspect_baseline_index(&ts->base);
}

size_t trigger_eval(struct trigger_set *ts, struct watch *w, struct watch_view *v)
{
	uint64_t before = ts->fired;
	size_t nr;

	if (!ts->nexprs || !ts->rows) {
		v->triggers_total = ts->fired;
		return 0;
	}
	if ((ts->actions & TRIGGER_ACT_DUMP) && !ts->have_base)
		take_baseline(ts, w);
	follow(ts, w);
	nr = w->nrank < TRIGGER_FOLLOW ? w->nrank : TRIGGER_FOLLOW;
	for (size_t k = 0; k < ts->nexprs; k++) {
		struct trigger_expr *e = &ts->exprs[k];
		double value, covered;
		if (e->last_fire >= 0 && w->t_last - e->last_fire < ts->cooldown)
			continue;
		if (e->process) {
			if (value_of(e, w, NULL, ts->proc, &value, &covered) && holds(e, value))
				fire(ts, w, e, value, covered, NULL, NULL, NULL);
			continue;
		}
		for (size_t i = 0; i < nr; i++) {
			const struct area *row = w->rank[i];
			if (!value_of(e, w, &w->rank_st[i], row_find(ts, row->id), &value, &covered) ||
			    !holds(e, value))
				continue;
			fire(ts, w, e, value, covered, row, &w->rank_st[i], w->rank_pool[i]);
			break;
		}
	}
	v->triggers_total = ts->fired;
	return (size_t)(ts->fired - before);
}
