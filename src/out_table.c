/* out_table: aligned human tables, sizes in binary units (K = KiB). */
#include "out_table.h"
#include "inspect.h"
#include "unwind.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void describe(FILE *fp, const char *label, const char *name, const struct snapshot *s,
		     size_t regions)
{
	static const char *const fmts[] = { "smaps", "maps", "pmap -x", "pmap -X" };

	fprintf(fp, "%s: %s (%s", label, name, fmts[s->format]);
	if (s->meta.pid)
		fprintf(fp, ", pid %d", s->meta.pid);
	if (s->meta.comm[0]) {
		char esc[256];
		fprintf(fp, ", %s", escape_ctl(s->meta.comm, esc, sizeof(esc)));
	}
	if (s->meta.time > 0) {
		char when[64];
		time_t t = (time_t)s->meta.time;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		fprintf(fp, ", %s", when);
	}
	fprintf(fp, ", %zu regions)\n", regions);
}

static void total_line(FILE *fp, const char *what, uint64_t a, uint64_t b, int known)
{
	char sa[32], sb[32], sd[32];

	if (!known) {
		fprintf(fp, "  %-5s %s\n", what, "n/a (not in both inputs)");
		return;
	}
	fprintf(fp, "  %-5s %9s -> %-9s (%s)\n", what, fmt_size(a, sa, sizeof(sa)),
		fmt_size(b, sb, sizeof(sb)), fmt_delta((int64_t)(b - a), sd, sizeof(sd)));
}

int out_table_diff_width(const struct diff_row *row)
{
	char range[48];
	int n = snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)row->start,
			 (unsigned long long)row->end);
	return n > 7 ? n : 7;
}

void out_table_diff_head(FILE *fp, const struct snapshot *a, const struct snapshot *b,
			 const struct diff_totals *t, const struct diff_table_opts *o)
{
	describe(fp, "A", o->name_a, a, t->regions_a);
	describe(fp, "B", o->name_b, b, t->regions_b);
	if (a->meta.time > 0 && b->meta.time > 0)
		fprintf(fp, "interval: %.0f s\n", b->meta.time - a->meta.time);
	fputc('\n', fp);
}

void out_table_diff_row(FILE *fp, const struct diff_row *row, int aw, size_t *shown)
{
	char range[48], sz[32], ra[32], rb[32], d[32], path[1024];

	if (!(*shown)++)
		fprintf(fp, "%-7s %-*s %7s %8s %8s %8s %-11s %-4s %s\n", "STATUS", aw, "ADDRESS",
			"SIZE", "RSS A", "RSS B", "DELTA", "KIND", "PERM", "PATH");
	snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)row->start,
		 (unsigned long long)row->end);
	fprintf(fp, "%-7s %-*s %7s %8s %8s %8s %-11s %-4s %s", diff_status_name(row->status),
		aw, range,
		fmt_size(row->size_b ? row->size_b : row->size_a, sz, sizeof(sz)),
		row->nregions_a ? fmt_size(row->rss_a, ra, sizeof(ra)) : "-",
		row->nregions_b ? fmt_size(row->rss_b, rb, sizeof(rb)) : "-",
		fmt_delta(row->delta, d, sizeof(d)), region_kind_name(row->rep->kind),
		row->perms, escape_ctl(row->rep->path, path, sizeof(path)));
	if (row->nregions_a > 1 || row->nregions_b > 1)
		fprintf(fp, "  [%zu->%zu vmas]", row->nregions_a, row->nregions_b);
	fputc('\n', fp);
}

void out_table_diff_foot(FILE *fp, const struct snapshot *a, const struct snapshot *b,
			 const struct diff_totals *t, size_t shown, size_t hidden,
			 const struct diff_table_opts *o)
{
	if (!shown)
		fprintf(fp, "no region changed its RSS%s\n",
			o->min_delta ? " by at least --min-delta" : "");
	if (hidden)
		fprintf(fp, "(%zu %s not shown: %s)\n", hidden, hidden == 1 ? "row" : "rows",
			o->all ? "below --min-delta" : "unchanged or below --min-delta; --all shows them");
	fprintf(fp, "\ntotals (A -> B):\n");
	total_line(fp, "RSS", t->rss_a, t->rss_b, snapshot_has_field(a, RF_RSS) &&
						   snapshot_has_field(b, RF_RSS));
	total_line(fp, "anon", t->anon_a, t->anon_b, t->anon_known);
	total_line(fp, "swap", t->swap_a, t->swap_b, t->swap_known);
	total_line(fp, "size", t->size_a, t->size_b, 1);
	fprintf(fp, "  %-5s %9zu -> %zu\n", "vmas", t->regions_a, t->regions_b);
}

void out_table_diff(FILE *fp, const struct snapshot *a, const struct snapshot *b,
		    const struct diff_result *r, const struct diff_table_opts *o)
{
	size_t shown = 0, hidden = 0;
	int aw = 7;

	for (size_t i = 0; i < r->count; i++) {
		int n = out_table_diff_width(&r->rows[i]);
		if (n > aw && diff_row_shown(&r->rows[i], o->all, o->min_delta))
			aw = n;
	}
	out_table_diff_head(fp, a, b, &r->totals, o);
	for (size_t i = 0; i < r->count; i++) {
		if (diff_row_shown(&r->rows[i], o->all, o->min_delta))
			out_table_diff_row(fp, &r->rows[i], aw, &shown);
		else
			hidden++;
	}
	out_table_diff_foot(fp, a, b, &r->totals, shown, hidden, o);
}

static const char *fmt_rate(double bps, char *buf, size_t len)
{
	char tmp[32];
	double mag = bps < 0 ? -bps : bps;

	if (mag < 1) {
		snprintf(buf, len, "0/s");
		return buf;
	}
	snprintf(buf, len, "%c%s/s", bps < 0 ? '-' : '+', fmt_size((uint64_t)mag, tmp, sizeof(tmp)));
	return buf;
}

static const char *fmt_duration(double s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.1fh", s / 3600);
	else
		snprintf(buf, len, "%.1fd", s / 86400);
	return buf;
}

static void watch_header(FILE *fp, const struct watch_view *v)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], comm[128];

	fprintf(fp, "pid %d (%s)  sample %llu  %.1fs  RSS %s (%s)  anon %s (%s)  swap %s (%s)",
		v->pid, escape_ctl(v->comm, comm, sizeof(comm)), (unsigned long long)v->seq,
		v->elapsed, fmt_size(v->tot.rss, a, sizeof(a)), fmt_rate(v->tot.rss_rate, b, sizeof(b)),
		fmt_size(v->tot.anon, c, sizeof(c)), fmt_rate(v->tot.anon_rate, d, sizeof(d)),
		fmt_size(v->tot.swap, e, sizeof(e)), fmt_rate(v->tot.swap_rate, f, sizeof(f)));
	if (v->lim.kind) {
		fprintf(fp, "  %s %s left", v->lim.kind == 1 ? "cgroup" : "MemAvailable",
			fmt_size(v->lim.headroom, a, sizeof(a)));
		if (v->tot.rss_rate > 0 && v->tot.rss_trend == TREND_GROWING && v->window_samples >= 3)
			fprintf(fp, " (~%s at this rate)",
				fmt_duration((double)v->lim.headroom / v->tot.rss_rate, b, sizeof(b)));
	}
	fprintf(fp, "  cost %.2f ms", v->cost_ms);
	if (v->stretched)
		fprintf(fp, "  interval stretched to %.2fs (over the %g%% CPU budget)", v->interval,
			v->max_cost);
	fputc('\n', fp);
}

/* How much of the process's RSS growth over the window the rows shown hold; the rest is
 * "other" (areas not shown, and shrinking ones). Nothing when the process did not grow. */
static void watch_explained(FILE *fp, const struct watch_view *v)
{
	int64_t growth = (int64_t)v->tot.rss - (int64_t)v->tot.rss_first, held = 0;
	char a[32], b[32], c[32];

	if (growth <= 0 || v->window_samples < 2)
		return;
	for (size_t i = 0; i < v->n; i++)
		if (v->st[i].delta > 0)
			held += v->st[i].delta;
	fprintf(fp, "the %zu row%s above hold %s of the process's %s RSS growth in the window "
		"(%.0f%%); other: %s\n", v->n, v->n == 1 ? "" : "s", fmt_delta(held, a, sizeof(a)),
		fmt_delta(growth, b, sizeof(b)), 100.0 * (double)held / (double)growth,
		fmt_delta(growth - held, c, sizeof(c)));
}

/* A Go program: its version, goroutines, and which grows, in words. */
static void watch_go(FILE *fp, const struct watch_view *v)
{
	char verdict[200];

	if (!v->go)
		return;
	fprintf(fp, "Go %s", v->go->version[0] ? v->go->version : "(version unknown)");
	if (v->go->stripped)
		fprintf(fp, ", stripped binary (no symbol table: no goroutine count)");
	else if (v->goroutines >= 0)
		fprintf(fp, ", %lld goroutines (%+lld since the first sample)", (long long)v->goroutines,
			(long long)(v->goroutines - v->goroutines_first));
	watch_go_verdict(v, verdict, sizeof(verdict));
	if (verdict[0])
		fprintf(fp, "; %s (a heuristic)", verdict);
	fputc('\n', fp);
}

static void watch_rows(FILE *fp, const struct watch_view *v, int ranks)
{
	int aw = 7;

	for (size_t i = 0; i < v->n; i++) {
		char range[48];
		int n = snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)v->areas[i]->start,
				 (unsigned long long)v->areas[i]->end);
		if (n > aw)
			aw = n;
	}
	if (ranks)
		fprintf(fp, "%4s ", "#");
	fprintf(fp, "%-*s %7s %8s %8s %10s %-9s %-11s %s\n", aw, "ADDRESS", "SIZE", "RSS", "DELTA",
		"RATE", "TREND", "KIND", "PATH");
	for (size_t i = 0; i < v->n; i++) {
		const struct area *a = v->areas[i];
		const struct area_stats *st = &v->st[i];
		char range[48], sz[32], rss[32], d[32], r[32], path[1024];

		snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)a->start,
			 (unsigned long long)a->end);
		if (ranks)
			fprintf(fp, "%4zu ", i + 1);
		fprintf(fp, "%-*s %7s %8s %8s %10s %-9s %-11s %s\n", aw, range,
			fmt_size(a->size, sz, sizeof(sz)), fmt_size(st->rss_last, rss, sizeof(rss)),
			fmt_delta(st->delta, d, sizeof(d)), fmt_rate(st->rate, r, sizeof(r)),
			trend_name(st->trend), region_kind_name(a->kind),
			escape_ctl(a->path, path, sizeof(path)));
	}
}

void out_table_watch_sample(FILE *fp, const struct watch_view *v)
{
	watch_header(fp, v);
	watch_go(fp, v);
	watch_rows(fp, v, 0);
	watch_explained(fp, v);
	fputc('\n', fp);
}

/* The pointer census of the new pages: the share of zero words, where the others point. */
static void content_words(FILE *fp, const struct inspect_growth *g)
{
	uint64_t nonzero = g->words - g->zero_words;

	fprintf(fp, "   words: %.0f%% zero; the others point into:", g->words ?
		100.0 * (double)g->zero_words / (double)g->words : 0.0);
	for (int k = 0; k < INSPECT_PTR_COUNT; k++)
		if (g->points_into[k])
			fprintf(fp, " %s %.1f%%", inspect_ptr_name((enum inspect_ptr)k),
				100.0 * (double)g->points_into[k] / (double)nonzero);
	fputc('\n', fp);
}

/* The pointees of a row whose new pages are mostly pointers. */
static void watch_content_hop(FILE *fp, const struct inspect_growth *g)
{
	char rb[32], path[256], text[96];

	fprintf(fp, "   one hop (%.0f%% of the words point into mappings; followed at >= %.0f%%, a "
		"heuristic): %llu targets, %u bytes at each, %s of their pages read",
		100.0 * g->ptr_share, 100.0 * INSPECT_HOP_SHARE, (unsigned long long)g->hop_targets,
		INSPECT_HOP_WINDOW, fmt_size(g->hop_read_bytes, rb, sizeof(rb)));
	if (g->hop_map_targets)
		fprintf(fp, "; %.0f%% in %llx-%llx %s%s%s", 100.0 * (double)g->hop_map_targets /
			(double)g->hop_targets, (unsigned long long)g->hop_map_start,
			(unsigned long long)g->hop_map_end,
			region_kind_name((enum region_kind)g->hop_map_kind),
			g->hop_map_path && g->hop_map_path[0] ? " " : "", escape_ctl(g->hop_map_path ? g->hop_map_path : "", path, sizeof(path)));
	fputc('\n', fp);
	if (!g->hop_nshapes) {
		fprintf(fp, "   (no strings at the targets)\n");
		return;
	}
	fprintf(fp, "   %-60s %9s\n", "pointee shape", "count");
	for (size_t k = 0; k < g->hop_nshapes && k < 3; k++)
		fprintf(fp, "   %-60s %9llu\n", escape_ctl(g->hop_shapes[k].text, text, sizeof(text)),
			(unsigned long long)g->hop_shapes[k].count);
}

/* watch --content: per row, the top shapes of its new pages against its older ones, and
 * where their words point. */
static void watch_content(FILE *fp, const struct watch_view *v)
{
	if (!v->ncontent) {
		fprintf(fp, "\nwhat grew: %s\n", v->content_note ? v->content_note : "nothing grew");
		return;
	}
	fprintf(fp, "\nwhat grew (pages resident now that were not at the first sample; present pages "
		"only, read after the last sample):\n");
	for (size_t i = 0; i < v->ncontent; i++) {
		const struct inspect_growth *g = &v->content[i];
		const struct area *a = v->areas[v->content_rows[i]];
		char nb[32], rb[32], ob[32], path[256], text[96];

		fprintf(fp, "#%zu %llx-%llx %s %s: %s new, %s read%s, compared with %s of older pages\n",
			v->content_rows[i] + 1, (unsigned long long)a->start, (unsigned long long)a->end,
			region_kind_name(a->kind), escape_ctl(a->path, path, sizeof(path)),
			fmt_size(g->new_bytes, nb, sizeof(nb)), fmt_size(g->read_bytes, rb, sizeof(rb)),
			g->sampled ? " (spread evenly: over the budget)" : "",
			fmt_size(g->old_read_bytes, ob, sizeof(ob)));
		if (g->exited)
			fprintf(fp, "   (the target exited during the read: partial)\n");
		if (!g->new_bytes) {
			fprintf(fp, "   no page became resident since the first sample%s\n",
				g->areas_unrecorded ? " in the areas recorded then" : "");
			continue;
		}
		/* mostly pointers: what they point at comes first, the shapes of the pointer
		 * words themselves after it */
		if (g->hop) {
			content_words(fp, g);
			watch_content_hop(fp, g);
		}
		fprintf(fp, "   %-60s %9s %9s\n", "shape", "new/MiB", "old/MiB");
		for (size_t k = 0; k < g->nshapes && k < 3; k++)
			fprintf(fp, "   %-60s %9.1f %9.1f\n",
				escape_ctl(g->shapes[k].text, text, sizeof(text)),
				g->shapes[k].new_per_mib, g->shapes[k].old_per_mib);
		if (!g->nshapes)
			fprintf(fp, "   (no strings)\n");
		if (!g->hop)
			content_words(fp, g);
		if (v->content_histogram)
			fprintf(fp, "   bytes: entropy %.2f bits/byte, %llu of %llu pages all zero\n",
				g->hist.entropy, (unsigned long long)g->hist.zero_pages,
				(unsigned long long)g->hist.pages);
		if (g->grep)
			fprintf(fp, "   grep: %llu match%s\n", (unsigned long long)g->matches_total,
				g->matches_total == 1 ? "" : "es");
	}
}

void out_table_watch_summary(FILE *fp, const struct watch_view *v)
{
	static const char *const why[] = { "count", "sample count reached", "interrupted",
					   "interrupted", "exited", "target exited" };
	const char *end = v->end;
	char comm[128];

	for (size_t i = 0; i < 6; i += 2)
		if (!strcmp(v->end, why[i]))
			end = why[i + 1];
	fprintf(fp, "final ranking: pid %d (%s), %llu samples over %.1f s (%s); statistics over the "
		"last %zu samples (%.1f s); %zu areas, %llu vanished\n",
		v->pid, escape_ctl(v->comm, comm, sizeof(comm)), (unsigned long long)v->seq, v->elapsed,
		end, v->window_samples, v->window_s, v->nareas, (unsigned long long)v->vanished);
	watch_header(fp, v);
	watch_go(fp, v);
	watch_rows(fp, v, 1);
	watch_explained(fp, v);
	fprintf(fp, "(trend and ranking are heuristics: see regionwatch(1), WATCH)\n");
	if (v->content_asked)
		watch_content(fp, v);
}

/* stacks: each thread's header line and its frames (regionwatch(1), STACKS). */
static void print_frame(FILE *fp, const struct unwind_frame *f, size_t k, const char *tail)
{
	char name[1100];

	if (f->function)
		fprintf(fp, "  #%zu 0x%llx %s+0x%llx", k, (unsigned long long)f->ip,
			escape_ctl(f->function, name, sizeof(name)), (unsigned long long)f->offset);
	else
		fprintf(fp, "  #%zu 0x%llx ??", k, (unsigned long long)f->ip);
	if (f->module) {
		/* Unnamed: where in the file, for addr2line or a debug-info package. */
		fprintf(fp, " (%s", escape_ctl(f->module, name, sizeof(name)));
		if (!f->function && f->module[0] != '[')
			fprintf(fp, "+0x%llx", (unsigned long long)f->module_offset);
		fprintf(fp, tail ? "; %s)\n" : ")\n", tail);
	} else if (tail)
		fprintf(fp, " (%s)\n", tail);
	else
		fprintf(fp, " (anonymous memory or not mapped)\n");
}

void out_table_stacks(FILE *fp, const struct unwind_thread *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct unwind_thread *t = &v[i];
		char comm[300], tail[240];
		size_t last = t->count ? t->count - 1 : 0;
		int unknown_last = t->count && !t->frames[last].function;

		if (i)
			fputc('\n', fp);
		fprintf(fp, "thread %d (%s) state %c", (int)t->task.tid,
			escape_ctl(t->task.comm, comm, sizeof(comm)), t->task.state);
		if (t->stack_end)
			fprintf(fp, ", stack %llx-%llx", (unsigned long long)t->stack_start,
				(unsigned long long)t->stack_end);
		fputc('\n', fp);
		for (size_t k = 0; k < t->count; k++) {
			/* An unnamed frame the unwinder could not get past: say both at once. */
			if (k == last && unknown_last &&
			    (t->stop == UNWIND_STOP_ERROR || t->stop == UNWIND_STOP_LOOP)) {
				snprintf(tail, sizeof(tail), "unknown frame: unwinding stopped: %s", t->reason);
				print_frame(fp, &t->frames[k], k, tail);
			} else {
				print_frame(fp, &t->frames[k], k, NULL);
			}
		}
		switch (t->stop) {
		case UNWIND_STOP_END:
			if (!t->count)
				fprintf(fp, "  (no frames)\n");
			break;
		case UNWIND_STOP_ERROR:
		case UNWIND_STOP_LOOP:
			if (!t->count)
				fprintf(fp, "  unwinding failed: %s\n", t->reason);
			else if (!unknown_last)
				fprintf(fp, "  #%zu ?? (unknown frame: unwinding stopped after #%zu: %s)\n",
					t->count, last, t->reason);
			break;
		case UNWIND_STOP_MAX_FRAMES:
			fprintf(fp, "  ... truncated: %s (--max-frames %zu)\n", t->reason, t->count);
			break;
		case UNWIND_STOP_TIME:
		case UNWIND_STOP_SKIPPED:
			fprintf(fp, "  ... truncated: %s\n", t->reason);
			break;
		case UNWIND_STOP_GONE:
			fprintf(fp, "  (%s)\n", t->reason);
			break;
		}
	}
}
