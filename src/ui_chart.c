/* ui_chart: the monitor's RSS chart (c in the table): the process's total RSS and the
 * selected row's RSS over the window, full width, on one scale from 0, with labelled axes:
 * bytes (K/M/G) on y, time before now on x. The data is the timeline's (the totals ring and
 * the row's RSS ring); the chart only draws, no I/O. Works in ASCII (--ascii, non-UTF-8
 * locales) and in 80x24. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define YLABEL_COLS 6                /* "1023K", "2.5G": labels right-aligned in 6 columns */
#define CHART_MAX_COLS 1024

/* Lines the pane takes: about half the space under the header, 7 to 17, with an even
 * number of plot rows (the middle one is labelled). */
int ui_chart_height(void)
{
	int h = (LINES - 4) / 2;
	h = h < 7 ? 7 : h > 17 ? 17 : h;
	return (h - 3) % 2 ? h - 1 : h;
}

/* The smallest "nice" value >= v: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten, in
 * K/M/G (1024-based units, as the table's sizes), so the top label reads "40M", not
 * "37.21M". */
static double nice_top(double v)
{
	static const double steps[] = { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 };
	double unit = 1, m, p;

	if (v < 1)
		return 1;
	while (v / unit >= 1000 && unit < 1099511627776.0)
		unit *= 1024;
	m = v / unit;
	p = pow(10, floor(log10(m)));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * p >= m * (1 - 1e-9))
			return steps[i] * p * unit;
	return 10 * p * unit;
}

/* An axis label: "0", "512K", "2.5M", "40M", "1.5G". */
static void size_label(double v, char *out, size_t len)
{
	static const char units[] = "BKMGT";
	int u = 0;

	if (v <= 0) {
		snprintf(out, len, "0");
		return;
	}
	while (v >= 1000 && u < 4) {
		v /= 1024;
		u++;
	}
	if (fabs(v - round(v)) < 0.05)
		snprintf(out, len, "%.0f%c", round(v), units[u]);
	else
		snprintf(out, len, "%.1f%c", v, units[u]);
}

/* "now", "-15s", "-2m", "-1m30s", "-1h", "-1h30m" */
static void time_label(double secs, char *out, size_t len)
{
	long s = lround(secs);

	if (s <= 0)
		snprintf(out, len, "now");
	else if (s < 60)
		snprintf(out, len, "-%lds", s);
	else if (s < 3600)
		snprintf(out, len, s % 60 ? "-%ldm%02lds" : "-%ldm", s / 60, s % 60);
	else
		snprintf(out, len, s % 3600 ? "-%ldh%02ldm" : "-%ldh", s / 3600, s % 3600 / 60);
}

/* Seconds between x ticks: the first of 1 s .. 1 h steps that leaves 12 columns or more
 * between ticks. */
static double tick_step(double span, int width)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
					7200, 14400, 28800, 86400 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * width / span >= 12)
			return steps[i];
	return 86400;
}

/* The value each column shows: the latest sample at or before the column's right edge
 * (a step line, as the samples are), or UINT64_MAX where there is none. */
static void columns(const struct timeline *tl, const struct area *row, double t_end, double span,
		    int width, uint64_t *tot, uint64_t *val)
{
	size_t n = timeline_window_samples(tl);
	uint64_t seq = tl->seq - n;

	for (int c = 0; c < width; c++) {
		double edge = t_end - span + span * (c + 1) / width;
		tot[c] = val[c] = UINT64_MAX;
		/* advance to the last sample not after this edge */
		while (seq + 1 < tl->seq && tl->times[(seq + 1) % tl->cap] <= edge + 1e-9)
			seq++;
		if (seq >= tl->seq || tl->times[seq % tl->cap] > edge + 1e-9)
			continue;
		tot[c] = tl->tot_rss[seq % tl->cap];
		if (row)
			val[c] = timeline_area_rss(tl, row, seq);
	}
}

void ui_chart_draw(const struct ui *u, int y, int height, const struct area *row)
{
	const struct timeline *tl = &u->w.tl;
	const char *row_mark = u->utf8 ? "\xe2\x96\x88" : "#";      /* █ */
	const char *tot_mark = u->utf8 ? "\xe2\x96\x91" : ":";      /* ░ */
	const char *vbar = u->utf8 ? "\xe2\x94\x82" : "|";          /* │ */
	uint64_t tot[CHART_MAX_COLS], val[CHART_MAX_COLS], hi = 0;
	int plot_rows = height - 3, width = COLS - YLABEL_COLS - 1;
	double span, t_end, top, step;
	char line[8 * CHART_MAX_COLS], a[32], b[32], name[200], path[400], lab[32];
	size_t n = timeline_window_samples(tl);

	for (int r = 0; r < height; r++) {
		move(y + r, 0);
		clrtoeol();
	}
	if (width > CHART_MAX_COLS)
		width = CHART_MAX_COLS;
	if (plot_rows < 2 || width < 10)
		return;
	if (!n) {
		ui_put_clipped(y, 0, COLS, "RSS chart: no sample yet");
		return;
	}
	/* x: the window (--window) or what the ring holds when that is longer (a stretched
	 * interval); the right edge is the latest sample */
	t_end = tl->times[(tl->seq - 1) % tl->cap];
	span = u->o->window;
	if (t_end - tl->times[(tl->seq - n) % tl->cap] > span)
		span = t_end - tl->times[(tl->seq - n) % tl->cap];
	if (span <= 0)
		span = 1;
	columns(tl, row, t_end, span, width, tot, val);
	for (int c = 0; c < width; c++) {
		if (tot[c] != UINT64_MAX && tot[c] > hi)
			hi = tot[c];
		if (val[c] != UINT64_MAX && val[c] > hi)
			hi = val[c];
	}
	top = nice_top((double)hi);

	/* legend: both series and their latest values, and the scale */
	if (row && !row->path[0])
		snprintf(path, sizeof(path), "%s at %llx", region_kind_name((enum region_kind)row->kind),
			 (unsigned long long)row->start);
	else
		escape_ctl(row ? row->path : "", path, sizeof(path));
	ui_fit_tail(path, COLS > 90 ? COLS - 50 : 40, u->utf8, name, sizeof(name));
	size_label(top, lab, sizeof(lab));
	{
		uint64_t rl = row ? timeline_area_rss(tl, row, tl->seq - 1) : UINT64_MAX;
		snprintf(line, sizeof(line), "RSS, one scale 0-%s:  %s process %s   %s %s %s", lab, tot_mark,
			 fmt_size(u->w.tot.rss, a, sizeof(a)), row ? row_mark : "", row ? name : "(no row)",
			 row ? (rl == UINT64_MAX ? "absent" : fmt_size(rl, b, sizeof(b))) : "");
	}
	attron(A_BOLD);
	ui_put_clipped(y, 0, COLS, line);
	attroff(A_BOLD);

	/* plot rows, top first: a cell is filled when the value reaches past its middle (the
	 * selected row over the process, both from 0) */
	for (int r = 0; r < plot_rows; r++) {
		double mid = top * (plot_rows - r - 0.5) / plot_rows;
		size_t o = 0;
		if (r == 0)
			size_label(top, lab, sizeof(lab));
		else if (plot_rows % 2 == 0 && r == plot_rows / 2)
			size_label(top / 2, lab, sizeof(lab));
		else
			lab[0] = '\0';
		o += (size_t)snprintf(line, sizeof(line), "%*s%s", YLABEL_COLS, lab, vbar);
		for (int c = 0; c < width && o + 4 < sizeof(line); c++) {
			const char *m = " ";
			if (val[c] != UINT64_MAX && (double)val[c] >= mid)
				m = row_mark;
			else if (tot[c] != UINT64_MAX && (double)tot[c] >= mid)
				m = tot_mark;
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s", m);
		}
		ui_put_clipped(y + 1 + r, 0, COLS, line);
	}

	/* x axis: ticks every step seconds back from now, labelled under them; a label that
	 * would run into the one to its right is left out */
	step = tick_step(span, width);
	{
		const char *dash = u->utf8 ? "\xe2\x94\x80" : "-";          /* ─ */
		const char *tick = u->utf8 ? "\xe2\x94\xb4" : "+";          /* ┴ */
		const char *axis[CHART_MAX_COLS];
		char labels[CHART_MAX_COLS + YLABEL_COLS + 2];
		int lw = width + YLABEL_COLS + 1, next_free = lw;
		size_t o;

		for (int c = 0; c < width; c++)
			axis[c] = dash;
		memset(labels, ' ', (size_t)lw);
		labels[lw] = '\0';
		for (double back = 0; back <= span + 1e-9; back += step) {
			int c = (int)lround((span - back) / span * width) - 1, len, lx;
			if (c < 0)
				c = 0;
			axis[c] = tick;
			time_label(back, lab, sizeof(lab));
			len = (int)strlen(lab);
			/* "now" ends at the right edge; the others are centred on their tick */
			lx = back == 0 ? lw - len : YLABEL_COLS + 1 + c - len / 2;
			if (lx < 0)
				lx = 0;
			if (lx + len + 1 > next_free && back != 0)
				continue;
			memcpy(labels + lx, lab, (size_t)len);
			next_free = lx;
		}
		o = (size_t)snprintf(line, sizeof(line), "%*s%s", YLABEL_COLS, "0",
				     u->utf8 ? "\xe2\x94\x94" : "+");              /* └ */
		for (int c = 0; c < width && o + 4 < sizeof(line); c++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s", axis[c]);
		ui_put_clipped(y + 1 + plot_rows, 0, COLS, line);
		ui_put_clipped(y + 2 + plot_rows, 0, COLS, labels);
	}
}
