/* ui_table: the monitor's main view. The rows are the watch model's ranking (every area),
 * filtered and sorted here; the header and table draw them; the keys move, sort, filter,
 * set the baseline, dump the selected area and open it. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"
#include "memread.h"

#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const sort_names[SORT_COUNT] = { "score", "RSS", "delta", "rate", "address" };

static int row_matches(const struct ui *u, const struct area *a)
{
	if (u->anon_only && a->path[0] && strncmp(a->path, "[heap]", 6) && strncmp(a->path, "[stack", 6) &&
	    strncmp(a->path, "[anon", 5))
		return 0;
	if (u->filter[0] && !strstr(a->path, u->filter) &&
	    !strstr(region_kind_name((enum region_kind)a->kind), u->filter))
		return 0;
	return 1;
}

static double sort_value(const struct ui *u, size_t i)
{
	switch (u->sort) {
	case SORT_RSS: return (double)u->st[i].rss_last;
	case SORT_DELTA: return (double)u->delta[i];
	case SORT_RATE: return u->st[i].rate;
	case SORT_ADDR: return -(double)u->rows[i]->start;
	default: return 0;
	}
}

/* Descending by the key; ties keep the score order (the index). */
static int cmp_rows(const void *x, const void *y, void *ctx)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	double va = sort_value(ctx, a), vb = sort_value(ctx, b);
	if (va != vb)
		return va < vb ? 1 : -1;
	return (a > b) - (a < b);
}

/* The score order is the model's; any other key sorts the filtered rows here. */
static void sort_rows(struct ui *u)
{
	size_t *idx = xcalloc(u->nrows, sizeof(*idx));
	const struct area **rows = xcalloc(u->nrows, sizeof(*rows));
	struct area_stats *st = xcalloc(u->nrows, sizeof(*st));
	int64_t *delta = xcalloc(u->nrows, sizeof(*delta));

	for (size_t i = 0; i < u->nrows; i++)
		idx[i] = i;
	qsort_r(idx, u->nrows, sizeof(*idx), cmp_rows, u);
	for (size_t i = 0; i < u->nrows; i++) {
		rows[i] = u->rows[idx[i]];
		st[i] = u->st[idx[i]];
		delta[i] = u->delta[idx[i]];
	}
	memcpy(u->rows, rows, u->nrows * sizeof(*rows));
	memcpy(u->st, st, u->nrows * sizeof(*st));
	memcpy(u->delta, delta, u->nrows * sizeof(*delta));
	free(idx);
	free(rows);
	free(st);
	free(delta);
}

void ui_table_rebuild(struct ui *u)
{
	size_t n;

	/* The ranking of the latest watch_rank (every area); filter and sort are the view's. */
	n = u->w.nrank;
	if (u->rows_cap < n + 1) {
		u->rows_cap = n * 2 + 16;
		u->rows = xreallocarray(u->rows, u->rows_cap, sizeof(*u->rows));
		u->st = xreallocarray(u->st, u->rows_cap, sizeof(*u->st));
		u->delta = xreallocarray(u->delta, u->rows_cap, sizeof(*u->delta));
	}
	u->nrows = 0;
	for (size_t i = 0; i < n; i++) {
		int found;
		uint64_t b;
		if (!row_matches(u, u->w.rank[i]))
			continue;
		b = watch_baseline_rss(&u->w, u->w.rank[i]->id, &found);
		u->rows[u->nrows] = u->w.rank[i];
		u->st[u->nrows] = u->w.rank_st[i];
		u->delta[u->nrows] = (int64_t)u->w.rank_st[i].rss_last - (int64_t)b;
		u->nrows++;
	}
	if (u->sort != SORT_SCORE && u->nrows > 1)
		sort_rows(u);
	/* keep the selection on the same area */
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i]->id == u->sel_id) {
			u->sel = i;
			return;
		}
	if (u->sel >= u->nrows)
		u->sel = u->nrows ? u->nrows - 1 : 0;
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
static int format_row(const struct ui *u, size_t i, const struct layout *l, char *line, size_t len)
{
	char sz[32], rss[32], d[32], rate[32], trend[32], sp[256], path[512], range[48];
	const char *dash = u->utf8 ? "\xe2\x80\x94" : "-";
	const struct area *a = u->rows[i];
	const struct area_stats *st = &u->st[i];

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
			 region_kind_name((enum region_kind)a->kind));
	}
	/* PATH is the last column: when it is cut, keep its end (the file name) */
	{
		size_t o = strlen(line);
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
	int y0 = 4, rows = LINES - y0 - 1;
	struct layout l;
	char hdr[256];

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

struct dump_sink {
	int fd;
	uint64_t base;
	int err;
};

static void dump_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct dump_sink *d = ctx;
	if (!d->err && pwrite(d->fd, buf, len, (off_t)(addr - d->base)) != (ssize_t)len)
		d->err = errno ? errno : EIO;
}

/* d: ask for a file name for the selected area (the loop goes on sampling meanwhile). */
static unsigned dump_ask(struct ui *u)
{
	const struct area *a;
	char name[200];

	if (!u->nrows || u->w.exited)
		return UI_HANDLED;
	a = u->rows[u->sel];
	u->dump_start = a->start;
	u->dump_end = a->end;
	snprintf(name, sizeof(name), "regionwatch-%d-%llx.bin", u->o->pid, (unsigned long long)a->start);
	return ui_prompt_open(u, PROMPT_DUMP, "dump to (Esc cancels): ", name);
}

/* Enter on d's prompt: the area asked about to a file, present pages only, as dump -o
 * (no freeze). */
static void dump_to(struct ui *u, const char *name)
{
	char tmp[600];
	const struct snapshot *snap;
	struct rw_err err;
	struct memread_stats st;
	struct dump_sink ds = { -1, 0, 0 };
	struct memread_sink sink = { dump_data, NULL, &ds };

	if (u->w.exited || !name[0])
		return;
	memset(&st, 0, sizeof(st));
	if (access(name, F_OK) == 0) {
		ui_set_msg(u, "%s exists: not replaced", name);
		return;
	}
	/* O_TMPFILE + link, as dump -o: nothing is left if we die, nothing is replaced. */
	ds.fd = tmpfile_open(name, 0600, tmp, sizeof(tmp));
	if (ds.fd < 0) {
		ui_set_msg(u, "%s: %s", name, strerror(-ds.fd));
		return;
	}
	ds.base = u->dump_start;
	snap = sampler_full_snapshot(&u->w.sm, &err);   /* VmFlags for memread's skip rules */
	if (!snap) {
		ui_set_msg(u, "dump failed: %s", err.msg);
		ds.err = ESRCH;
	} else if (memread_range(&u->w.sm.proc, snap, u->dump_start, u->dump_end, NULL, &sink, &st, &err) &&
		   !st.exited) {
		ui_set_msg(u, "dump failed: %s", err.msg);
		ds.err = ds.err ? ds.err : EIO;
	}
	if (!ds.err && st.exited)
		ds.err = ESRCH;
	if (!ds.err && ftruncate(ds.fd, (off_t)(u->dump_end - u->dump_start)) < 0)
		ds.err = errno;
	if (!ds.err && fsync(ds.fd) < 0)
		ds.err = errno;
	if (!ds.err) {
		int e = tmpfile_commit(ds.fd, tmp, name, 0);
		if (e)
			ds.err = -e;
	}
	close(ds.fd);
	if (!ds.err) {
		char sz[32];
		ui_set_msg(u, "wrote %s: %s read (present pages only; not-present pages are holes)", name,
			fmt_size(st.bytes_read, sz, sizeof(sz)));
	} else {
		tmpfile_discard(tmp);
		ui_set_msg(u, "dump failed: %s (nothing kept)", strerror(ds.err));
	}
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
		ui_set_msg(u, "baseline set: DELTA counts from now");
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
	ui_draw_footer(u, "Enter open  S M D R A sort  a anon  / filter  p pause  b baseline  d dump  ? help  q quit");
}

void ui_table_free(struct ui *u)
{
	free(u->rows);
	free(u->st);
	free(u->delta);
	u->rows = NULL;
	u->st = NULL;
	u->delta = NULL;
	u->nrows = u->rows_cap = 0;
}
