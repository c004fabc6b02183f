/* ui: the live monitor. One loop: a timeout()-driven getch(), a monotonic clock for sampling,
 * a dirty flag, one refresh per pass (style guide "UI"). Views draw from state; the only
 * I/O is sampling (sampler), region content (memread: present pages only) and dumps. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui.h"
#include "analysis.h"
#include "memread.h"
#include "procfs.h"
#include "stacks.h"
#include "util.h"
#include "watch.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAMPLE_CAP (16u << 20)       /* bytes read per region-view refresh */
#define HEX_WINDOW (64u * 1024)      /* bytes of hex view kept around the cursor */
#define TOPN 20

enum sort_key { SORT_SCORE, SORT_RSS, SORT_DELTA, SORT_RATE, SORT_ADDR, SORT_COUNT };
static const char *const sort_names[SORT_COUNT] = { "score", "RSS", "delta", "rate", "address" };
enum view { VIEW_TABLE, VIEW_REGION, VIEW_HELP, VIEW_STACKS };
enum tab { TAB_HEX, TAB_STRINGS, TAB_HIST, TAB_PAGES, TAB_GREP, TAB_COUNT };
static const char *const tab_names[TAB_COUNT] = { "Hex", "Strings", "Histogram", "Pages", "Grep" };

enum { C_HEADER = 1, C_GROWING, C_SAWTOOTH, C_SHRINK, C_SEL, C_DIM, C_WARN };

struct top_copy {
	char *text;
	uint64_t count, error;
};

struct ui {
	const struct ui_opts *o;
	struct watch w;              /* the live model: sampler, timeline, ranking, baseline */
	int paused, quit, color, utf8;
	double next_sample, t0;
	/* table: the watch ranking, filtered and sorted here */
	const struct area **rows;
	struct area_stats *st;
	int64_t *delta;
	size_t nrows, rows_cap, sel, top;
	uint64_t sel_id;
	enum sort_key sort;
	int anon_only;
	char filter[64];
	/* views */
	enum view view;
	enum tab tab;
	char msg[256];
	double msg_until;
	/* region */
	uint64_t rstart, rend;
	char rdesc[256];
	pid_t rpid;
	unsigned char *hex;          /* HEX_WINDOW bytes at hex_base */
	unsigned char *hex_present;  /* per 4 KiB page of the window */
	uint64_t hex_base, hex_top;  /* window start; address of the first line shown */
	int hex_valid;
	struct top_copy tops[TOPN], shapes[TOPN];
	size_t ntops, nshapes;
	uint64_t strings_found;
	struct scan_hist_result hist;
	int have_hist;
	uint64_t read_bytes, read_present;
	int read_truncated;
	uint32_t *pmap_present, *pmap_swapped;
	size_t pmap_n;
	char grep_pat[256];
	struct analysis_match *matches;
	size_t nmatches, msel;
	uint64_t matches_total;
	/* backtraces: stacks_collect's result, formatted as lines */
	char **stack_lines;
	size_t nstack_lines, stack_top;
};

static volatile sig_atomic_t ui_signal;

static void on_signal(int sig)
{
	ui_signal = sig;
}

static void set_msg(struct ui *u, const char *fmt, ...) RW_PRINTF(2, 3);
static void set_msg(struct ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	u->msg_until = now_mono() + 4;
}

/* ---- sampling ---------------------------------------------------------------------- */

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

static const struct ui *sort_ui;

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
static int cmp_rows(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	double va = sort_value(sort_ui, a), vb = sort_value(sort_ui, b);
	if (va != vb)
		return va < vb ? 1 : -1;
	return (a > b) - (a < b);
}

static void rebuild_rows(struct ui *u)
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
	if (u->sort != SORT_SCORE && u->nrows > 1) {
		size_t *idx = xcalloc(u->nrows, sizeof(*idx));
		const struct area **rows = xcalloc(u->nrows, sizeof(*rows));
		struct area_stats *st = xcalloc(u->nrows, sizeof(*st));
		int64_t *delta = xcalloc(u->nrows, sizeof(*delta));
		for (size_t i = 0; i < u->nrows; i++)
			idx[i] = i;
		sort_ui = u;
		qsort(idx, u->nrows, sizeof(*idx), cmp_rows);
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
	/* keep the selection on the same area */
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i]->id == u->sel_id) {
			u->sel = i;
			return;
		}
	if (u->sel >= u->nrows)
		u->sel = u->nrows ? u->nrows - 1 : 0;
}

static void take_sample(struct ui *u)
{
	struct rw_err err;
	int r;

	if (u->w.exited)
		return;
	r = watch_step(&u->w, &err);
	if (r == -ESRCH) {
		set_msg(u, "process %d exited: showing the last data; q quits", u->o->pid);
		return;
	}
	if (r) {
		set_msg(u, "sample failed: %s", err.msg);
		return;
	}
	watch_rank(&u->w, SIZE_MAX);
	rebuild_rows(u);
}

/* ---- drawing ------------------------------------------------------------------------- */

static void attr_color(struct ui *u, int pair, int on)
{
	if (!u->color)
		return;
	if (on)
		attron(COLOR_PAIR(pair));
	else
		attroff(COLOR_PAIR(pair));
}

/* Draw at most width columns of s (UTF-8: continuation bytes take no column). */
static void put_clipped(int y, int x, int width, const char *s)
{
	int cols = 0;
	size_t n = 0;

	if (width <= 0)
		return;
	for (; s[n]; n++) {
		if (((unsigned char)s[n] & 0xc0) == 0x80)
			continue;
		if (cols++ == width)
			break;
	}
	mvaddnstr(y, x, s, (int)n);
}

static void sparkline(struct ui *u, const struct area *a, int width, char *out, size_t outlen)
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
	out[0] = '\0';
	for (int i = 0; i < n && o + 4 < outlen; i++) {
		int level;
		if (vals[i] == UINT64_MAX) {
			out[o++] = ' ';
			continue;
		}
		level = hi > lo ? (int)((double)(vals[i] - lo) * 7.0 / (double)(hi - lo) + 0.5) : 0;
		if (u->utf8) {
			memcpy(out + o, blocks[level], 3);
			o += 3;
		} else {
			out[o++] = ascii[level];
		}
	}
	out[o] = '\0';
}

static void draw_header(struct ui *u)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], line[512], comm[64];
	double up = u->w.tl.seq ? now_mono() - u->t0 : 0;

	escape_ctl(u->w.sm.comm, comm, sizeof(comm));
	snprintf(line, sizeof(line), "regionwatch  pid %d (%s)  up %.0fs  every %.2gs%s%s", u->o->pid,
		 comm, up, u->o->interval, u->paused ? "  PAUSED" : "",
		 u->w.exited ? "  TARGET EXITED" : "");
	attron(A_BOLD);
	attr_color(u, u->w.exited ? C_WARN : C_HEADER, 1);
	mvhline(0, 0, ' ', COLS);
	put_clipped(0, 0, COLS, line);
	attr_color(u, u->w.exited ? C_WARN : C_HEADER, 0);
	attroff(A_BOLD);
	snprintf(line, sizeof(line), "RSS %s (%s/s)  anon %s (%s/s)  swap %s (%s/s)",
		 fmt_size(u->w.tot.rss, a, sizeof(a)), fmt_delta((int64_t)u->w.tot.rss_rate, b, sizeof(b)),
		 fmt_size(u->w.tot.anon, c, sizeof(c)), fmt_delta((int64_t)u->w.tot.anon_rate, d, sizeof(d)),
		 fmt_size(u->w.tot.swap, e, sizeof(e)), fmt_delta((int64_t)u->w.tot.swap_rate, f, sizeof(f)));
	put_clipped(1, 0, COLS, line);
	{
		struct watch_view v;
		size_t o;

		watch_fill_view(&u->w, &v);
		o = (size_t)snprintf(line, sizeof(line), "sort: %s%s%s  areas %zu  cost %.1f ms/sample",
				     sort_names[u->sort], u->anon_only ? "  [anon only]" : "",
				     u->filter[0] ? "  [filter]" : "", v.nareas, v.cost_ms);
		/* The cost budget (--max-cost), said as watch's text header says it. */
		if (v.stretched)
			o += (size_t)snprintf(line + o, sizeof(line) - o,
					      "  interval stretched to %.2fs (over the %g%% CPU budget)",
					      v.interval, v.max_cost);
		if (u->w.lim.kind) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "  %s %s left",
					      u->w.lim.kind == 1 ? "cgroup" : "MemAvailable",
					      fmt_size(u->w.lim.headroom, a, sizeof(a)));
			if (u->w.tot.rss_rate > 0 && timeline_window_samples(&u->w.tl) >= 3) {
				double s = (double)u->w.lim.headroom / u->w.tot.rss_rate;
				snprintf(line + o, sizeof(line) - o, " (~%.0f%s at this rate, rough)",
					 s < 7200 ? s / 60 : s / 3600, s < 7200 ? "m" : "h");
			}
		}
		put_clipped(2, 0, COLS, line);
	}
}

static void draw_table(struct ui *u)
{
	/* 120+ columns: the whole range and the size; 60+: the start address; less: no address. */
	int y0 = 4, rows = LINES - y0 - 1, wide = COLS >= 120, narrow = COLS < 60;
	int aw = narrow ? 0 : wide ? 25 : 12, spark = COLS >= 120 ? 16 : COLS >= 76 ? 8 : 0;
	char hdr[256];

	if (rows < 1)
		return;
	if (narrow)
		snprintf(hdr, sizeof(hdr), "%8s %8s %-8s %s", "RSS", "DELTA", "TREND", "PATH");
	else
		snprintf(hdr, sizeof(hdr), "%-*s %s%8s %8s %9s %-*s%s%-9s %-11s %s", aw,
			 wide ? "ADDRESS" : "START", wide ? "   SIZE " : "", "RSS", "DELTA", "RATE", spark,
			 spark ? "HISTORY" : "", spark ? " " : "", "TREND", "KIND", "PATH");
	attron(A_REVERSE);
	mvhline(y0 - 1, 0, ' ', COLS);
	put_clipped(y0 - 1, 0, COLS, hdr);
	attroff(A_REVERSE);
	if (u->sel < u->top)
		u->top = u->sel;
	if (u->sel >= u->top + (size_t)rows)
		u->top = u->sel - (size_t)rows + 1;
	for (int r = 0; r < rows; r++) {
		size_t i = u->top + (size_t)r;
		char line[1024], sz[32], rss[32], d[32], rate[32], sp[256], path[512], range[48];
		const struct area *a;
		const struct area_stats *st;
		int pair = 0;

		move(y0 + r, 0);
		clrtoeol();
		if (i >= u->nrows)
			continue;
		a = u->rows[i];
		st = &u->st[i];
		escape_ctl(a->path[0] ? a->path : "", path, sizeof(path));
		if (wide)
			snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)a->start,
				 (unsigned long long)a->end);
		else
			snprintf(range, sizeof(range), "%llx", (unsigned long long)a->start);
		sparkline(u, a, spark, sp, sizeof(sp));
		fmt_size(a->size, sz, sizeof(sz));
		fmt_size(st->rss_last, rss, sizeof(rss));
		fmt_delta(u->delta[i], d, sizeof(d));
		snprintf(rate, sizeof(rate), "%s/s", fmt_delta((int64_t)st->rate, line, 32));
		if (narrow) {
			snprintf(line, sizeof(line), "%8s %8s %-8s %s", rss, d, trend_name(st->trend),
				 path[0] ? path : region_kind_name((enum region_kind)a->kind));
		} else {
			int pad = spark - (int)(u->utf8 ? strlen(sp) / 3 : strlen(sp));
			size_t o = (size_t)snprintf(line, sizeof(line), "%-*s ", aw, range);
			if (wide)
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%7s ", sz);
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%8s %8s %9s %s%*s%s%-9s %-11s %s",
					      rss, d, rate, sp, pad > 0 ? pad : 0, "", spark ? " " : "",
					      trend_name(st->trend), region_kind_name((enum region_kind)a->kind),
					      path);
		}
		if (st->trend == TREND_GROWING)
			pair = C_GROWING;
		else if (st->trend == TREND_SAWTOOTH)
			pair = C_SAWTOOTH;
		else if (st->trend == TREND_SHRINKING)
			pair = C_SHRINK;
		if (i == u->sel)
			attron(A_REVERSE);
		else if (pair)
			attr_color(u, pair, 1);
		put_clipped(y0 + r, 0, COLS, line);
		if (i == u->sel)
			attroff(A_REVERSE);
		else if (pair)
			attr_color(u, pair, 0);
	}
}

static void draw_footer(struct ui *u, const char *keys)
{
	move(LINES - 1, 0);
	clrtoeol();
	if (u->msg[0] && now_mono() < u->msg_until) {
		attron(A_BOLD);
		put_clipped(LINES - 1, 0, COLS, u->msg);
		attroff(A_BOLD);
	} else {
		attr_color(u, C_DIM, 1);
		put_clipped(LINES - 1, 0, COLS, keys);
		attr_color(u, C_DIM, 0);
	}
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"regionwatch monitor: keys",
		"",
		"  Up/Down j/k PgUp/PgDn Home/End   move",
		"  Enter      open the region: Hex, Strings, Histogram, Pages, Grep",
		"  S M D R A  sort by score, RSS (memory), delta, rate, address; o cycles",
		"  a          anonymous areas only (toggle)",
		"  /          filter by path or kind (empty clears)",
		"  p, space   pause sampling",
		"  b          baseline: deltas from now",
		"  d          dump the selected region to a file (present pages only)",
		"  t          thread backtraces: asks first, then stops every thread for a few ms",
		"  q          quit (exit 1 if the target exited)",
		"",
		"In a region: Tab/1-5 switch tabs, arrows/PgUp/PgDn scroll, g jump to an address,",
		"r re-read, / grep (Grep tab), Enter on a match shows it in Hex, q/Esc back.",
		"",
		"Trend and score are heuristics (regionwatch(1), WATCH). Content views read only",
		"pages that pagemap reports present, at most 16 MiB per refresh.",
		"",
		"Press any key.",
	};
	erase();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < LINES; i++)
		put_clipped((int)i, 0, COLS, lines[i]);
}

/* ---- region content ------------------------------------------------------------------ */

struct hex_sink {
	struct ui *u;
};

static void hex_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct ui *u = ctx;
	if (addr < u->hex_base || addr + len > u->hex_base + HEX_WINDOW)
		return;
	memcpy(u->hex + (addr - u->hex_base), buf, len);
	for (uint64_t p = addr; p < addr + len; p += 4096)
		u->hex_present[(p - u->hex_base) / 4096] = 1;
}

static void load_hex(struct ui *u)
{
	struct rw_err err;
	struct memread_stats st;
	struct memread_sink sink = { hex_data, NULL, u };
	uint64_t end;

	u->hex_base = u->hex_top & ~(uint64_t)(HEX_WINDOW / 2 - 1);
	if (u->hex_base > u->hex_top)
		u->hex_base = u->hex_top;
	if (u->hex_base < u->rstart)
		u->hex_base = u->rstart & ~(uint64_t)4095;
	end = u->hex_base + HEX_WINDOW;
	if (end > u->rend)
		end = u->rend;
	memset(u->hex, 0, HEX_WINDOW);
	memset(u->hex_present, 0, HEX_WINDOW / 4096);
	u->hex_valid = 1;
	/* Through the sampler's pinned dir fd: by path, a reused pid is another process. */
	if (u->w.exited)
		return;
	memread_range(&u->w.sm.proc, u->w.sm.snap, u->hex_base, end, NULL, &sink, &st, &err);
}

static void free_region_results(struct ui *u)
{
	for (size_t i = 0; i < u->ntops; i++)
		free(u->tops[i].text);
	for (size_t i = 0; i < u->nshapes; i++)
		free(u->shapes[i].text);
	u->ntops = u->nshapes = 0;
	for (size_t i = 0; i < u->nmatches; i++)
		free(u->matches[i].text);
	free(u->matches);
	u->matches = NULL;
	u->nmatches = u->msel = 0;
}

/* One capped pass: top strings and shapes, histogram, grep (if a pattern is set). */
static void analyse_region(struct ui *u)
{
	struct analysis_opts ao;
	struct analysis *an;
	const struct procfs *p = &u->w.sm.proc;
	struct rw_err err;
	struct memread_stats st;
	struct memread_opts mo;
	struct memread_sink sink;
	struct scan_top_entry e[TOPN];

	free_region_results(u);
	u->have_hist = 0;
	if (u->w.exited) {
		set_msg(u, "cannot read the region: the process is gone");
		return;
	}
	memset(&ao, 0, sizeof(ao));
	ao.top = TOPN;
	ao.histogram = 1;
	ao.grep = u->grep_pat[0] ? u->grep_pat : NULL;
	ao.json = 1;                      /* collect, print nothing */
	ao.base = u->rstart;
	ao.size = u->rend - u->rstart;
	ao.out = stdout;
	an = analysis_new(&ao, &err);
	if (!an) {
		set_msg(u, "%s", err.msg);
		u->grep_pat[0] = '\0';
		return;
	}
	memset(&mo, 0, sizeof(mo));
	mo.max_bytes = SAMPLE_CAP;
	sink = (struct memread_sink){ analysis_data, analysis_hole, an };
	memread_range(p, u->w.sm.snap, u->rstart, u->rend, &mo, &sink, &st, &err);
	analysis_finish(an);
	u->read_bytes = st.bytes_read;
	u->read_present = st.pages_present;
	u->read_truncated = st.truncated;
	u->strings_found = an->strings_found;
	u->ntops = analysis_top_strings(an, e, TOPN);
	for (size_t i = 0; i < u->ntops; i++)
		u->tops[i] = (struct top_copy){ xstrndup(e[i].text, e[i].len), e[i].count, e[i].error };
	u->nshapes = analysis_top_shapes(an, e, TOPN);
	for (size_t i = 0; i < u->nshapes; i++)
		u->shapes[i] = (struct top_copy){ xstrndup(e[i].text, e[i].len), e[i].count, e[i].error };
	u->hist = an->hist_result;
	u->have_hist = 1;
	if (an->grep) {
		u->matches = an->matches;
		u->nmatches = an->nmatches;
		u->matches_total = scan_grep_count(an->grep);
		an->matches = NULL;
		an->nmatches = 0;
	}
	analysis_free(an);
	/* resident map */
	u->pmap_n = (size_t)COLS * (size_t)(LINES > 8 ? LINES - 8 : 1);
	free(u->pmap_present);
	free(u->pmap_swapped);
	u->pmap_present = xcalloc(u->pmap_n, sizeof(*u->pmap_present));
	u->pmap_swapped = xcalloc(u->pmap_n, sizeof(*u->pmap_swapped));
	memread_page_map(p, u->rstart, u->rend, u->pmap_n, u->pmap_present, u->pmap_swapped, &err);
}

static void open_region(struct ui *u)
{
	const struct area *a;

	if (!u->nrows)
		return;
	a = u->rows[u->sel];
	u->rstart = a->start;
	u->rend = a->end;
	{
		char path[200];
		escape_ctl(a->path, path, sizeof(path));
		snprintf(u->rdesc, sizeof(u->rdesc), "%llx-%llx  %s  %s", (unsigned long long)a->start,
			 (unsigned long long)a->end, region_kind_name((enum region_kind)a->kind), path);
	}
	u->view = VIEW_REGION;
	u->hex_top = a->start;
	u->hex_valid = 0;
	analyse_region(u);
}

static void draw_region(struct ui *u)
{
	int y = 2, x = 0;
	char line[512], a[32], b[32];

	erase();
	attron(A_BOLD);
	put_clipped(0, 0, COLS, u->rdesc);
	attroff(A_BOLD);
	for (int t = 0; t < TAB_COUNT; t++) {
		snprintf(line, sizeof(line), " %d %s ", t + 1, tab_names[t]);
		if (t == (int)u->tab)
			attron(A_REVERSE);
		put_clipped(1, x, COLS - x, line);
		if (t == (int)u->tab)
			attroff(A_REVERSE);
		x += (int)strlen(line) + 1;
		if (x >= COLS)
			break;
	}
	switch (u->tab) {
	case TAB_HEX: {
		int rows = LINES - 4;
		if (!u->hex_valid || u->hex_top < u->hex_base ||
		    u->hex_top + (uint64_t)rows * 16 > u->hex_base + HEX_WINDOW)
			load_hex(u);
		for (int r = 0; r < rows; r++) {
			uint64_t addr = u->hex_top + (uint64_t)r * 16;
			size_t off;
			int o;
			if (addr >= u->rend)
				break;
			off = (size_t)(addr - u->hex_base);
			if (off + 16 > HEX_WINDOW)
				break;
			o = snprintf(line, sizeof(line), "%012llx  ", (unsigned long long)addr);
			if (!u->hex_present[off / 4096]) {
				snprintf(line + o, sizeof(line) - (size_t)o, "-- page not present: not read --");
			} else {
				for (int i = 0; i < 16; i++)
					o += snprintf(line + o, sizeof(line) - (size_t)o, "%02x %s", u->hex[off + (size_t)i],
						      i == 7 ? " " : "");
				o += snprintf(line + o, sizeof(line) - (size_t)o, " |");
				for (int i = 0; i < 16; i++) {
					unsigned char c = u->hex[off + (size_t)i];
					line[o++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
				}
				line[o++] = '|';
				line[o] = '\0';
			}
			put_clipped(y + r, 0, COLS, line);
		}
		break;
	}
	case TAB_STRINGS:
		snprintf(line, sizeof(line), "read %s of %s%s; %llu strings; r re-reads",
			 fmt_size(u->read_bytes, a, sizeof(a)), fmt_size(u->rend - u->rstart, b, sizeof(b)),
			 u->read_truncated ? " (present pages, capped at 16 MiB)" : " (present pages)",
			 (unsigned long long)u->strings_found);
		put_clipped(y++, 0, COLS, line);
		put_clipped(y++, 0, COLS, "top shapes (digit runs and hex ids as #):");
		for (size_t i = 0; i < u->nshapes && y < LINES / 2 + 2; i++) {
			char esc[400];
			snprintf(line, sizeof(line), "%9llu%s %s", (unsigned long long)u->shapes[i].count,
				 u->shapes[i].error ? "~" : " ", escape_ctl(u->shapes[i].text, esc, sizeof(esc)));
			put_clipped(y++, 0, COLS, line);
		}
		put_clipped(y++, 0, COLS, "top strings:");
		for (size_t i = 0; i < u->ntops && y < LINES - 1; i++) {
			char esc[400];
			snprintf(line, sizeof(line), "%9llu%s %s", (unsigned long long)u->tops[i].count,
				 u->tops[i].error ? "~" : " ", escape_ctl(u->tops[i].text, esc, sizeof(esc)));
			put_clipped(y++, 0, COLS, line);
		}
		break;
	case TAB_HIST: {
		uint64_t groups[16] = { 0 }, max = 1;
		if (!u->have_hist)
			break;
		snprintf(line, sizeof(line), "%s read, entropy %.2f bits/byte, zero pages %llu of %llu",
			 fmt_size(u->hist.bytes, a, sizeof(a)), u->hist.entropy,
			 (unsigned long long)u->hist.zero_pages, (unsigned long long)u->hist.pages);
		put_clipped(y++, 0, COLS, line);
		for (int i = 0; i < 256; i++)
			groups[i / 16] += u->hist.counts[i];
		for (int g = 0; g < 16; g++)
			if (groups[g] > max)
				max = groups[g];
		for (int g = 0; g < 16 && y < LINES - 3; g++) {
			int w = COLS - 20 > 0 ? COLS - 20 : 1;
			int bar = (int)((double)groups[g] / (double)max * w);
			snprintf(line, sizeof(line), "%02x-%02x %6.2f%% ", g * 16, g * 16 + 15,
				 u->hist.bytes ? 100.0 * (double)groups[g] / (double)u->hist.bytes : 0);
			put_clipped(y, 0, COLS, line);
			mvhline(y, (int)strlen(line), u->utf8 ? ACS_CKBOARD : '#', bar);
			y++;
		}
		{
			size_t o = (size_t)snprintf(line, sizeof(line), "64 KiB blocks (a guess):");
			for (int c = 0; c <= SCAN_BLOCK_UNREAD; c++)
				if (u->hist.blocks[c])
					o += (size_t)snprintf(line + o, sizeof(line) - o, " %s %llu",
							      scan_block_class_name((enum scan_block_class)c),
							      (unsigned long long)u->hist.blocks[c]);
			put_clipped(y++, 0, COLS, line);
		}
		break;
	}
	case TAB_PAGES: {
		uint64_t per = u->pmap_n ? (u->rend - u->rstart) / u->pmap_n : 0;
		snprintf(line, sizeof(line), "one cell = %s: # all present, + some, s swapped, . none",
			 fmt_size(per ? per : 4096, a, sizeof(a)));
		put_clipped(y++, 0, COLS, line);
		for (size_t i = 0; i < u->pmap_n; i++) {
			int cy = y + (int)(i / (size_t)COLS), cx = (int)(i % (size_t)COLS);
			uint64_t pages = per / 4096 ? per / 4096 : 1;
			char ch = '.';
			if (cy >= LINES - 1)
				break;
			if (u->pmap_present[i] >= pages)
				ch = '#';
			else if (u->pmap_present[i])
				ch = '+';
			else if (u->pmap_swapped[i])
				ch = 's';
			mvaddch(cy, cx, (chtype)ch);
		}
		break;
	}
	case TAB_GREP:
		snprintf(line, sizeof(line), "/%s/: %llu matches%s; / new pattern, Enter shows a match in Hex",
			 u->grep_pat, (unsigned long long)u->matches_total,
			 u->read_truncated ? " (in the first 16 MiB read)" : "");
		put_clipped(y++, 0, COLS, u->grep_pat[0] ? line : "/ to search the region with a PCRE2 pattern");
		for (size_t i = 0; i < u->nmatches && y < LINES - 1; i++) {
			snprintf(line, sizeof(line), "%llx  %s", (unsigned long long)u->matches[i].addr,
				 u->matches[i].text);
			if (i == u->msel)
				attron(A_REVERSE);
			put_clipped(y++, 0, COLS, line);
			if (i == u->msel)
				attroff(A_REVERSE);
		}
		break;
	default:
		break;
	}
}

/* ---- prompts and actions ----------------------------------------------------------- */

/* A line editor on the last line; returns 0 on Enter, -1 on Esc. Sampling pauses. */
static int prompt(const char *label, char *buf, size_t len)
{
	size_t n = strlen(buf);

	timeout(200);
	curs_set(1);
	for (;;) {
		int ch;
		move(LINES - 1, 0);
		clrtoeol();
		mvprintw(LINES - 1, 0, "%s%s", label, buf);
		refresh();
		ch = getch();
		if (ch == ERR && !ui_signal)
			continue;
		if (ch == '\n' || ch == KEY_ENTER || ch == '\r')
			break;
		if (ch == 27 || ui_signal) {       /* Esc, or a signal (SIGHUP: the terminal left) */
			curs_set(0);
			timeout(100);
			return -1;
		}
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
			buf[--n] = '\0';
		else if (ch >= 0x20 && ch < 0x7f && n + 1 < len) {
			buf[n++] = (char)ch;
			buf[n] = '\0';
		}
	}
	curs_set(0);
	timeout(100);
	return 0;
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

static void dump_selected(struct ui *u)
{
	char name[512], tmp[600];
	const struct area *a;
	struct rw_err err;
	struct memread_stats st;
	struct dump_sink ds = { -1, 0, 0 };
	struct memread_sink sink = { dump_data, NULL, &ds };

	if (!u->nrows || u->w.exited)
		return;
	memset(&st, 0, sizeof(st));
	a = u->rows[u->sel];
	snprintf(name, sizeof(name), "regionwatch-%d-%llx.bin", u->o->pid, (unsigned long long)a->start);
	if (prompt("dump to (Esc cancels): ", name, sizeof(name)) || !name[0])
		return;
	if (access(name, F_OK) == 0) {
		set_msg(u, "%s exists: not replaced", name);
		return;
	}
	/* O_TMPFILE + link, as dump -o: nothing is left if we die, nothing is replaced. */
	ds.fd = tmpfile_open(name, 0600, tmp, sizeof(tmp));
	if (ds.fd < 0) {
		set_msg(u, "%s: %s", name, strerror(-ds.fd));
		return;
	}
	ds.base = a->start;
	if (memread_range(&u->w.sm.proc, u->w.sm.snap, a->start, a->end, NULL, &sink, &st, &err) &&
	    !st.exited) {
		set_msg(u, "dump failed: %s", err.msg);
		ds.err = ds.err ? ds.err : EIO;
	}
	if (!ds.err && st.exited)
		ds.err = ESRCH;
	if (!ds.err && ftruncate(ds.fd, (off_t)(a->end - a->start)) < 0)
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
		set_msg(u, "wrote %s: %s read (present pages only; not-present pages are holes)", name,
			fmt_size(st.bytes_read, sz, sizeof(sz)));
	} else {
		tmpfile_discard(tmp);
		set_msg(u, "dump failed: %s (nothing kept)", strerror(ds.err));
	}
}

static void free_stacks(struct ui *u)
{
	for (size_t i = 0; i < u->nstack_lines; i++)
		free(u->stack_lines[i]);
	free(u->stack_lines);
	u->stack_lines = NULL;
	u->nstack_lines = u->stack_top = 0;
}

static void add_stack_line(struct ui *u, size_t *cap, const char *fmt, ...) RW_PRINTF(3, 4);
static void add_stack_line(struct ui *u, size_t *cap, const char *fmt, ...)
{
	char line[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (u->nstack_lines == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		u->stack_lines = xreallocarray(u->stack_lines, *cap, sizeof(*u->stack_lines));
	}
	u->stack_lines[u->nstack_lines++] = xstrdup(line);
}

/* One frame as `regionwatch stacks` prints it: #N 0xIP FUNCTION+0xOFF (MODULE), with
 * tail (why unwinding stopped) inside the parentheses. Names are escaped. */
static void add_frame_line(struct ui *u, size_t *cap, const struct unwind_frame *f, size_t k,
			   const char *tail)
{
	char fn[400], mod[400], where[900];

	if (f->module && !f->function && f->module[0] != '[')
		snprintf(where, sizeof(where), " (%s+0x%llx%s%s)", escape_ctl(f->module, mod, sizeof(mod)),
			 (unsigned long long)f->module_offset, tail ? "; " : "", tail ? tail : "");
	else if (f->module)
		snprintf(where, sizeof(where), " (%s%s%s)", escape_ctl(f->module, mod, sizeof(mod)),
			 tail ? "; " : "", tail ? tail : "");
	else
		snprintf(where, sizeof(where), " (%s)", tail ? tail : "anonymous memory or not mapped");
	if (f->function)
		add_stack_line(u, cap, "  #%zu 0x%llx %s+0x%llx%s", k, (unsigned long long)f->ip,
			       escape_ctl(f->function, fn, sizeof(fn)), (unsigned long long)f->offset, where);
	else
		add_stack_line(u, cap, "  #%zu 0x%llx ??%s", k, (unsigned long long)f->ip, where);
}

/* The structured result as lines: a summary of the stop, then each thread as the stacks
 * command prints it (thread TID (NAME) state S, stack START-END; its frames; why it ends). */
static void format_stacks(struct ui *u, const struct stacks_result *r)
{
	size_t cap = 0;

	add_stack_line(u, &cap, "target stopped for %.1f ms (%.1f ms to stop %zu thread%s, %.1f ms "
		       "unwinding); %s", r->stopped_ms, r->freeze_ms, r->nfrozen, r->nfrozen == 1 ? "" : "s",
		       r->unwind_ms, r->was_stopped ? "it was stopped before (SIGSTOP) and stays stopped"
						    : "running again");
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct unwind_thread *t = &r->threads[i];
		size_t last = t->count ? t->count - 1 : 0;
		int unknown_last = t->count && !t->frames[last].function;
		int stopped_early = t->stop == UNWIND_STOP_ERROR || t->stop == UNWIND_STOP_LOOP;
		char comm[300], stack[64] = "", tail[320];

		if (t->stack_end)
			snprintf(stack, sizeof(stack), ", stack %llx-%llx", (unsigned long long)t->stack_start,
				 (unsigned long long)t->stack_end);
		add_stack_line(u, &cap, "%s", "");
		add_stack_line(u, &cap, "thread %d (%s) state %c%s", (int)t->task.tid,
			       escape_ctl(t->task.comm, comm, sizeof(comm)), t->task.state, stack);
		snprintf(tail, sizeof(tail), "unknown frame: unwinding stopped: %s", t->reason);
		for (size_t k = 0; k < t->count; k++)
			add_frame_line(u, &cap, &t->frames[k], k,
				       k == last && unknown_last && stopped_early ? tail : NULL);
		if (t->stop == UNWIND_STOP_END && !t->count)
			add_stack_line(u, &cap, "  (no frames)");
		else if (stopped_early && !t->count)
			add_stack_line(u, &cap, "  unwinding failed: %s", t->reason);
		else if (stopped_early && !unknown_last)
			add_stack_line(u, &cap, "  #%zu ?? (unknown frame: unwinding stopped after #%zu: %s)",
				       t->count, last, t->reason);
		else if (t->stop == UNWIND_STOP_MAX_FRAMES || t->stop == UNWIND_STOP_TIME ||
			 t->stop == UNWIND_STOP_SKIPPED)
			add_stack_line(u, &cap, "  ... truncated: %s", t->reason);
		else if (t->stop == UNWIND_STOP_GONE)
			add_stack_line(u, &cap, "  (%s)", t->reason);
	}
}

/* t: say first that the target will be stopped, then collect the backtraces in process
 * (stacks_collect: the same freeze, bounds and release as the stacks command; PTRACE_SEIZE,
 * so if the monitor dies the kernel lets the target go) and show them. */
static void show_stacks(struct ui *u)
{
	char answer[8] = "", label[160];
	struct stacks_result r;
	struct rw_err err;
	int nthreads = 0;

	if (u->w.exited)
		return;
	{
		/* Through the sampler's pinned dir fd: by path, a reused pid would count
		 * another process's threads. A process gone meanwhile counts 0. */
		pid_t *tids = NULL;
		size_t ntids = 0;
		if (!procfs_tids(&u->w.sm.proc, &tids, &ntids, NULL))
			nthreads = (int)ntids;
		free(tids);
	}
	snprintf(label, sizeof(label), "backtraces stop all %d threads of %d for a few ms "
		 "(about 1 ms per thread). Go on? y/n: ", nthreads, u->o->pid);
	if (prompt(label, answer, sizeof(answer)) || (answer[0] != 'y' && answer[0] != 'Y'))
		return;
	if (stacks_collect(&u->w.sm.proc, NULL, &r, &err)) {
		set_msg(u, "backtraces failed: %s", err.msg);
		stacks_free(&r);
		return;
	}
	free_stacks(u);
	format_stacks(u, &r);
	stacks_free(&r);
	u->view = VIEW_STACKS;
}

static void draw_stacks(struct ui *u)
{
	erase();
	attron(A_BOLD);
	put_clipped(0, 0, COLS, "thread backtraces (regionwatch stacks): arrows scroll, t again, q back");
	attroff(A_BOLD);
	for (int r = 1; r < LINES - 1; r++) {
		size_t i = u->stack_top + (size_t)(r - 1);
		if (i >= u->nstack_lines)
			break;
		put_clipped(r, 0, COLS, u->stack_lines[i]);
	}
}

static void key_stacks(struct ui *u, int ch)
{
	size_t page = LINES > 3 ? (size_t)LINES - 3 : 1;

	if (ch == 'q' || ch == 27 || ch == KEY_LEFT || ch == KEY_BACKSPACE)
		u->view = VIEW_TABLE;
	else if ((ch == KEY_DOWN || ch == 'j') && u->stack_top + 1 < u->nstack_lines)
		u->stack_top++;
	else if ((ch == KEY_UP || ch == 'k') && u->stack_top)
		u->stack_top--;
	else if (ch == KEY_NPAGE)
		u->stack_top = u->stack_top + page < u->nstack_lines ? u->stack_top + page : u->stack_top;
	else if (ch == KEY_PPAGE)
		u->stack_top = u->stack_top > page ? u->stack_top - page : 0;
	else if (ch == 't')
		show_stacks(u);
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

static void key_table(struct ui *u, int ch)
{
	int page = LINES - 6 > 1 ? LINES - 6 : 1;

	switch (ch) {
	case 'q': case 'Q': u->quit = 1; break;
	case KEY_UP: case 'k': move_sel(u, -1); break;
	case KEY_DOWN: case 'j': move_sel(u, 1); break;
	case KEY_PPAGE: move_sel(u, -page); break;
	case KEY_NPAGE: move_sel(u, page); break;
	case KEY_HOME: case 'g': move_sel(u, -(long)u->nrows); break;
	case KEY_END: case 'G': move_sel(u, (long)u->nrows); break;
	case '\n': case '\r': case KEY_ENTER: open_region(u); break;
	case 'S': u->sort = SORT_SCORE; rebuild_rows(u); break;
	case 'M': u->sort = SORT_RSS; rebuild_rows(u); break;
	case 'D': u->sort = SORT_DELTA; rebuild_rows(u); break;
	case 'R': u->sort = SORT_RATE; rebuild_rows(u); break;
	case 'A': u->sort = SORT_ADDR; rebuild_rows(u); break;
	case 'o': u->sort = (u->sort + 1) % SORT_COUNT; rebuild_rows(u); break;
	case 'a': u->anon_only = !u->anon_only; rebuild_rows(u); break;
	case '/':
		prompt("filter (path or kind; empty clears): ", u->filter, sizeof(u->filter));
		rebuild_rows(u);
		break;
	case 'p': case ' ':
		u->paused = !u->paused;
		set_msg(u, u->paused ? "sampling paused (p resumes)" : "sampling resumed");
		break;
	case 'b':
		watch_set_baseline(&u->w);
		rebuild_rows(u);
		set_msg(u, "baseline set: DELTA counts from now");
		break;
	case 'd': dump_selected(u); break;
	case 't': show_stacks(u); break;
	case '?': case 'h': u->view = VIEW_HELP; break;
	default: break;
	}
}

static void key_region(struct ui *u, int ch)
{
	int rows = LINES - 4 > 1 ? LINES - 4 : 1;

	if (ch >= '1' && ch <= '0' + TAB_COUNT) {
		u->tab = (enum tab)(ch - '1');
		return;
	}
	switch (ch) {
	case 'q': case 27: case KEY_BACKSPACE: case KEY_LEFT:
		u->view = VIEW_TABLE;
		return;
	case '\t': u->tab = (u->tab + 1) % TAB_COUNT; return;
	case KEY_BTAB: u->tab = (u->tab + TAB_COUNT - 1) % TAB_COUNT; return;
	case 'r': analyse_region(u); u->hex_valid = 0; set_msg(u, "re-read"); return;
	default: break;
	}
	if (u->tab == TAB_HEX) {
		int64_t step = 0;
		if (ch == KEY_DOWN || ch == 'j') step = 16;
		else if (ch == KEY_UP || ch == 'k') step = -16;
		else if (ch == KEY_NPAGE) step = 16 * rows;
		else if (ch == KEY_PPAGE) step = -16 * rows;
		else if (ch == 'g') {
			char buf[64] = "";
			uint64_t addr;
			if (!prompt("jump to address: ", buf, sizeof(buf)) && !parse_addr(buf, &addr)) {
				if (addr < u->rstart || addr >= u->rend)
					set_msg(u, "%s is outside this region", buf);
				else
					u->hex_top = addr & ~15ULL;
			}
		}
		if (step < 0 && u->hex_top < u->rstart + (uint64_t)-step)
			u->hex_top = u->rstart;
		else if (step)
			u->hex_top += (uint64_t)step;
		if (u->hex_top >= u->rend)
			u->hex_top = (u->rend - 1) & ~15ULL;
	} else if (u->tab == TAB_GREP) {
		if (ch == '/') {
			if (!prompt("grep (PCRE2): ", u->grep_pat, sizeof(u->grep_pat)))
				analyse_region(u);
		} else if ((ch == KEY_DOWN || ch == 'j') && u->msel + 1 < u->nmatches) {
			u->msel++;
		} else if ((ch == KEY_UP || ch == 'k') && u->msel) {
			u->msel--;
		} else if ((ch == '\n' || ch == '\r' || ch == KEY_ENTER) && u->nmatches) {
			u->hex_top = u->matches[u->msel].addr & ~15ULL;
			u->tab = TAB_HEX;
		}
	}
}

/* ---- the loop ------------------------------------------------------------------------ */

int ui_run(const struct ui_opts *o)
{
	struct ui u;
	struct rw_err err;
	struct sigaction sa;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int rc;

	memset(&u, 0, sizeof(u));
	u.o = o;
	{
		struct watch_opts wo = { o->pid, o->interval, o->window, o->max_cost };
		if (watch_open(&u.w, &wo, &err)) {
			fprintf(stderr, "regionwatch: %s\n", err.msg);
			return 1;
		}
	}
	u.hex = xmalloc(HEX_WINDOW);
	u.hex_present = xcalloc(HEX_WINDOW / 4096, 1);
	setlocale(LC_ALL, "");
	u.utf8 = !o->ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);

	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(100);
	u.color = o->color == 1 || (o->color < 0 && !getenv("NO_COLOR"));
	if (u.color && has_colors()) {
		start_color();
		use_default_colors();
		init_pair(C_HEADER, COLOR_CYAN, -1);
		init_pair(C_GROWING, COLOR_RED, -1);
		init_pair(C_SAWTOOTH, COLOR_YELLOW, -1);
		init_pair(C_SHRINK, COLOR_GREEN, -1);
		init_pair(C_DIM, COLOR_BLUE, -1);
		init_pair(C_WARN, COLOR_RED, -1);
	} else {
		u.color = 0;
	}
	u.t0 = now_mono();
	u.next_sample = u.t0;
	int dirty = 1;
	while (!u.quit && !ui_signal) {
		int ch;
		double now = now_mono();

		if (!u.paused && !u.w.exited && now >= u.next_sample) {
			take_sample(&u);
			/* as asked, or stretched by the cost budget (--max-cost) */
			u.next_sample += watch_interval(&u.w);
			if (u.next_sample < now)
				u.next_sample = now + watch_interval(&u.w);
			dirty = 1;
			if (o->iterations && u.w.tl.seq >= o->iterations)
				u.quit = 1;
		}
		if (u.msg[0] && now >= u.msg_until) {
			u.msg[0] = '\0';
			dirty = 1;
		}
		if (dirty) {
			dirty = 0;
			if (u.view == VIEW_HELP) {
				draw_help();
			} else if (u.view == VIEW_STACKS) {
				draw_stacks(&u);
				draw_footer(&u, "arrows scroll  t again  q back");
			} else if (u.view == VIEW_REGION) {
				draw_region(&u);
				draw_footer(&u, "Tab/1-5 tabs  arrows scroll  g address  r re-read  / grep  q back");
			} else {
				erase();
				draw_header(&u);
				draw_table(&u);
				draw_footer(&u, "Enter open  S M D R A sort  a anon  / filter  p pause  b baseline  d dump  ? help  q quit");
			}
			refresh();
		}
		if (u.quit)
			break;
		ch = getch();
		if (ch == ERR)
			continue;
		dirty = 1;
		if (ch == KEY_RESIZE) {
			clear();
			continue;
		}
		if (u.view == VIEW_HELP)
			u.view = VIEW_TABLE;
		else if (u.view == VIEW_REGION)
			key_region(&u, ch);
		else if (u.view == VIEW_STACKS)
			key_stacks(&u, ch);
		else
			key_table(&u, ch);
	}
	endwin();
	rc = u.w.exited ? 1 : 0;
	if (ui_signal)
		rc = 128 + ui_signal;
	if (u.w.exited)
		fprintf(stderr, "regionwatch: process %d exited\n", o->pid);
	free_region_results(&u);
	free_stacks(&u);
	free(u.pmap_present);
	free(u.pmap_swapped);
	free(u.hex);
	free(u.hex_present);
	free(u.rows);
	free(u.st);
	free(u.delta);
	watch_close(&u.w);
	return rc;
}
