/* ui_table: the monitor's main view. The rows are the watch model's ranking (every area),
 * filtered and sorted here; the header and table draw them; the keys move, sort, filter,
 * set the baseline, dump the selected area and open it. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"
#include "dumpfile.h"
#include "memread.h"

#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const sort_names[SORT_COUNT] = { "score", "RSS", "delta", "rate", "address" };

static int row_matches(const struct ui *u, const struct area *a, const struct pool *pl)
{
	/* a pool row: every pool but a file's is anonymous memory */
	int anon = pl ? pl->kind != POOL_FILE :
		   !a->path[0] || !strncmp(a->path, "[heap]", 6) || !strncmp(a->path, "[stack", 6) ||
		   !strncmp(a->path, "[anon", 5);

	if (u->anon_only && !anon)
		return 0;
	if (u->filter[0] && !strstr(a->path, u->filter) &&
	    !strstr(region_kind_name((enum region_kind)a->kind), u->filter))
		return 0;
	return 1;
}

/* One row as the sort sees it: a top-level row, or one member of an expanded pool. */
struct sort_row {
	const struct area *a;
	struct area_stats st;
	int64_t delta;
	const struct pool *pool;
	size_t order;                /* the model's (score) order */
	int pending;                 /* st holds sort keys only (a member: ui_row_stats) */
};

static double sort_value(enum ui_sort sort, const struct sort_row *r)
{
	switch (sort) {
	case SORT_RSS: return (double)r->st.rss_last;
	case SORT_DELTA: return (double)r->delta;
	case SORT_RATE: return r->st.rate;
	case SORT_ADDR: return -(double)r->a->start;
	default: return 0;
	}
}

/* Descending by the key; ties keep the score order. */
static int cmp_rows(const void *x, const void *y, void *ctx)
{
	const struct sort_row *a = x, *b = y;
	double va = sort_value(*(const enum ui_sort *)ctx, a), vb = sort_value(*(const enum ui_sort *)ctx, b);
	if (va != vb)
		return va < vb ? 1 : -1;
	return (a->order > b->order) - (a->order < b->order);
}

/* A pool's members, before their statistics are computed (those are computed for the rows
 * on screen and the selected one: ui_row_stats): by their growth over the window, then
 * since the baseline (chunks are born full), then RSS, then address. The model's order for
 * areas is by score first; a member's growth is what its score mostly follows, and it
 * costs two ring reads, not a pass over the window. */
static int cmp_members(const void *x, const void *y)
{
	const struct sort_row *a = x, *b = y;
	if (a->st.delta != b->st.delta)
		return a->st.delta < b->st.delta ? 1 : -1;
	if (a->delta != b->delta)
		return a->delta < b->delta ? 1 : -1;
	if (a->st.rss_last != b->st.rss_last)
		return a->st.rss_last < b->st.rss_last ? 1 : -1;
	return (a->a->start > b->a->start) - (a->a->start < b->a->start);
}

/* What the sort of a member needs, without its statistics: RSS now and at the start of the
 * window (or its birth), that growth, and as a rate over the window's seconds (for R: the
 * least-squares rate comes with the statistics). */
static void member_keys(const struct timeline *tl, const struct area *a, struct area_stats *st)
{
	size_t n = timeline_window_samples(tl);
	uint64_t from = tl->seq - n, last, first;
	double secs;

	if (a->born_seq > from)
		from = a->born_seq;
	last = timeline_area_rss(tl, a, tl->seq - 1);
	first = timeline_area_rss(tl, a, from);
	if (last == UINT64_MAX)
		last = 0;
	if (first == UINT64_MAX)
		first = last;
	memset(st, 0, sizeof(*st));
	st->rss_first = first;
	st->rss_last = last;
	st->delta = (int64_t)last - (int64_t)first;
	secs = tl->times[(tl->seq - 1) % tl->cap] - tl->times[from % tl->cap];
	st->rate = secs > 0 ? (double)st->delta / secs : 0;
}

static int64_t delta_of(const struct ui *u, const struct area *a, uint64_t rss_last)
{
	int found;
	uint64_t b = watch_baseline_rss(&u->w, a->id, &found);
	return (int64_t)rss_last - (int64_t)b;
}

int ui_pool_expanded(const struct ui *u, uint64_t id)
{
	for (size_t i = 0; i < u->nexpanded; i++)
		if (u->expanded[i] == id)
			return 1;
	return 0;
}

static void put_row(struct ui *u, const struct sort_row *r, enum ui_tree tree)
{
	if (u->rows_cap < u->nrows + 1) {
		u->rows_cap = u->nrows * 2 + 16;
		u->rows = xreallocarray(u->rows, u->rows_cap, sizeof(*u->rows));
		u->st = xreallocarray(u->st, u->rows_cap, sizeof(*u->st));
		u->delta = xreallocarray(u->delta, u->rows_cap, sizeof(*u->delta));
		u->rpool = xreallocarray(u->rpool, u->rows_cap, sizeof(*u->rpool));
		u->rtree = xreallocarray(u->rtree, u->rows_cap, sizeof(*u->rtree));
		u->rstat_ok = xreallocarray(u->rstat_ok, u->rows_cap, sizeof(*u->rstat_ok));
	}
	u->rows[u->nrows] = r->a;
	u->st[u->nrows] = r->st;
	u->rstat_ok[u->nrows] = !r->pending;
	u->delta[u->nrows] = r->delta;
	u->rpool[u->nrows] = r->pool;
	u->rtree[u->nrows] = (unsigned char)tree;
	u->nrows++;
}

/* An expanded pool's members under its row, sorted as the rows are, with tree markers.
 * Their statistics wait until they are shown (ui_row_stats): a pool of 10,000 members costs
 * 10,000 pairs of ring reads per sample, and statistics for a screenful. */
static void put_members(struct ui *u, const struct pool *pl)
{
	struct sort_row *m = xcalloc(pl->nmembers ? pl->nmembers : 1, sizeof(*m));
	enum ui_sort sort = u->sort;

	for (size_t k = 0; k < pl->nmembers; k++) {
		m[k].a = pl->members[k];
		member_keys(&u->w.tl, m[k].a, &m[k].st);
		m[k].delta = delta_of(u, m[k].a, m[k].st.rss_last);
		m[k].pending = 1;
	}
	qsort(m, pl->nmembers, sizeof(*m), cmp_members);
	for (size_t k = 0; k < pl->nmembers; k++)
		m[k].order = k;
	if (sort != SORT_SCORE)
		qsort_r(m, pl->nmembers, sizeof(*m), cmp_rows, &sort);
	for (size_t k = 0; k < pl->nmembers; k++)
		put_row(u, &m[k], k + 1 == pl->nmembers ? TREE_MEMBER_LAST : TREE_MEMBER);
	u->member_rows += pl->nmembers;
	free(m);
}

const struct area_stats *ui_row_stats(struct ui *u, size_t i)
{
	if (!u->rstat_ok[i]) {
		timeline_area_stats(&u->w.tl, u->rows[i], &u->st[i]);
		u->rstat_ok[i] = 1;
		u->member_stats++;
	}
	return &u->st[i];
}

void ui_table_rebuild(struct ui *u)
{
	size_t n = u->w.nrank, ntop = 0;
	struct sort_row *top = xcalloc(n ? n : 1, sizeof(*top));
	enum ui_sort sort = u->sort;

	/* The ranking of the latest watch_rank (every area, and the pools that are rows);
	 * filter and sort are the view's. An expanded pool's members follow its row. */
	for (size_t i = 0; i < n; i++) {
		const struct area *a = u->w.rank[i];
		const struct pool *pl = u->w.rank_pool ? u->w.rank_pool[i] : NULL;
		if (!row_matches(u, a, pl))
			continue;
		top[ntop].a = a;
		top[ntop].st = u->w.rank_st[i];
		top[ntop].delta = delta_of(u, a, u->w.rank_st[i].rss_last);
		top[ntop].pool = pl;
		top[ntop].order = ntop;
		ntop++;
	}
	if (sort != SORT_SCORE && ntop > 1)
		qsort_r(top, ntop, sizeof(*top), cmp_rows, &sort);
	u->nrows = 0;
	u->member_rows = u->member_stats = 0;
	for (size_t i = 0; i < ntop; i++) {
		int open = top[i].pool && ui_pool_expanded(u, top[i].a->id);
		put_row(u, &top[i], !top[i].pool ? TREE_NONE : open ? TREE_POOL_OPEN : TREE_POOL);
		if (open)
			put_members(u, top[i].pool);
	}
	free(top);
	/* keep the selection on the same row: an area's id, or a pool's (stable, pool.c) */
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i]->id == u->sel_id) {
			u->sel = i;
			break;
		}
	if (u->sel >= u->nrows)
		u->sel = u->nrows ? u->nrows - 1 : 0;
	if (u->nrows)
		ui_row_stats(u, u->sel);    /* the selected row's: Enter and the chart use them */
}

static void sparkline(const struct ui *u, const struct area *a, int width, char *out, size_t outlen)
{
	static const char *const blocks[8] = { "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
					       "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
					       "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii[] = "_.-:=+*#";
	uint64_t vals[64], lo = UINT64_MAX, hi = 0;
	int n = 0;
	size_t o = 0;

	if (width > 64)
		width = 64;
	for (uint64_t s = u->w.tl.seq > (uint64_t)width ? u->w.tl.seq - (uint64_t)width : 0; s < u->w.tl.seq; s++) {
		uint64_t v = timeline_area_rss(&u->w.tl, a, s);
		vals[n++] = v;
		if (v != UINT64_MAX) {
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
	}
	if (u->spark_shared) {
		/* one scale for every row on screen, from 0: heights compare across rows */
		lo = 0;
		hi = u->spark_hi;
	}
	out[0] = '\0';
	for (int i = 0; i < n && o + 4 < outlen; i++) {
		int level;
		if (vals[i] == UINT64_MAX) {
			out[o++] = ' ';
			continue;
		}
		level = hi > lo ? (int)((double)(vals[i] - lo) * 7.0 / (double)(hi - lo) + 0.5) : 0;
		if (level > 7)
			level = 7;
		if (u->utf8) {
			memcpy(out + o, blocks[level], 3);
			o += 3;
		} else {
			out[o++] = ascii[level];
		}
	}
	out[o] = '\0';
}

static void draw_header(const struct ui *u)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], line[512], comm[64];
	double up = u->w.tl.seq ? now_mono() - u->t0 : 0;

	escape_ctl(u->w.sm.comm, comm, sizeof(comm));
	snprintf(line, sizeof(line), "regionwatch  pid %d (%s)  up %.0fs  every %.2gs%s%s", u->o->pid,
		 comm, up, u->o->interval, u->paused ? "  PAUSED" : "",
		 u->w.exited ? "  TARGET EXITED" : "");
	attron(A_BOLD);
	ui_attr_color(u, u->w.exited ? C_WARN : C_HEADER, 1);
	mvhline(0, 0, ' ', COLS);
	ui_put_clipped(0, 0, COLS, line);
	ui_attr_color(u, u->w.exited ? C_WARN : C_HEADER, 0);
	attroff(A_BOLD);
	if (timeline_window_samples(&u->w.tl) < 2) {
		/* one sample: no rate yet */
		const char *dash = u->utf8 ? "\xe2\x80\x94" : "-";
		snprintf(line, sizeof(line), "RSS %s (%s)  anon %s (%s)  swap %s (%s)",
			 fmt_size(u->w.tot.rss, a, sizeof(a)), dash, fmt_size(u->w.tot.anon, c, sizeof(c)),
			 dash, fmt_size(u->w.tot.swap, e, sizeof(e)), dash);
	} else {
		snprintf(line, sizeof(line), "RSS %s (%s/s)  anon %s (%s/s)  swap %s (%s/s)",
			 fmt_size(u->w.tot.rss, a, sizeof(a)), fmt_delta((int64_t)u->w.tot.rss_rate, b, sizeof(b)),
			 fmt_size(u->w.tot.anon, c, sizeof(c)), fmt_delta((int64_t)u->w.tot.anon_rate, d, sizeof(d)),
			 fmt_size(u->w.tot.swap, e, sizeof(e)), fmt_delta((int64_t)u->w.tot.swap_rate, f, sizeof(f)));
	}
	ui_put_clipped(1, 0, COLS, line);
	{
		struct watch_view v;
		size_t o;

		watch_fill_view(&u->w, &v);
		o = (size_t)snprintf(line, sizeof(line), "sort: %s%s%s%s%s%s  areas %zu  cost %.1f ms/sample",
				     sort_names[u->sort], u->anon_only ? "  [anon only]" : "",
				     u->spark_shared ? "  [history: one scale]" : "",
				     u->filter[0] ? "  [filter: " : "", u->filter, u->filter[0] ? "]" : "",
				     v.nareas, v.cost_ms);
		/* The cost budget (--max-cost), said as watch's text header says it. */
		if (v.stretched)
			o += (size_t)snprintf(line + o, sizeof(line) - o,
					      "  interval stretched to %.2fs (over the %g%% CPU budget)",
					      v.interval, v.max_cost);
		if (u->w.lim.kind) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "  %s %s left",
					      u->w.lim.kind == 1 ? "cgroup" : "MemAvailable",
					      fmt_size(u->w.lim.headroom, a, sizeof(a)));
			if (u->w.tot.rss_rate > 0 && u->w.tot.rss_trend == TREND_GROWING &&
			    timeline_window_samples(&u->w.tl) >= 3) {
				double s = (double)u->w.lim.headroom / u->w.tot.rss_rate;
				snprintf(line + o, sizeof(line) - o, " (~%.0f%s at this rate, rough)",
					 s < 7200 ? s / 60 : s / 3600, s < 7200 ? "m" : "h");
			}
		}
		ui_put_clipped(2, 0, COLS, line);
	}
}

/* Column layout by terminal width: 120+ columns the whole range and the size; 60+ the
 * start address; less, no address. spark: sparkline samples (0: none). */
struct layout {
	int wide, narrow, aw, spark, cols;
};

/* Bytes of s beyond its columns: printf pads by bytes, a "—" is 3 bytes in 1 column. */
static int extra(const char *s)
{
	return (int)strlen(s) - ui_text_cols(s);
}

/* Row i as text in the layout; returns its colour pair (0: none). */
static int format_row(struct ui *u, size_t i, const struct layout *l, char *line, size_t len)
{
	char sz[32], rss[32], d[32], rate[32], trend[32], sp[256], path[512], range[48];
	const char *dash = u->utf8 ? "\xe2\x80\x94" : "-";
	const struct area *a = u->rows[i];
	const struct area_stats *st = ui_row_stats(u, i);   /* a member's: now it is shown */

	escape_ctl(a->path[0] ? a->path : "", path, sizeof(path));
	if (l->wide)
		snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)a->start,
			 (unsigned long long)a->end);
	else
		snprintf(range, sizeof(range), "%llx", (unsigned long long)a->start);
	sparkline(u, a, l->spark, sp, sizeof(sp));
	fmt_size(a->size, sz, sizeof(sz));
	fmt_size(st->rss_last, rss, sizeof(rss));
	fmt_delta(u->delta[i], d, sizeof(d));
	/* One sample is no rate and no trend (a fit needs two points): "—", not "0/s flat". */
	if (st->samples < 2) {
		snprintf(rate, sizeof(rate), "%s", dash);
		snprintf(trend, sizeof(trend), "%s", dash);
	} else {
		snprintf(rate, sizeof(rate), "%s/s", fmt_delta((int64_t)st->rate, line, 32));
		snprintf(trend, sizeof(trend), "%s", trend_name(st->trend));
	}
	if (l->narrow) {
		snprintf(line, len, "%8s %8s %-*s ", rss, d, 8 + extra(trend), trend);
		if (!path[0])
			snprintf(path, sizeof(path), "%s", region_kind_name((enum region_kind)a->kind));
	} else {
		int pad = l->spark - (int)(u->utf8 ? strlen(sp) / 3 : strlen(sp));
		size_t o = (size_t)snprintf(line, len, "%-*s ", l->aw, range);
		if (l->wide)
			o += (size_t)snprintf(line + o, len - o, "%7s ", sz);
		snprintf(line + o, len - o, "%8s %8s %*s %s%*s%s%-*s %-11s ", rss, d, 9 + extra(rate), rate,
			 sp, pad > 0 ? pad : 0, "", l->spark ? " " : "", 9 + extra(trend), trend,
			 u->rpool && u->rpool[i] ? pool_kind_name(u->rpool[i]->kind)
						 : region_kind_name((enum region_kind)a->kind));
	}
	/* PATH is the last column: the tree marker first (htop's tree: "+"/"-" on a pool,
	 * "├─"/"└─" on its members), then the path; when it is cut, keep its end (the file
	 * name) */
	{
		static const char *const marks_utf8[] = { "", "+ ", "- ", " \xe2\x94\x9c\xe2\x94\x80 ",
							  " \xe2\x94\x94\xe2\x94\x80 " };
		static const char *const marks_ascii[] = { "", "+ ", "- ", " |- ", " `- " };
		const char *mark = (u->utf8 ? marks_utf8 : marks_ascii)[u->rtree ? u->rtree[i] : 0];
		size_t o = strlen(line);
		o += (size_t)snprintf(line + o, len - o, "%s", mark);
		ui_fit_tail(path, l->cols - ui_text_cols(line), u->utf8, line + o, len - o);
	}
	if (st->trend == TREND_GROWING)
		return C_GROWING;
	if (st->trend == TREND_SAWTOOTH)
		return C_SAWTOOTH;
	if (st->trend == TREND_SHRINKING)
		return C_SHRINK;
	return 0;
}

static void draw_rows(struct ui *u)
{
	int y0 = 4, rows = LINES - y0 - 1, chart_h = u->chart ? ui_chart_height() : 0;
	struct layout l;
	char hdr[256];

	/* the chart pane takes the lower part of the table, as htop's meters take its top */
	if (chart_h && rows - chart_h >= 2) {
		rows -= chart_h;
		ui_chart_draw(u, y0 + rows, chart_h, u->nrows ? u->rows[u->sel] : NULL);
	}
	if (rows < 1)
		return;
	l.cols = COLS;
	l.wide = COLS >= 120;
	l.narrow = COLS < 60;
	l.aw = l.narrow ? 0 : l.wide ? 25 : 12;
	l.spark = COLS >= 120 ? 16 : COLS >= 76 ? 8 : 0;
	if (l.narrow)
		snprintf(hdr, sizeof(hdr), "%8s %8s %-8s %s", "RSS", "DELTA", "TREND", "PATH");
	else
		snprintf(hdr, sizeof(hdr), "%-*s %s%8s %8s %9s %-*s%s%-9s %-11s %s", l.aw,
			 l.wide ? "ADDRESS" : "START", l.wide ? "   SIZE " : "", "RSS", "DELTA", "RATE",
			 l.spark, l.spark ? "HISTORY" : "", l.spark ? " " : "", "TREND", "KIND", "PATH");
	attron(A_REVERSE);
	mvhline(y0 - 1, 0, ' ', COLS);
	ui_put_clipped(y0 - 1, 0, COLS, hdr);
	attroff(A_REVERSE);
	/* keep the selection on screen (view state only: no I/O) */
	if (u->sel < u->top)
		u->top = u->sel;
	if (u->sel >= u->top + (size_t)rows)
		u->top = u->sel - (size_t)rows + 1;
	u->spark_hi = 0;
	if (u->spark_shared && l.spark)
		for (int r = 0; r < rows && u->top + (size_t)r < u->nrows; r++) {
			const struct area *a = u->rows[u->top + (size_t)r];
			for (uint64_t s = u->w.tl.seq > (uint64_t)l.spark ? u->w.tl.seq - (uint64_t)l.spark : 0;
			     s < u->w.tl.seq; s++) {
				uint64_t v = timeline_area_rss(&u->w.tl, a, s);
				if (v != UINT64_MAX && v > u->spark_hi)
					u->spark_hi = v;
			}
		}
	for (int r = 0; r < rows; r++) {
		size_t i = u->top + (size_t)r;
		char line[1024];
		int pair, sel = i == u->sel;

		move(y0 + r, 0);
		clrtoeol();
		if (i >= u->nrows)
			continue;
		pair = format_row(u, i, &l, line, sizeof(line));
		if (sel)
			attron(A_REVERSE);
		else if (pair)
			ui_attr_color(u, pair, 1);
		ui_put_clipped(y0 + r, 0, COLS, line);
		if (sel)
			attroff(A_REVERSE);
		else if (pair)
			ui_attr_color(u, pair, 0);
	}
}

/* d: ask for a file name for the selected row (the loop goes on sampling meanwhile). A
 * pool row is dumped as its members, as dump --region top dumps a pool: the other mappings
 * between them (libraries, other heaps) are not the pool's and are not read. */
static unsigned dump_ask(struct ui *u)
{
	const struct area *a;
	const struct pool *pl;
	char name[200], label[200];

	if (!u->nrows || u->w.exited)
		return UI_HANDLED;
	a = u->rows[u->sel];
	pl = u->rpool ? u->rpool[u->sel] : NULL;
	u->dump_id = a->id;
	u->dump_pool = pl != NULL;
	u->dump_start = a->start;
	u->dump_end = a->end;
	if (pl) {
		snprintf(name, sizeof(name), "regionwatch-%d-%s-%llx.bin", u->o->pid, pool_kind_name(pl->kind),
			 (unsigned long long)a->start);
		snprintf(label, sizeof(label), "dump the pool's %zu members to (Esc cancels): ", pl->nmembers);
	} else {
		snprintf(name, sizeof(name), "regionwatch-%d-%llx.bin", u->o->pid, (unsigned long long)a->start);
		snprintf(label, sizeof(label), "dump to (Esc cancels): ");
	}
	return ui_prompt_open(u, PROMPT_DUMP, label, name);
}

/* The pool's members in the latest sample, each resolved against the fresh map as dump
 * --region top resolves them (the area holding its start: the touching pieces of one
 * reservation, so a member that grew since its sample is read whole). */
static size_t pool_ranges(const struct snapshot *snap, const struct pool *pl,
			  struct dumpfile_ranges *rs)
{
	size_t gone = 0;

	for (size_t i = 0; i < pl->nmembers; i++)
		gone += !dumpfile_ranges_add_area(rs, snap, pl->members[i]->start);
	return gone;      /* members gone from the map since their last sample */
}

/* Every range into the one file at offset = address - first start; the gaps between
 * ranges are holes of the file and are not read. */
static int read_ranges(struct ui *u, const struct snapshot *snap, const struct dumpfile_ranges *rs,
		       struct dumpfile *dc, struct memread_stats *st, struct rw_err *err)
{
	struct memread_opts mo;
	struct memread_sink sink = { .data = dumpfile_data, .hole = dumpfile_hole, .ctx = dc };

	memset(&mo, 0, sizeof(mo));
	mo.run = dumpfile_run;              /* the manifest's runs_read */
	mo.run_ctx = dc;
	return dumpfile_read_ranges(&u->w.sm.proc, snap, rs, &mo, &sink, st, err);
}

/* The status line after a dump: what was written, what was read, what are holes. */
static void dump_said(struct ui *u, const char *name, const struct pool *pl,
		      const struct dumpfile_ranges *rs, size_t gone, const struct memread_stats *st)
{
	char rd[32], span[32], holes[200];
	uint64_t not_read = 0;
	size_t o = 0;

	for (int h = 0; h < MEMREAD_HOLE_COUNT; h++)
		not_read += st->pages[h];
	holes[0] = '\0';
	if (rs->n > 1)
		o += (size_t)snprintf(holes + o, sizeof(holes) - o, "%zu gap%s between members", rs->n - 1, rs->n == 2 ? "" : "s");
	if (not_read)
		o += (size_t)snprintf(holes + o, sizeof(holes) - o, "%s%llu page%s not present or skipped",
				      o ? ", " : "", (unsigned long long)not_read, not_read == 1 ? "" : "s");
	if (!o)
		snprintf(holes, sizeof(holes), "none");
	fmt_size(st->bytes_read, rd, sizeof(rd));
	fmt_size(rs->r[rs->n - 1][1] - rs->r[0][0], span, sizeof(span));
	if (pl)
		ui_set_msg(u, "wrote %s +.json: %zu pool members in %zu range%s, %s read%s; holes: %s",
			   name, pl->nmembers - gone, rs->n, rs->n == 1 ? "" : "s", rd,
			   gone ? " (members gone from the map not read)" : "", holes);
	else
		ui_set_msg(u, "wrote %s +.json: %s read of %s; holes: %s", name, rd, span, holes);
}

/* Enter on d's prompt: the row to a sparse file and its manifest FILE.json, present pages
 * only, as dump -o writes them (no freeze). */
static void dump_to(struct ui *u, const char *name)
{
	char tmp[600], mpath[600];
	const struct snapshot *snap;
	const struct pool *pl = NULL;
	struct rw_err err;
	struct memread_stats st;
	struct dump_info info;
	struct dumpfile dc;
	struct dumpfile_ranges rs = { 0 };
	size_t gone = 0;
	double t0, t1;
	int r;

	if (u->w.exited || !name[0])
		return;
	snprintf(mpath, sizeof(mpath), "%s.json", name);
	if (access(name, F_OK) == 0 || access(mpath, F_OK) == 0) {
		ui_set_msg(u, "%s exists: not replaced", access(name, F_OK) == 0 ? name : mpath);
		return;
	}
	snap = sampler_full_snapshot(&u->w.sm, &err);   /* VmFlags for memread's skip rules */
	if (!snap) {
		ui_set_msg(u, "dump failed: %s", err.msg);
		return;
	}
	if (u->dump_pool) {
		/* the pool as it is in the latest sample (members come and go while one types) */
		pl = watch_find_pool(&u->w, u->dump_id);
		if (!pl) {
			ui_set_msg(u, "the pool is not in the latest sample: nothing dumped");
			return;
		}
		gone = pool_ranges(snap, pl, &rs);
		if (!rs.n) {
			ui_set_msg(u, "the pool's members are gone from the map: nothing dumped");
			dumpfile_ranges_free(&rs);
			return;
		}
		if (rs.r[rs.n - 1][1] - rs.r[0][0] > UI_DUMP_MAX_SPAN) {
			char sp[32];
			ui_set_msg(u, "the pool's members span %s: too far apart for one file at address "
				   "offsets; expand it (+) and dump a member",
				   fmt_size(rs.r[rs.n - 1][1] - rs.r[0][0], sp, sizeof(sp)));
			dumpfile_ranges_free(&rs);
			return;
		}
	} else {
		dumpfile_ranges_add(&rs, u->dump_start, u->dump_end);
	}
	memset(&dc, 0, sizeof(dc));
	/* O_TMPFILE + link, as dump -o: nothing is left if we die, nothing is replaced. */
	dc.fd = tmpfile_open(name, 0600, tmp, sizeof(tmp));   /* dumps hold secrets */
	if (dc.fd < 0) {
		ui_set_msg(u, "%s: %s", name, strerror(-dc.fd));
		dumpfile_ranges_free(&rs);
		return;
	}
	dc.base = rs.r[0][0];
	t0 = now_mono();
	r = read_ranges(u, snap, &rs, &dc, &st, &err);
	t1 = now_mono();
	if (r && !st.exited) {
		ui_set_msg(u, "dump failed: %s (nothing kept)", err.msg);
	} else if (st.exited) {
		ui_set_msg(u, "the process exited during the read: %s not written", name);
	} else if (!st.bytes_read) {
		ui_set_msg(u, "no page present (not read: nothing to dump): %s not written", name);
	} else {
		dumpfile_info(&info, snap, name, rs.r[0][0], rs.r[rs.n - 1][1], &dc, &st);
		/* the sampler's snapshot has no header: the process is the monitor's */
		info.pid = (int)u->o->pid;
		info.comm = u->w.sm.comm;
		info.read_ms = (t1 - t0) * 1e3;
		info.freeze_ms = -1;            /* not frozen */
		if (pl) {
			/* the manifest names the pool, not the region its first member is */
			info.path = pl->row.path;
			info.kind = pool_kind_name(pl->kind);
			info.perms = pl->row.perms;
		}
		if (dumpfile_commit(&dc, tmp, name, &info, 0, &err))
			ui_set_msg(u, "dump failed: %s", err.msg);
		else
			dump_said(u, name, pl, &rs, gone, &st);
	}
	if (dc.fd >= 0)
		close(dc.fd);
	tmpfile_discard(tmp);
	free(dc.runs);
	dumpfile_ranges_free(&rs);
}

static void move_sel(struct ui *u, long by)
{
	long s = (long)u->sel + by;
	if (s < 0)
		s = 0;
	if (s >= (long)u->nrows)
		s = u->nrows ? (long)u->nrows - 1 : 0;
	u->sel = (size_t)s;
	if (u->nrows)
		u->sel_id = u->rows[u->sel]->id;
}

static void set_expanded(struct ui *u, uint64_t id, int on)
{
	for (size_t i = 0; i < u->nexpanded; i++)
		if (u->expanded[i] == id) {
			if (!on)
				u->expanded[i] = u->expanded[--u->nexpanded];
			return;
		}
	if (on && u->nexpanded < UI_MAX_EXPANDED)
		u->expanded[u->nexpanded++] = id;
}

/* The pool row a member row sits under. */
static size_t parent_row(const struct ui *u, size_t i)
{
	while (i && (u->rtree[i] == TREE_MEMBER || u->rtree[i] == TREE_MEMBER_LAST))
		i--;
	return i;
}

/* +/Right expand the selected pool row, -/Left collapse it (on a member: its pool, and the
 * selection goes to the pool's row), * expands every pool row or, when all are, collapses
 * them (htop's tree keys; tmux's choose-tree uses Left/Right the same way). */
static unsigned tree_key(struct ui *u, int ch)
{
	size_t i = u->sel;
	enum ui_tree t;

	if (!u->nrows)
		return UI_HANDLED;
	t = (enum ui_tree)u->rtree[i];
	if (ch == '*') {
		int all = 1;
		for (size_t k = 0; k < u->w.nrank; k++)
			if (u->w.rank_pool[k] && !ui_pool_expanded(u, u->w.rank[k]->id))
				all = 0;
		for (size_t k = 0; k < u->w.nrank; k++)
			if (u->w.rank_pool[k])
				set_expanded(u, u->w.rank[k]->id, !all);
		if (!all)
			ui_set_msg(u, "every pool row expanded (* again collapses them)");
		else if (t == TREE_MEMBER || t == TREE_MEMBER_LAST)
			u->sel_id = u->rows[parent_row(u, i)]->id;
		return UI_HANDLED | UI_RESORT | UI_REDRAW;
	}
	if (ch == '+' || ch == KEY_RIGHT) {
		if (t == TREE_POOL) {
			set_expanded(u, u->rows[i]->id, 1);
			return UI_HANDLED | UI_RESORT | UI_REDRAW;
		}
		if (t == TREE_POOL_OPEN && ch == KEY_RIGHT && i + 1 < u->nrows) {
			u->sel = i + 1;         /* already open: Right steps into it */
			u->sel_id = u->rows[u->sel]->id;
			return UI_HANDLED | UI_REDRAW;
		}
		return UI_HANDLED;
	}
	/* '-' or Left */
	if (t == TREE_MEMBER || t == TREE_MEMBER_LAST)
		i = parent_row(u, i);
	if (u->rtree[i] != TREE_POOL_OPEN)
		return UI_HANDLED;
	set_expanded(u, u->rows[i]->id, 0);
	u->sel = i;
	u->sel_id = u->rows[i]->id;
	return UI_HANDLED | UI_RESORT | UI_REDRAW;
}

unsigned ui_table_key(struct ui *u, int ch)
{
	int page = LINES - 6 > 1 ? LINES - 6 : 1;

	switch (ch) {
	case 'q': case 'Q': return UI_HANDLED | UI_QUIT;
	case KEY_UP: case 'k': move_sel(u, -1); break;
	case KEY_DOWN: case 'j': move_sel(u, 1); break;
	case KEY_PPAGE: move_sel(u, -page); break;
	case KEY_NPAGE: move_sel(u, page); break;
	case KEY_HOME: case 'g': move_sel(u, -(long)u->nrows); break;
	case KEY_END: case 'G': move_sel(u, (long)u->nrows); break;
	case '\n': case '\r': case KEY_ENTER: return ui_region_open(u);
	case '+': case '-': case '*': case KEY_RIGHT: case KEY_LEFT: return tree_key(u, ch);
	case 'c':
		u->chart = !u->chart;
		return UI_HANDLED | UI_REDRAW;
	case 'S': u->sort = SORT_SCORE; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'M': u->sort = SORT_RSS; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'D': u->sort = SORT_DELTA; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'R': u->sort = SORT_RATE; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'A': u->sort = SORT_ADDR; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'o': u->sort = (u->sort + 1) % SORT_COUNT; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'a': u->anon_only = !u->anon_only; return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'H':
		u->spark_shared = !u->spark_shared;
		ui_set_msg(u, u->spark_shared ? "HISTORY: one scale for all rows on screen (0 to the largest)"
					      : "HISTORY: each row on its own scale");
		return UI_HANDLED | UI_REDRAW;
	case '/':
		return ui_prompt_open(u, PROMPT_FILTER, "filter (path or kind; empty clears, Esc cancels): ",
				      u->filter);
	case 'p': case ' ':
		u->paused = !u->paused;
		ui_set_msg(u, u->paused ? "sampling paused (p resumes)" : "sampling resumed");
		/* resuming: the sample that fell due while paused is taken now */
		return UI_HANDLED | UI_REDRAW | (u->paused ? 0 : UI_RESAMPLE);
	case 'b':
		watch_set_baseline(&u->w);
		u->gbase_due = 1;           /* the New tab's, after the next draw */
		ui_set_msg(u, "baseline set: DELTA and the New tab count from now");
		return UI_HANDLED | UI_RESORT | UI_REDRAW;
	case 'd': return dump_ask(u);
	case 't': return ui_stacks_ask(u);
	case '?': case 'h': u->view = VIEW_HELP; break;
	default: return 0;
	}
	return UI_HANDLED | UI_REDRAW;
}

/* Enter on / or d's prompt. */
unsigned ui_table_answer(struct ui *u, enum ui_prompt_kind kind, const char *text)
{
	if (kind == PROMPT_FILTER) {
		/* an empty line clears the filter */
		snprintf(u->filter, sizeof(u->filter), "%s", text);
		return UI_HANDLED | UI_RESORT | UI_REDRAW;
	}
	if (kind == PROMPT_DUMP)
		dump_to(u, text);
	return UI_HANDLED | UI_REDRAW;
}

void ui_table_draw(struct ui *u)
{
	erase();
	draw_header(u);
	draw_rows(u);
	ui_draw_footer(u, UI_TABLE_KEYS);
}

void ui_table_free(struct ui *u)
{
	free(u->rows);
	free(u->st);
	free(u->delta);
	free(u->rpool);
	free(u->rtree);
	free(u->rstat_ok);
	u->rstat_ok = NULL;
	u->rpool = NULL;
	u->rtree = NULL;
	u->rows = NULL;
	u->st = NULL;
	u->delta = NULL;
	u->nrows = u->rows_cap = 0;
}
