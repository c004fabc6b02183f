/* report: one self-contained HTML file of a watch (report.h). The page is plain HTML with
 * inline SVG and a small inline style sheet: no script, no external asset, so it opens from
 * a mail attachment or a ticket, reads the same without JavaScript, and prints.
 *
 * History is bounded: REPORT_POINTS points per series. When they are all used, every other
 * point is dropped and from then on one sample in twice as many is kept (stride), so an
 * hours-long watch costs the same memory and file size as a minute of it; the report says
 * its resolution. Every point is a real sample (never an average).
 *
 * Everything from the target (comm, paths, strings, stacks, event lines) goes through
 * escape_term (control bytes and invalid UTF-8 as \xNN, as on the terminal) and then HTML
 * escaping (& < > " '), so the page holds no raw control byte and no markup of the
 * target's. */
#include "report.h"
#include "inspect.h"
#include "pool.h"
#include "region.h"
#include "timeline.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define RP_ABSENT UINT64_MAX

struct report_series {
	char *key;                     /* "a<id>" for an area, "p<kind>:<name>" for a pool */
	char *label;                   /* raw: escaped when written */
	uint64_t *rss;                 /* [REPORT_POINTS], RP_ABSENT where it was not a row */
	size_t last_point;             /* the latest point it was one of the tracked rows at */
};

struct report_event {
	double elapsed;
	char *line, *stacks;           /* stacks may be NULL */
	size_t stacks_cut;             /* bytes of stacks not kept (over REPORT_STACKS_MAX) */
};

struct report {
	char *cmdline;                 /* the words, shell-quoted where they need it */
	char host[128], kernel[128];
	int started;
	double start_wall;             /* wall clock of the first sample */
	uint64_t samples;              /* report_add_sample calls */
	uint64_t stride;               /* one point per stride samples */
	size_t npoints;
	double t[REPORT_POINTS];       /* seconds since the first sample */
	uint64_t seq[REPORT_POINTS];
	uint64_t rss[REPORT_POINTS], anon[REPORT_POINTS], swap[REPORT_POINTS];
	struct report_series series[REPORT_SERIES_MAX];
	size_t nseries;
	struct report_event events[REPORT_EVENTS_MAX];
	size_t nevents;
	uint64_t events_dropped;
};

/* ---- escaping ------------------------------------------------------------------------ */

static void put_html_safe(FILE *fp, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default:
			/* escape_term left only printable text (and \n \t with KEEP_NL); a control
			 * byte here would come from text that did not go through it */
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				fprintf(fp, "\\x%02x", c);
			else
				fputc(c, fp);
		}
	}
}

/* Bytes from the target: terminal-safe first (the same \xNN text the terminal output
 * shows), then HTML-escaped. flags: ESCAPE_KEEP_NL for <pre> blocks. */
static void put_text_n(FILE *fp, const char *s, size_t len, unsigned flags)
{
	char buf[4096];
	size_t done = 0;

	while (done < len) {
		size_t used = escape_term(s + done, len - done, buf, sizeof(buf), flags, 1);
		put_html_safe(fp, buf);
		if (!used)
			break;               /* cannot happen: an escape is at most 6 bytes */
		done += used;
	}
}

static void put_text(FILE *fp, const char *s)
{
	if (s)
		put_text_n(fp, s, strlen(s), 0);
}

/* A word of the command line, quoted for a POSIX shell when it needs it. */
static void quote_word(FILE *fp, const char *w)
{
	int plain = *w != '\0';

	for (const char *p = w; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "-_./=:,+@%", *p))
			plain = 0;
	if (plain) {
		fputs(w, fp);
		return;
	}
	fputc('\'', fp);
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			fputs("'\"'\"'", fp);   /* no backslash: the page shows one as \\ */
		else
			fputc(*p, fp);
	}
	fputc('\'', fp);
}

/* ---- building ------------------------------------------------------------------------ */

static void fill_host(struct report *r)
{
	struct utsname u;

	if (uname(&u) == 0) {
		snprintf(r->host, sizeof(r->host), "%s", u.nodename);
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
	} else {
		snprintf(r->host, sizeof(r->host), "?");
		snprintf(r->kernel, sizeof(r->kernel), "?");
	}
}

struct report *report_new(int argc, char **argv)
{
	struct report *r = xcalloc(1, sizeof(*r));
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp) {
		fprintf(stderr, "regionwatch: out of memory\n");
		exit(1);
	}
	/* argv[0] is the program or, for a subcommand, its name: say "regionwatch" first */
	if (argc > 0 && strcmp(argv[0], "regionwatch") && (!strrchr(argv[0], '/') ||
	    strcmp(strrchr(argv[0], '/') + 1, "regionwatch")))
		fputs("regionwatch ", fp);
	for (int i = 0; i < argc; i++) {
		if (i)
			fputc(' ', fp);
		quote_word(fp, argv[i]);
	}
	if (fclose(fp) || !buf) {
		fprintf(stderr, "regionwatch: out of memory\n");
		exit(1);
	}
	r->cmdline = buf;
	r->stride = 1;
	fill_host(r);
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nseries; i++) {
		free(r->series[i].key);
		free(r->series[i].label);
		free(r->series[i].rss);
	}
	for (size_t i = 0; i < r->nevents; i++) {
		free(r->events[i].line);
		free(r->events[i].stacks);
	}
	free(r->cmdline);
	free(r);
}

/* The key and label of row i of v: an area by its id, a pool by its kind and name (a
 * pool's row is rebuilt each sample, with id 0). */
static void row_key(const struct watch_view *v, size_t i, char *key, size_t keylen)
{
	const struct pool *p = v->pools ? v->pools[i] : NULL;

	if (p)
		snprintf(key, keylen, "p%d:%s", (int)p->kind, p->name ? p->name : "");
	else
		snprintf(key, keylen, "a%llu", (unsigned long long)v->areas[i]->id);
}

static char *row_label_dup(const struct watch_view *v, size_t i)
{
	const struct area *a = v->areas[i];
	const struct pool *p = v->pools ? v->pools[i] : NULL;
	char buf[1024];

	if (p)
		snprintf(buf, sizeof(buf), "pool %s: %s", pool_kind_name(p->kind),
			 p->name ? p->name : "");
	else if (a->path && a->path[0])
		snprintf(buf, sizeof(buf), "%s %s", region_kind_name((enum region_kind)a->kind),
			 a->path);
	else
		snprintf(buf, sizeof(buf), "%s %llx-%llx", region_kind_name((enum region_kind)a->kind),
			 (unsigned long long)a->start, (unsigned long long)a->end);
	return xstrdup(buf);
}

static struct report_series *series_find(struct report *r, const char *key)
{
	for (size_t i = 0; i < r->nseries; i++)
		if (!strcmp(r->series[i].key, key))
			return &r->series[i];
	return NULL;
}

/* A series for key, new or recycled: the one longest out of the tracked rows gives its
 * slot (its history is dropped; the table still has its numbers). */
static struct report_series *series_get(struct report *r, const char *key, size_t now)
{
	struct report_series *s = series_find(r, key);

	if (s)
		return s;
	if (r->nseries < REPORT_SERIES_MAX) {
		s = &r->series[r->nseries++];
		s->rss = xmalloc(REPORT_POINTS * sizeof(*s->rss));
	} else {
		s = &r->series[0];
		for (size_t i = 1; i < r->nseries; i++)
			if (r->series[i].last_point < s->last_point)
				s = &r->series[i];
		if (s->last_point == now)
			return NULL;         /* every slot is a row of this sample */
		free(s->key);
		free(s->label);
	}
	s->key = xstrdup(key);
	s->label = NULL;
	for (size_t k = 0; k < REPORT_POINTS; k++)
		s->rss[k] = RP_ABSENT;
	s->last_point = now;
	return s;
}

/* Drop every other point; keep one sample in twice as many from now on. */
static void thin(struct report *r)
{
	size_t n = r->npoints / 2 + r->npoints % 2;

	for (size_t k = 0; k < n; k++) {
		r->t[k] = r->t[2 * k];
		r->seq[k] = r->seq[2 * k];
		r->rss[k] = r->rss[2 * k];
		r->anon[k] = r->anon[2 * k];
		r->swap[k] = r->swap[2 * k];
		for (size_t i = 0; i < r->nseries; i++)
			r->series[i].rss[k] = r->series[i].rss[2 * k];
	}
	for (size_t i = 0; i < r->nseries; i++) {
		for (size_t k = n; k < REPORT_POINTS; k++)
			r->series[i].rss[k] = RP_ABSENT;
		r->series[i].last_point /= 2;
	}
	r->npoints = n;
	r->stride *= 2;
}

void report_add_sample(struct report *r, const struct watch_view *v)
{
	uint64_t nth;
	size_t idx, rows;

	if (!r || !v)
		return;
	if (!r->started) {
		r->started = 1;
		r->start_wall = now_wall() - v->elapsed;
	}
	nth = r->samples++;
	if (nth % r->stride)
		return;
	if (r->npoints == REPORT_POINTS) {
		thin(r);
		if (nth % r->stride)
			return;
	}
	idx = r->npoints++;
	r->t[idx] = v->elapsed;
	r->seq[idx] = v->seq;
	r->rss[idx] = v->tot.rss;
	r->anon[idx] = v->tot.anon;
	r->swap[idx] = v->tot.swap;
	for (size_t i = 0; i < r->nseries; i++)
		r->series[i].rss[idx] = RP_ABSENT;
	rows = v->n < REPORT_TRACK ? v->n : REPORT_TRACK;
	for (size_t i = 0; i < rows; i++) {
		char key[600];
		struct report_series *s;

		row_key(v, i, key, sizeof(key));
		if (!(s = series_get(r, key, idx)))
			continue;
		s->rss[idx] = v->st[i].rss_last;
		s->last_point = idx;
		free(s->label);
		s->label = row_label_dup(v, i);
	}
}

size_t report_points(const struct report *r, uint64_t *stride)
{
	if (stride)
		*stride = r ? r->stride : 0;
	return r ? r->npoints : 0;
}

void report_add_event(struct report *r, double elapsed, const char *line, const char *stacks)
{
	struct report_event *e;

	if (!r)
		return;
	if (r->nevents == REPORT_EVENTS_MAX) {
		/* keep the first ones (the onset) and the latest: drop the oldest after them */
		e = &r->events[REPORT_EVENTS_FIRST];
		free(e->line);
		free(e->stacks);
		memmove(e, e + 1, (REPORT_EVENTS_MAX - REPORT_EVENTS_FIRST - 1) * sizeof(*e));
		r->nevents--;
		r->events_dropped++;
	}
	e = &r->events[r->nevents++];
	e->elapsed = elapsed;
	e->line = xstrdup(line ? line : "");
	e->stacks = NULL;
	e->stacks_cut = 0;
	if (stacks) {
		size_t n = strlen(stacks);
		if (n > REPORT_STACKS_MAX) {
			e->stacks_cut = n - REPORT_STACKS_MAX;
			n = REPORT_STACKS_MAX;
		}
		e->stacks = xstrndup(stacks, n);
	}
}

/* ---- numbers and axes ------------------------------------------------------------------ */

static const char *fmt_rate(double bps, char *buf, size_t len)
{
	char tmp[32];
	double mag = fabs(bps);

	if (mag < 1)
		snprintf(buf, len, "0/s");
	else
		snprintf(buf, len, "%c%s/s", bps < 0 ? '-' : '+',
			 fmt_size((uint64_t)mag, tmp, sizeof(tmp)));
	return buf;
}

static const char *fmt_utc(double wall, char *buf, size_t len)
{
	time_t t = (time_t)wall;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
	return buf;
}

static const char *fmt_elapsed(double s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%.1f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.1f min", s / 60);
	else
		snprintf(buf, len, "%.2f h", s / 3600);
	return buf;
}

/* A tick step for a time axis of span seconds: at most 8 ticks, in steps a person reads
 * as round (0.5 s, 15 s, 5 min, 2 h ...). */
static double time_step(double span)
{
	static const double steps[] = {
		0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
		10800, 21600, 43200, 86400, 172800, 604800,
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 8)
			return steps[i];
	return ceil(span / 8 / 604800) * 604800;
}

static void time_label(double t, double step, char *buf, size_t len)
{
	if (step < 60)
		snprintf(buf, len, "%gs", round(t * 10) / 10);
	else if (step < 3600)
		snprintf(buf, len, "%gmin", round(t / 60 * 10) / 10);
	else
		snprintf(buf, len, "%gh", round(t / 3600 * 10) / 10);
}

/* A byte axis from 0 to at least max: a step of 1, 2, 2.5 or 5 times a power of ten of
 * the binary unit (K, M, G, T) that keeps the labels short; about 5 ticks. */
static void byte_axis(uint64_t max, double *step, double *top, double *unit, const char **uname)
{
	static const char *const names[] = { "", "K", "M", "G", "T", "P" };
	static const double nice[] = { 1, 2, 2.5, 5, 10 };
	double m = max ? (double)max : 1024.0, u = 1, raw, mag;
	size_t k = 0;

	while (m / u >= 1024 && k < 5) {
		u *= 1024;
		k++;
	}
	raw = m / u / 5;
	mag = pow(10, floor(log10(raw)));
	*step = nice[4] * mag;
	for (size_t i = 0; i < 5; i++)
		if (nice[i] * mag >= raw) {
			*step = nice[i] * mag;
			break;
		}
	*step *= u;
	*top = ceil(m / *step) * *step;
	*unit = u;
	*uname = names[k];
}

/* ---- charts ----------------------------------------------------------------------------- */

#define CH_W 960
#define CH_PLOT_H 260
#define CH_L 72
#define CH_R 24
#define CH_T 16
#define CH_XAXIS 44                    /* below the plot: tick labels and the axis title */
#define CH_LEGEND_ROW 20

/* Okabe-Ito colours (distinct for colour-blind readers, dark enough to print) and dash
 * patterns, so the lines stay apart on a black-and-white printer too. */
static const char *const line_colour[] = { "#000000", "#0072B2", "#D55E00", "#009E73",
					   "#CC79A7", "#E69F00", "#56B4E9" };
static const char *const line_dash[] = { "", "8 4", "2 3", "12 4 2 4", "4 4", "12 3 2 3 2 3",
					 "1 2" };
#define CH_STYLES (sizeof(line_colour) / sizeof(line_colour[0]))

struct chart_line {
	const char *label;             /* raw */
	const uint64_t *v;             /* [n] values (RP_ABSENT: a gap) */
	uint64_t last;                 /* the final point (the view's), RP_ABSENT for none */
	int width;                     /* stroke width */
};

struct chart {
	const char *title, *id;
	const double *t;               /* [n] */
	size_t n;
	double t_last;                 /* the final point's time (< 0: none) */
	double span;
	struct chart_line lines[REPORT_CHART_ROWS + 3];
	size_t nlines;
	const struct report *r;        /* events */
	double start_wall;
};

static double ch_x(const struct chart *c, double t)
{
	return CH_L + (CH_W - CH_L - CH_R) * (c->span > 0 ? t / c->span : 0);
}

static double ch_y(double v, double top)
{
	return CH_T + CH_PLOT_H - CH_PLOT_H * (top > 0 ? v / top : 0);
}

static void chart_polyline(FILE *fp, const struct chart *c, const struct chart_line *l,
			   size_t style, double top)
{
	int open = 0;
	size_t npts = 0;

	for (size_t k = 0; k <= c->n; k++) {
		uint64_t v;
		double t;

		if (k < c->n) {
			v = l->v[k];
			t = c->t[k];
		} else {
			if (c->t_last < 0)
				break;
			v = l->last;
			t = c->t_last;
		}
		if (v == RP_ABSENT) {
			if (open)
				fputs("\"/>\n", fp);
			open = 0;
			continue;
		}
		if (!open) {
			fprintf(fp, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"%d\" stroke-linejoin=\"round\"%s%s%s points=\"",
				line_colour[style % CH_STYLES], l->width,
				line_dash[style % CH_STYLES][0] ? " stroke-dasharray=\"" : "",
				line_dash[style % CH_STYLES],
				line_dash[style % CH_STYLES][0] ? "\"" : "");
			open = 1;
			npts = 0;
		}
		fprintf(fp, "%s%.1f,%.1f", npts++ ? " " : "", ch_x(c, t), ch_y((double)v, top));
	}
	if (open)
		fputs("\"/>\n", fp);
}

static void chart_write(FILE *fp, const struct chart *c)
{
	uint64_t max = 0;
	double step, top, unit, tstep;
	const char *uname;
	int height = CH_T + CH_PLOT_H + CH_XAXIS + 8 + (int)c->nlines * CH_LEGEND_ROW;
	char buf[64], utc[40];

	for (size_t i = 0; i < c->nlines; i++) {
		for (size_t k = 0; k < c->n; k++)
			if (c->lines[i].v[k] != RP_ABSENT && c->lines[i].v[k] > max)
				max = c->lines[i].v[k];
		if (c->lines[i].last != RP_ABSENT && c->lines[i].last > max)
			max = c->lines[i].last;
	}
	byte_axis(max, &step, &top, &unit, &uname);
	tstep = time_step(c->span);

	fprintf(fp, "<figure id=\"%s\">\n<figcaption>", c->id);
	put_text(fp, c->title);
	fprintf(fp, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		CH_W, height, CH_W, height);
	put_text(fp, c->title);
	fputs("\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n", fp);
	fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		CH_W, height);
	/* grid and y labels */
	fputs("<g class=\"yaxis\">\n", fp);
	for (double v = 0; v <= top + step / 2; v += step) {
		double y = ch_y(v, top);
		fprintf(fp, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"1\"/>\n", CH_L, y, CH_W - CH_R, y, v == 0 ? "#000000" : "#cccccc");
		fprintf(fp, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n", CH_L - 6,
			y + 4, round(v / unit * 100) / 100, v == 0 ? "" : uname);
	}
	fprintf(fp, "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">"
		"RSS (K/M/G: KiB/MiB/GiB)</text>\n</g>\n", CH_T + CH_PLOT_H / 2, CH_T + CH_PLOT_H / 2);
	/* x ticks */
	fputs("<g class=\"xaxis\">\n", fp);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000000\"/>\n", CH_L,
		CH_T, CH_L, CH_T + CH_PLOT_H);
	for (double t = 0; t <= c->span + tstep / 1000; t += tstep) {
		double x = ch_x(c, t);
		time_label(t, tstep, buf, sizeof(buf));
		fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000000\"/>\n",
			x, CH_T + CH_PLOT_H, x, CH_T + CH_PLOT_H + 5);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x,
			CH_T + CH_PLOT_H + 18, buf);
	}
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the first sample, "
		"%s (UTC)</text>\n</g>\n", (CH_L + CH_W - CH_R) / 2, CH_T + CH_PLOT_H + 36,
		fmt_utc(c->start_wall, utc, sizeof(utc)));
	/* events: a dashed vertical line each, numbered as in the events table */
	if (c->r->nevents) {
		double labelled = -1e9;   /* x of the last label: labels do not overlap */
		fputs("<g class=\"events\">\n", fp);
		for (size_t i = 0; i < c->r->nevents; i++) {
			double x = ch_x(c, c->r->events[i].elapsed);
			if (c->r->events[i].elapsed < 0 || c->r->events[i].elapsed > c->span)
				continue;
			fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888888\" "
				"stroke-dasharray=\"3 3\"/>\n", x, CH_T + 10, x, CH_T + CH_PLOT_H);
			if (x - labelled >= 28 || i + 1 == c->r->nevents) {
				fprintf(fp, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
					"text-anchor=\"middle\">E%zu</text>\n", x, CH_T + 8, i + 1);
				labelled = x;
			}
		}
		fputs("</g>\n", fp);
	}
	for (size_t i = 0; i < c->nlines; i++)
		chart_polyline(fp, c, &c->lines[i], i, top);
	/* legend */
	fputs("<g class=\"legend\">\n", fp);
	for (size_t i = 0; i < c->nlines; i++) {
		int y = CH_T + CH_PLOT_H + CH_XAXIS + 8 + (int)i * CH_LEGEND_ROW + 10;
		char label[200];
		size_t style = i % CH_STYLES;
		/* long paths are cut for the legend; the table has them whole */
		escape_term(c->lines[i].label, strlen(c->lines[i].label), label, 120, 0, 1);
		fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"%d\"%s%s%s/>\n<text x=\"%d\" y=\"%d\">", CH_L, y - 4, CH_L + 40,
			y - 4, line_colour[style], c->lines[i].width,
			line_dash[style][0] ? " stroke-dasharray=\"" : "", line_dash[style],
			line_dash[style][0] ? "\"" : "", CH_L + 48, y);
		put_html_safe(fp, label);
		if (strlen(label) < strlen(c->lines[i].label) && strlen(label) >= 115)
			fputs("…", fp);
		fputs("</text>\n", fp);
	}
	fputs("</g>\n</svg>\n</figure>\n", fp);
}

/* ---- the page ------------------------------------------------------------------------------ */

static const char style_sheet[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;color:#000;background:#fff;"
	"margin:1.5em auto;max-width:1000px;padding:0 1em}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}\n"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:2px 6px;"
	"vertical-align:top;text-align:left}\n"
	"th{background:#eee}td.n,td.addr{text-align:right;white-space:nowrap}\n"
	"table.meta th{width:9em}code,pre,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:12px}\n"
	"pre{background:#f6f6f6;border:1px solid #ccc;padding:6px;white-space:pre-wrap;"
	"overflow-wrap:anywhere}\n"
	"figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:4px}"
	"svg.chart{max-width:100%;height:auto;border:1px solid #ccc}\n"
	".note{color:#333;font-size:12px}\n"
	"@media print{body{margin:0;max-width:none}figure,table,pre{break-inside:avoid}"
	"h2{break-after:avoid}}\n";

static void put_meta_row(FILE *fp, const char *th, const char *td_html)
{
	fprintf(fp, "<tr><th>%s</th><td>%s</td></tr>\n", th, td_html);
}

static void write_head(FILE *fp, const struct report *r, const struct watch_view *v)
{
	char a[64], b[64], c[64];
	static const char *const why[] = { "count", "sample count reached", "interrupted",
					   "interrupted", "exited", "target exited" };
	const char *end = v->end;
	double mean_iv = v->seq > 1 ? v->elapsed / (double)(v->seq - 1) : 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"generator\" content=\"regionwatch " RW_VERSION "\"/>\n<title>", fp);
	fprintf(fp, "regionwatch report: pid %d (", v->pid);
	put_text(fp, v->comm);
	fprintf(fp, ")</title>\n<style>\n%s</style>\n</head>\n<body>\n", style_sheet);
	fprintf(fp, "<h1>regionwatch report: pid %d (", v->pid);
	put_text(fp, v->comm);
	fputs(")</h1>\n<table class=\"meta\" id=\"meta\">\n<tr><th>command</th><td><code>", fp);
	put_text(fp, r->cmdline);
	fputs("</code></td></tr>\n<tr><th>host</th><td>", fp);
	put_text(fp, r->host);
	fputs("</td></tr>\n<tr><th>kernel</th><td>", fp);
	put_text(fp, r->kernel);
	fputs("</td></tr>\n", fp);
	put_meta_row(fp, "start", fmt_utc(r->start_wall, a, sizeof(a)));
	fprintf(fp, "<tr><th>end</th><td>%s (%s later", fmt_utc(r->start_wall + v->elapsed, b,
		sizeof(b)), fmt_elapsed(v->elapsed, c, sizeof(c)));
	if (end) {
		for (size_t i = 0; i < 6; i += 2)
			if (!strcmp(end, why[i]))
				end = why[i + 1];
		fputs("; ", fp);
		put_text(fp, end);
	} else {
		fputs("; still running when this was written", fp);
	}
	fprintf(fp, ")</td></tr>\n<tr><th>samples</th><td>%llu</td></tr>\n",
		(unsigned long long)v->seq);
	fputs("<tr><th>interval</th><td>", fp);
	if (v->stretched)
		fprintf(fp, "stretched to %.3g s by the %g%% CPU budget", v->interval, v->max_cost);
	else
		fprintf(fp, "%.3g s", v->interval);
	fprintf(fp, "; %.3g s between samples on average", mean_iv);
	fputs("</td></tr>\n", fp);
	fprintf(fp, "<tr><th>resolution</th><td>charts: %zu points", r->npoints);
	if (r->stride > 1)
		fprintf(fp, ", one sample in %llu (about every %.3g s: at most %d points are kept per "
			"line, halved when full)", (unsigned long long)r->stride, mean_iv * (double)r->stride,
			REPORT_POINTS);
	else
		fprintf(fp, ", every sample (at most %d are kept per line; beyond that every other "
			"point is dropped)", REPORT_POINTS);
	fprintf(fp, "; statistics (rate, trend) over the last %zu samples (%.1f s)</td></tr>\n",
		v->window_samples, v->window_s);
	fprintf(fp, "<tr><th>written</th><td>%s by regionwatch " RW_VERSION "</td></tr>\n</table>\n",
		fmt_utc(now_wall(), a, sizeof(a)));
}

static void put_range(FILE *fp, const struct area *a)
{
	fprintf(fp, "%llx-%llx", (unsigned long long)a->start, (unsigned long long)a->end);
}

static void write_verdict(FILE *fp, const struct watch_view *v)
{
	char a[32], b[32], c[32], d[32], e[32], verdict[256];
	int64_t growth = (int64_t)v->tot.rss - (int64_t)v->tot.rss_first, held = 0;

	fputs("<h2 id=\"verdict\">Verdict</h2>\n<ul>\n", fp);
	fprintf(fp, "<li>process RSS %s (%s over the window, %s, %s); anon %s; swap %s</li>\n",
		fmt_size(v->tot.rss, a, sizeof(a)), fmt_delta(growth, b, sizeof(b)),
		fmt_rate(v->tot.rss_rate, c, sizeof(c)), trend_name(v->tot.rss_trend),
		fmt_size(v->tot.anon, d, sizeof(d)), fmt_size(v->tot.swap, e, sizeof(e)));
	if (v->lim.kind) {
		fprintf(fp, "<li>%s %s left", v->lim.kind == 1 ? "cgroup memory.max:" : "MemAvailable:",
			fmt_size(v->lim.headroom, a, sizeof(a)));
		if (v->tot.rss_rate > 0 && v->tot.rss_trend == TREND_GROWING && v->window_samples >= 3)
			fprintf(fp, " (about %s at this rate)",
				fmt_elapsed((double)v->lim.headroom / v->tot.rss_rate, b, sizeof(b)));
		fputs("</li>\n", fp);
	}
	/* the share of growth the rows hold, as the text output says it */
	if (growth > 0 && v->window_samples >= 2) {
		for (size_t i = 0; i < v->n; i++)
			if (v->st[i].delta > 0)
				held += v->st[i].delta;
		fprintf(fp, "<li>the %zu row%s below hold %s of the process's %s RSS growth in the "
			"window (%.0f%%); other: %s</li>\n", v->n, v->n == 1 ? "" : "s",
			fmt_delta(held, a, sizeof(a)), fmt_delta(growth, b, sizeof(b)),
			100.0 * (double)held / (double)growth, fmt_delta(growth - held, c, sizeof(c)));
	}
	if (v->n && v->st[0].score > 0) {
		const char *path = v->pools && v->pools[0] ? v->pools[0]->name : v->areas[0]->path;
		fprintf(fp, "<li>grows most like a leak: row #1, <span class=\"mono\">");
		if (path && path[0])
			put_text(fp, path);
		else
			put_range(fp, v->areas[0]);
		fprintf(fp, "</span> (%s), %s, %s</li>\n",
			v->pools && v->pools[0] ? pool_kind_name(v->pools[0]->kind)
						: region_kind_name((enum region_kind)v->areas[0]->kind),
			fmt_rate(v->st[0].rate, a, sizeof(a)), trend_name(v->st[0].trend));
	} else if (v->n) {
		fputs("<li>no row grows like a leak in the window</li>\n", fp);
	}
	if (v->go) {
		fputs("<li>Go ", fp);
		put_text(fp, v->go->version[0] ? v->go->version : "(version unknown)");
		if (v->go->stripped)
			fputs(", stripped binary (no symbol table: no goroutine count)", fp);
		else if (v->goroutines >= 0)
			fprintf(fp, ", %lld goroutines (%+lld since the first sample)",
				(long long)v->goroutines, (long long)(v->goroutines - v->goroutines_first));
		watch_go_verdict(v, verdict, sizeof(verdict));
		if (verdict[0]) {
			fputs("; <strong>", fp);
			put_text(fp, verdict);
			fputs("</strong> (a heuristic)", fp);
		}
		fputs("</li>\n", fp);
	}
	fputs("</ul>\n<p class=\"note\">Trend, ranking, kinds and pools are heuristics: see "
	      "regionwatch(1), WATCH. Numbers are the kernel's (/proc/PID/smaps, pagemap) as read.</p>\n",
	      fp);
}

static void write_charts(FILE *fp, const struct report *r, const struct watch_view *v)
{
	struct chart c;
	int have_final = r->npoints == 0 || r->seq[r->npoints - 1] != v->seq;
	int any_swap = v->tot.swap > 0;
	size_t shown = 0;
	char *labels[REPORT_CHART_ROWS];
	uint64_t *none = xmalloc(REPORT_POINTS * sizeof(*none));

	for (size_t k = 0; k < REPORT_POINTS; k++)
		none[k] = RP_ABSENT;
	for (size_t k = 0; k < r->npoints; k++)
		if (r->swap[k])
			any_swap = 1;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.t = r->t;
	c.n = r->npoints;
	c.t_last = have_final ? v->elapsed : -1;
	c.span = v->elapsed > 0 ? v->elapsed : (r->npoints ? r->t[r->npoints - 1] : 0);
	if (c.span <= 0)
		c.span = v->interval > 0 ? v->interval : 1;
	c.start_wall = r->start_wall;

	fputs("<h2 id=\"charts\">RSS over time</h2>\n", fp);
	c.title = any_swap ? "The process: RSS, anonymous and swap" : "The process: RSS and "
		  "anonymous (no swap)";
	c.id = "chart-process";
	c.lines[0] = (struct chart_line){ "RSS (process)", r->rss, v->tot.rss, 3 };
	c.lines[1] = (struct chart_line){ "anonymous", r->anon, v->tot.anon, 2 };
	c.nlines = 2;
	if (any_swap)
		c.lines[c.nlines++] = (struct chart_line){ "swap", r->swap, v->tot.swap, 2 };
	chart_write(fp, &c);

	c.title = "The top rows: RSS of each (a pool: its members summed)";
	c.id = "chart-rows";
	c.nlines = 0;
	for (size_t i = 0; i < v->n && shown < REPORT_CHART_ROWS; i++) {
		char key[600];
		const struct report_series *s;

		row_key(v, i, key, sizeof(key));
		s = series_find((struct report *)r, key);
		labels[shown] = row_label_dup(v, i);
		/* a row never among the tracked rows has no history: its last point only */
		c.lines[c.nlines++] = (struct chart_line){ labels[shown], s ? s->rss : none,
			v->st[i].rss_last, 2 };
		shown++;
	}
	if (shown)
		chart_write(fp, &c);
	else
		fputs("<p>No rows.</p>\n", fp);
	fprintf(fp, "<p class=\"note\">A row's line starts where it first was one of the first %d "
		"rows of a sample; gaps are samples where it was not.</p>\n", REPORT_TRACK);
	for (size_t i = 0; i < shown; i++)
		free(labels[i]);
	free(none);
}

static void write_rows(FILE *fp, const struct watch_view *v)
{
	size_t n = v->n < REPORT_TABLE_ROWS ? v->n : REPORT_TABLE_ROWS;

	fprintf(fp, "<h2 id=\"rows\">Rows, ranked (%zu of %zu areas alive, %llu vanished)</h2>\n",
		v->n, v->nareas, (unsigned long long)v->vanished);
	if (!n) {
		fputs("<p>No rows.</p>\n", fp);
		return;
	}
	fputs("<table id=\"rows-table\">\n<tr><th>#</th><th>address</th><th>kind</th><th>path</th>"
	      "<th>size</th><th>RSS</th><th>delta</th><th>rate</th><th>trend</th><th>score</th></tr>\n",
	      fp);
	for (size_t i = 0; i < n; i++) {
		const struct area *a = v->areas[i];
		const struct area_stats *st = &v->st[i];
		const struct pool *p = v->pools ? v->pools[i] : NULL;
		char sz[32], rss[32], d[32], rt[32];

		fprintf(fp, "<tr><td class=\"n\">%zu</td><td class=\"mono addr\">", i + 1);
		put_range(fp, a);
		fputs("</td><td>", fp);
		if (p)
			fprintf(fp, "pool %s (%zu member%s)", pool_kind_name(p->kind), p->nmembers,
				p->nmembers == 1 ? "" : "s");
		else
			fputs(region_kind_name((enum region_kind)a->kind), fp);
		fputs("</td><td class=\"mono\">", fp);
		put_text(fp, p && p->name ? p->name : a->path);
		if (p && p->nmembers) {
			size_t m = p->nmembers < REPORT_MEMBERS_SHOWN ? p->nmembers : REPORT_MEMBERS_SHOWN;
			fputs("<br/>members:", fp);
			for (size_t k = 0; k < m; k++) {
				fputs("<br/>", fp);
				put_range(fp, p->members[k]);
				fputc(' ', fp);
				put_text(fp, p->members[k]->path);
			}
			if (m < p->nmembers)
				fprintf(fp, "<br/>(and %zu more)", p->nmembers - m);
		}
		fprintf(fp, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td class=\"n\">%s</td><td>%s</td><td class=\"n\">%.3g</td></tr>\n",
			fmt_size(a->size, sz, sizeof(sz)), fmt_size(st->rss_last, rss, sizeof(rss)),
			fmt_delta(st->delta, d, sizeof(d)), fmt_rate(st->rate, rt, sizeof(rt)),
			trend_name(st->trend), st->score);
	}
	fputs("</table>\n", fp);
	if (n < v->n)
		fprintf(fp, "<p class=\"note\">%zu more rows not shown.</p>\n", v->n - n);
}

/* What grew (watch --content): the data out_table's "what grew" section prints, as tables. */
static void write_content(FILE *fp, const struct watch_view *v)
{
	fputs("<h2 id=\"grew\">What grew</h2>\n", fp);
	if (!v->content_asked) {
		fputs("<p>Not read: the watch ran without --content.</p>\n", fp);
		return;
	}
	if (!v->ncontent) {
		fputs("<p>", fp);
		put_text(fp, v->content_note ? v->content_note : "nothing grew");
		fputs("</p>\n", fp);
		return;
	}
	fputs("<p class=\"note\">Pages resident now that were not at the first sample; present pages "
	      "only, read after the last sample. A shape is a string with its digits and hex "
	      "runs generalised; new/MiB against old/MiB compares them with as many of the row's "
	      "older pages.</p>\n", fp);
	for (size_t i = 0; i < v->ncontent; i++) {
		const struct inspect_growth *g = &v->content[i];
		const struct area *a = v->areas[v->content_rows[i]];
		uint64_t nonzero = g->words - g->zero_words;
		char nb[32], rb[32], ob[32];

		fprintf(fp, "<h3>#%zu <span class=\"mono\">", v->content_rows[i] + 1);
		put_range(fp, a);
		fprintf(fp, "</span> %s <span class=\"mono\">",
			region_kind_name((enum region_kind)a->kind));
		put_text(fp, a->path);
		fprintf(fp, "</span></h3>\n<p>%s new, %s read%s, compared with %s of older pages",
			fmt_size(g->new_bytes, nb, sizeof(nb)), fmt_size(g->read_bytes, rb, sizeof(rb)),
			g->sampled ? " (spread evenly: over the budget)" : "",
			fmt_size(g->old_read_bytes, ob, sizeof(ob)));
		if (g->exited)
			fputs("; the target exited during the read: partial", fp);
		fputs(".</p>\n", fp);
		if (!g->new_bytes) {
			fprintf(fp, "<p>No page became resident since the first sample%s.</p>\n",
				g->areas_unrecorded ? " in the areas recorded then" : "");
			continue;
		}
		if (g->nshapes) {
			fputs("<table class=\"shapes\">\n<tr><th>shape</th><th>new</th><th>new/MiB</th>"
			      "<th>old/MiB</th></tr>\n", fp);
			for (size_t k = 0; k < g->nshapes; k++) {
				fputs("<tr><td class=\"mono\">", fp);
				put_text(fp, g->shapes[k].text);
				fprintf(fp, "</td><td class=\"n\">%llu</td><td class=\"n\">%.1f</td>"
					"<td class=\"n\">%.1f</td></tr>\n",
					(unsigned long long)g->shapes[k].count, g->shapes[k].new_per_mib,
					g->shapes[k].old_per_mib);
			}
			fputs("</table>\n", fp);
		} else {
			fputs("<p>No strings.</p>\n", fp);
		}
		if (g->ntops) {
			fputs("<table class=\"strings\">\n<tr><th>top strings of the new pages</th>"
			      "<th>count</th></tr>\n", fp);
			for (size_t k = 0; k < g->ntops; k++) {
				fputs("<tr><td class=\"mono\">", fp);
				put_text(fp, g->tops[k].text);
				fprintf(fp, "</td><td class=\"n\">%llu</td></tr>\n",
					(unsigned long long)g->tops[k].count);
			}
			fputs("</table>\n", fp);
		}
		fprintf(fp, "<p>Words: %.0f%% zero; the others point into:", g->words ?
			100.0 * (double)g->zero_words / (double)g->words : 0.0);
		for (int k = 0; k < INSPECT_PTR_COUNT; k++)
			if (g->points_into[k])
				fprintf(fp, " %s %.1f%%", inspect_ptr_name((enum inspect_ptr)k),
					100.0 * (double)g->points_into[k] / (double)nonzero);
		fprintf(fp, ". Bytes: entropy %.2f bits/byte, %llu of %llu pages all zero.</p>\n",
			g->hist.entropy, (unsigned long long)g->hist.zero_pages,
			(unsigned long long)g->hist.pages);
		if (g->grep) {
			fprintf(fp, "<p>grep: %llu match%s", (unsigned long long)g->matches_total,
				g->matches_total == 1 ? "" : "es");
			for (size_t k = 0; k < g->nmatches; k++) {
				/* analysis already escaped the text for a terminal: HTML only */
				fprintf(fp, "<br/><span class=\"mono\">%llx ",
					(unsigned long long)g->matches[k].addr);
				put_html_safe(fp, g->matches[k].text ? g->matches[k].text : "");
				fputs("</span>", fp);
			}
			fputs("</p>\n", fp);
		}
	}
}

static void write_events(FILE *fp, const struct report *r)
{
	char t[32];

	fputs("<h2 id=\"events\">Events and stacks</h2>\n", fp);
	if (!r->nevents) {
		fputs("<p>None: no trigger fired (stacks are taken by a trigger's action).</p>\n", fp);
		return;
	}
	if (r->events_dropped)
		fprintf(fp, "<p class=\"note\">%llu events between the first %d and the latest were "
			"not kept (at most %d are).</p>\n", (unsigned long long)r->events_dropped,
			REPORT_EVENTS_FIRST, REPORT_EVENTS_MAX);
	for (size_t i = 0; i < r->nevents; i++) {
		const struct report_event *e = &r->events[i];

		fprintf(fp, "<h3 id=\"event-%zu\">E%zu at %s: <span class=\"mono\">", i + 1, i + 1,
			fmt_elapsed(e->elapsed, t, sizeof(t)));
		put_text(fp, e->line);
		fputs("</span></h3>\n", fp);
		if (e->stacks) {
			fputs("<pre>", fp);
			put_text_n(fp, e->stacks, strlen(e->stacks), ESCAPE_KEEP_NL);
			fputs("</pre>\n", fp);
			if (e->stacks_cut)
				fprintf(fp, "<p class=\"note\">(%zu more bytes of stacks not kept)</p>\n",
					e->stacks_cut);
		}
	}
}

/* The whole page into a memory buffer (tens to hundreds of KiB): the file is then written
 * in one go, so an error leaves nothing half-written to clean up but the temporary. */
static char *report_format_dup(const struct report *r, const struct watch_view *v, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);

	if (!fp) {
		fprintf(stderr, "regionwatch: out of memory\n");
		exit(1);
	}
	write_head(fp, r, v);
	write_verdict(fp, v);
	write_charts(fp, r, v);
	write_rows(fp, v);
	write_content(fp, v);
	write_events(fp, r);
	fputs("<p class=\"note\">Made by regionwatch " RW_VERSION ": one file, no scripts, no "
	      "external resources. Names, paths, strings and stacks come from the target and are "
	      "shown escaped as on the terminal (control bytes and invalid UTF-8 as \\xNN, a "
	      "backslash as \\\\).</p>\n</body>\n</html>\n", fp);
	if (fclose(fp) || !buf) {
		fprintf(stderr, "regionwatch: out of memory\n");
		exit(1);
	}
	return buf;
}

int report_write(struct report *r, const struct watch_view *v, const char *path,
		 struct rw_err *err)
{
	size_t len;
	char *html;
	int e;

	if (!r || !v)
		return rw_err_set(err, EINVAL, "report %s: nothing to report", path);
	html = report_format_dup(r, v, &len);
	/* 0600 like a dump: with --content the page holds strings read from the target */
	e = file_replace_atomic(path, 0600, html, len, "report", err);
	free(html);
	return e;
}
