/* ui_region: one area, in six tabs (Hex, Strings, Histogram, Pages, Grep, New). The keys
 * move and ask; the content is gathered by inspect (ui_region_inspect, run by the loop on
 * UI_REINSPECT / UI_REHEX; ui_growth_read on UI_REGROWTH) and the tabs only draw it. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"

#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const tab_names[TAB_COUNT] = { "Hex", "Strings", "Histogram", "Pages", "Grep", "New" };

static int hex_rows(void)
{
	return LINES - 4 > 1 ? LINES - 4 : 1;
}

/* The loop's inspect step: the census (UI_REINSPECT) and the hex window (UI_REINSPECT, or
 * UI_REHEX when the screen is not within it), through the sampler's pinned /proc handle. */
void ui_region_inspect(struct ui *u, unsigned mask)
{
	const struct snapshot *snap;
	struct rw_err err;

	if (u->view != VIEW_REGION)
		return;
	if (u->w.exited) {
		if (mask & UI_REINSPECT)
			ui_set_msg(u, "cannot read the region: the process is gone");
		return;
	}
	/* Content is read against a map with VmFlags (a cheap sample has none for new
	 * mappings, and memread will not read those). */
	snap = sampler_full_snapshot(&u->w.sm, &err);
	if (!snap) {
		ui_set_msg(u, "cannot read the region: %s", err.msg);
		return;
	}
	if (mask & UI_REINSPECT) {
		size_t cells = (size_t)COLS * (size_t)(LINES > 8 ? LINES - 8 : 1);
		if (inspect_region(&u->in, &u->w.sm.proc, snap, u->rstart, u->rend, u->grep_pat,
				   cells, u->rnewest, &err) && u->grep_pat[0] && !u->in.have_census) {
			/* the pattern did not compile: say why and drop it */
			ui_set_msg(u, "%s", err.msg);
			u->grep_pat[0] = '\0';
		}
		if (u->msel >= u->in.nmatches)
			u->msel = 0;
		/* just opened: Hex starts where the census read, the newest pages of a growing
		 * area; a re-read (r) leaves the hex view where the person put it */
		if (u->hex_at_read) {
			u->hex_top = u->in.read_from & ~15ULL;
			u->hex_at_read = 0;
		}
	}
	if ((mask & UI_REINSPECT) || !inspect_hex_covers(&u->in, u->hex_top, (uint64_t)hex_rows() * 16))
		inspect_hex(&u->in, &u->w.sm.proc, snap, u->hex_top, &err);
}

/* The New tab's baseline: the present pages, as runs, of every area of a kind a leak grows
 * in (inspect_growth_kind), as watch --content records them at its first sample. Asked for
 * at the monitor's first sample and on b (gbase_due), recorded by the loop after its draw.
 * pagemap only: no page is read. It belongs to the latest sample: the areas are that
 * sample's, and none is sampled in between. */
void ui_growth_baseline(struct ui *u)
{
	struct rw_err err;
	double t0 = now_mono();

	u->gbase_due = 0;
	if (u->gbase_taken)
		inspect_baseline_free(&u->gbase);
	inspect_baseline_init(&u->gbase);
	u->gbase_taken = 1;
	u->gbase_seq = u->w.tl.seq ? u->w.tl.seq - 1 : 0;
	for (size_t i = 0; i < u->w.tl.nareas; i++) {
		const struct area *a = &u->w.tl.areas[i];
		if (a->last_seq + 1 != u->w.tl.seq || !inspect_growth_kind(a->kind))
			continue;
		if (inspect_baseline_add(&u->gbase, &u->w.sm.proc, a->id, a->start, a->end, &err) == -ESRCH)
			break;
	}
	inspect_baseline_index(&u->gbase);
	u->gbase_time = now_mono();
	u->gbase_wall = now_wall();
	u->gbase_ms = (u->gbase_time - t0) * 1e3;
	u->gbase_after = t0 - u->w.t_last;
	inspect_growth_free(&u->grown);
	u->have_grown = 0;
}

/* The loop's step for UI_REGROWTH: the open row's pages that became resident since the
 * baseline (a pool: every member's), through inspect_growth within UI_GROWTH_BUDGET (spread
 * evenly beyond it), and as many older pages to compare with. Only on demand: the New tab
 * opened, or r on it. */
void ui_growth_read(struct ui *u)
{
	const struct snapshot *snap;
	const struct pool *pl = NULL;
	const struct area *a = NULL;
	struct inspect_span *spans;
	struct analysis_opts ao;
	struct rw_err err;
	size_t n = 0;
	int rc;

	if (u->view != VIEW_REGION || u->tab != TAB_NEW)
		return;
	u->grown_err[0] = '\0';
	inspect_growth_free(&u->grown);
	u->have_grown = 0;
	u->grown_id = u->rrow_id;
	u->grown_time = now_mono();
	if (u->w.exited) {
		snprintf(u->grown_err, sizeof(u->grown_err), "not read: the process is gone");
		return;
	}
	if (!u->gbase_taken || u->gbase_due) {
		snprintf(u->grown_err, sizeof(u->grown_err), "not read: the baseline is not recorded yet "
			 "(just after the screen is drawn); r reads");
		return;
	}
	/* by id in the latest sample: the row may have vanished, or (a pool) gained members */
	if (u->rrow_pool)
		pl = watch_find_pool(&u->w, u->rrow_id);
	else
		a = watch_find_area(&u->w, u->rrow_id);
	if (!pl && !a) {
		snprintf(u->grown_err, sizeof(u->grown_err), "not read: the row is not in the latest sample");
		return;
	}
	snap = sampler_full_snapshot(&u->w.sm, &err);   /* VmFlags for memread's skip rules */
	if (!snap) {
		snprintf(u->grown_err, sizeof(u->grown_err), "not read: %s", err.msg);
		return;
	}
	n = pl ? pl->nmembers : 1;
	spans = xcalloc(n, sizeof(*spans));
	for (size_t k = 0; k < n; k++) {
		const struct area *m = pl ? pl->members[k] : a;
		spans[k] = (struct inspect_span){ m->id, m->start, m->end, m->born_seq > u->gbase_seq };
	}
	memset(&ao, 0, sizeof(ao));
	ao.top = INSPECT_TOPN;
	ao.encodings = SCAN_ENC_ASCII;
	rc = inspect_growth(&u->grown, &u->w.sm.proc, snap, &u->gbase, spans, n, UI_GROWTH_BUDGET, &ao, &err);
	free(spans);
	if (rc && rc != -ESRCH) {
		snprintf(u->grown_err, sizeof(u->grown_err), "read failed: %s", err.msg);
		inspect_growth_free(&u->grown);
		return;
	}
	u->have_grown = 1;
}

/* Enter on a table row: the area becomes the open one; the loop gathers its content. */
unsigned ui_region_open(struct ui *u)
{
	const struct area *a;
	const struct pool *pool;
	char path[200];

	if (!u->nrows)
		return UI_HANDLED;
	a = u->rows[u->sel];
	pool = u->rpool ? u->rpool[u->sel] : NULL;   /* the row's pool, from the ranking */
	if (pool) {
		/* A pool's span holds other mappings too: open the member that grew most (all of
		 * them are read by dump --region top). */
		const struct area *m = watch_pool_top_member(&u->w, pool);
		if (!m)
			return UI_HANDLED;
		escape_ctl(m->path, path, sizeof(path));
		snprintf(u->rdesc, sizeof(u->rdesc), "%llx-%llx  %s  %s (of %zu in the pool: the one "
			 "that grew most)", (unsigned long long)m->start, (unsigned long long)m->end,
			 region_kind_name((enum region_kind)m->kind), path, pool->nmembers);
		a = m;
	} else {
		escape_ctl(a->path, path, sizeof(path));
		snprintf(u->rdesc, sizeof(u->rdesc), "%llx-%llx  %s  %s", (unsigned long long)a->start,
			 (unsigned long long)a->end, region_kind_name((enum region_kind)a->kind), path);
	}
	/* the New tab reads the row itself: a pool's every member */
	u->rrow_id = u->rows[u->sel]->id;
	u->rrow_pool = pool != NULL;
	if (pool)
		escape_ctl(u->rows[u->sel]->path, u->rrow_desc, sizeof(u->rrow_desc));
	else
		snprintf(u->rrow_desc, sizeof(u->rrow_desc), "%s", u->rdesc);
	inspect_growth_free(&u->grown);
	u->have_grown = 0;
	u->grown_err[0] = '\0';
	u->rstart = a->start;
	u->rend = a->end;
	u->view = VIEW_REGION;
	u->hex_top = a->start;
	/* a growing area's news is at its top (brk and Go arenas grow upward) */
	u->rnewest = ui_row_stats(u, u->sel)->trend == TREND_GROWING;
	u->hex_at_read = 1;
	u->msel = 0;
	return UI_HANDLED | UI_REINSPECT | UI_REDRAW | (u->tab == TAB_NEW ? UI_REGROWTH : 0);
}

static void draw_hex(const struct ui *u, int y)
{
	int rows = LINES - 4;
	char line[512];

	for (int r = 0; r < rows; r++) {
		uint64_t addr = u->hex_top + (uint64_t)r * 16;
		size_t off;
		int o;
		if (addr >= u->rend)
			return;
		off = (size_t)(addr - u->in.hex_base);
		if (off + 16 > INSPECT_HEX_WINDOW)
			return;
		o = snprintf(line, sizeof(line), "%012llx  ", (unsigned long long)addr);
		if (!u->in.hex_present[off / 4096]) {
			snprintf(line + o, sizeof(line) - (size_t)o, "-- page not present: not read --");
		} else {
			for (int i = 0; i < 16; i++)
				o += snprintf(line + o, sizeof(line) - (size_t)o, "%02x %s", u->in.hex[off + (size_t)i],
					      i == 7 ? " " : "");
			o += snprintf(line + o, sizeof(line) - (size_t)o, " |");
			for (int i = 0; i < 16; i++) {
				unsigned char c = u->in.hex[off + (size_t)i];
				line[o++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
			}
			line[o++] = '|';
			line[o] = '\0';
		}
		ui_put_clipped(y + r, 0, COLS, line);
	}
}

/* What part of the area the census read, for the tabs to say: "" (all of it), ", capped
 * at 16 MiB" (its first 16 MiB), or ": the last 16 MiB, from 7f..." (a growing area's
 * newest pages). */
static void read_part(const struct ui *u, char *out, size_t len)
{
	if (u->in.read_tail)
		snprintf(out, len, ": the last 16 MiB, from %llx", (unsigned long long)u->in.read_from);
	else if (u->in.read_truncated)
		snprintf(out, len, ", the first 16 MiB");
	else
		out[0] = '\0';
}

static void draw_strings(const struct ui *u, int y)
{
	char line[512], a[32], b[32];

	char what[64];
	read_part(u, what, sizeof(what));
	snprintf(line, sizeof(line), "read %s of %s (present pages%s); %llu strings; r re-reads",
		 fmt_size(u->in.read_bytes, a, sizeof(a)), fmt_size(u->rend - u->rstart, b, sizeof(b)),
		 what, (unsigned long long)u->in.strings_found);
	ui_put_clipped(y++, 0, COLS, line);
	ui_put_clipped(y++, 0, COLS, "top shapes (digit runs and hex ids as #):");
	for (size_t i = 0; i < u->in.nshapes && y < LINES / 2 + 2; i++) {
		char esc[400];
		snprintf(line, sizeof(line), "%9llu%s %s", (unsigned long long)u->in.shapes[i].count,
			 u->in.shapes[i].error ? "~" : " ", escape_ctl(u->in.shapes[i].text, esc, sizeof(esc)));
		ui_put_clipped(y++, 0, COLS, line);
	}
	ui_put_clipped(y++, 0, COLS, "top strings:");
	for (size_t i = 0; i < u->in.ntops && y < LINES - 1; i++) {
		char esc[400];
		snprintf(line, sizeof(line), "%9llu%s %s", (unsigned long long)u->in.tops[i].count,
			 u->in.tops[i].error ? "~" : " ", escape_ctl(u->in.tops[i].text, esc, sizeof(esc)));
		ui_put_clipped(y++, 0, COLS, line);
	}
}

static void draw_hist(const struct ui *u, int y)
{
	char line[512], a[32];

	uint64_t groups[16] = { 0 }, max = 1;
	if (!u->in.have_census)
		return;
	char what[64];
	read_part(u, what, sizeof(what));
	snprintf(line, sizeof(line), "%s read%s, entropy %.2f bits/byte, zero pages %llu of %llu",
		 fmt_size(u->in.hist.bytes, a, sizeof(a)), what, u->in.hist.entropy,
		 (unsigned long long)u->in.hist.zero_pages, (unsigned long long)u->in.hist.pages);
	ui_put_clipped(y++, 0, COLS, line);
	for (int i = 0; i < 256; i++)
		groups[i / 16] += u->in.hist.counts[i];
	for (int g = 0; g < 16; g++)
		if (groups[g] > max)
			max = groups[g];
	for (int g = 0; g < 16 && y < LINES - 3; g++) {
		int w = COLS - 20 > 0 ? COLS - 20 : 1;
		int bar = (int)((double)groups[g] / (double)max * w);
		snprintf(line, sizeof(line), "%02x-%02x %6.2f%% ", g * 16, g * 16 + 15,
			 u->in.hist.bytes ? 100.0 * (double)groups[g] / (double)u->in.hist.bytes : 0);
		ui_put_clipped(y, 0, COLS, line);
		mvhline(y, (int)strlen(line), u->utf8 ? ACS_CKBOARD : '#', bar);
		y++;
	}
	{
		size_t o = (size_t)snprintf(line, sizeof(line), "64 KiB blocks (a guess):");
		for (int c = 0; c <= SCAN_BLOCK_UNREAD; c++)
			if (u->in.hist.blocks[c])
				o += (size_t)snprintf(line + o, sizeof(line) - o, " %s %llu",
						      scan_block_class_name((enum scan_block_class)c),
						      (unsigned long long)u->in.hist.blocks[c]);
		ui_put_clipped(y++, 0, COLS, line);
	}
}

static void draw_pages(const struct ui *u, int y)
{
	char line[512], a[32];

	uint64_t per = u->in.pmap_n ? (u->rend - u->rstart) / u->in.pmap_n : 0;
	snprintf(line, sizeof(line), "one cell = %s: # all present, + some, s swapped, . none",
		 fmt_size(per ? per : 4096, a, sizeof(a)));
	ui_put_clipped(y++, 0, COLS, line);
	for (size_t i = 0; i < u->in.pmap_n; i++) {
		int cy = y + (int)(i / (size_t)COLS), cx = (int)(i % (size_t)COLS);
		uint64_t pages = per / 4096 ? per / 4096 : 1;
		char ch = '.';
		if (cy >= LINES - 1)
			break;
		if (u->in.pmap_present[i] >= pages)
			ch = '#';
		else if (u->in.pmap_present[i])
			ch = '+';
		else if (u->in.pmap_swapped[i])
			ch = 's';
		mvaddch(cy, cx, (chtype)ch);
	}
}

static void draw_grep(const struct ui *u, int y)
{
	char line[512];

	snprintf(line, sizeof(line), "/%s/: %llu matches%s; / new pattern, Enter shows a match in Hex",
		 u->grep_pat, (unsigned long long)u->in.matches_total,
		 u->in.read_tail ? " (in the last 16 MiB read)" :
		 u->in.read_truncated ? " (in the first 16 MiB read)" : "");
	ui_put_clipped(y++, 0, COLS, u->grep_pat[0] ? line : "/ to search the region with a PCRE2 pattern");
	for (size_t i = 0; i < u->in.nmatches && y < LINES - 1; i++) {
		snprintf(line, sizeof(line), "%llx  %s", (unsigned long long)u->in.matches[i].addr,
			 u->in.matches[i].text);
		if (i == u->msel)
			attron(A_REVERSE);
		ui_put_clipped(y++, 0, COLS, line);
		if (i == u->msel)
			attroff(A_REVERSE);
	}
}

/* "12s", "3m05s" */
static const char *ago(double secs, char *out, size_t len)
{
	long s = secs < 0 ? 0 : (long)(secs + 0.5);
	if (s < 60)
		snprintf(out, len, "%lds", s);
	else
		snprintf(out, len, "%ldm%02lds", s / 60, s % 60);
	return out;
}

/* When the baseline was taken: its sample, the clock time its present pages were recorded,
 * how long after that sample (the first screen comes first) and what it cost. */
static void baseline_line(const struct ui *u, char *line, size_t len)
{
	char hms[16] = "?";
	time_t t;
	struct tm tm;

	if (!u->gbase_taken || u->gbase_due) {
		snprintf(line, len, "baseline: not recorded yet (just after the screen is drawn)");
		return;
	}
	t = (time_t)u->gbase_wall;
	if (localtime_r(&t, &tm))
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	/* "+77 ms": after its sample; "took": the pagemap reads */
	snprintf(line, len, "baseline: sample %llu, pagemap of %zu areas at %s, +%.0f ms, took %.0f ms",
		 (unsigned long long)u->gbase_seq + 1, u->gbase.nareas, hms, u->gbase_after * 1e3,
		 u->gbase_ms);
}

/* New: what the row's pages that became resident since the baseline hold, against its
 * older pages (watch --content's census, in the monitor). */
static void draw_new(const struct ui *u, int y)
{
	const struct inspect_growth *g = &u->grown;
	char line[768], a[32], b[32], c[32], t1[32], t2[32], esc[400];
	double now = now_mono();
	int room, nsh;

	snprintf(line, sizeof(line), "row: %s", u->rrow_desc);
	ui_put_clipped(y++, 0, COLS, line);
	if (u->grown_err[0] || !u->have_grown) {
		ui_put_clipped(y++, 0, COLS, u->grown_err[0] ? u->grown_err : "not read yet: r reads the new pages");
		baseline_line(u, line, sizeof(line));
		ui_put_clipped(y, 0, COLS, line);
		return;
	}
	snprintf(line, sizeof(line), "baseline %s ago; read %s ago, r reads again",
		 ago(now - u->gbase_time, t1, sizeof(t1)), ago(now - u->grown_time, t2, sizeof(t2)));
	ui_put_clipped(y++, 0, COLS, line);
	baseline_line(u, line, sizeof(line));
	ui_put_clipped(y++, 0, COLS, line);
	snprintf(line, sizeof(line), "new pages (resident now, not then): %s; %s of them read%s%s%s",
		 fmt_size(g->new_bytes, a, sizeof(a)), fmt_size(g->read_bytes, b, sizeof(b)),
		 g->sampled ? ", a sample (spread evenly over the " : "",
		 g->sampled ? fmt_size(UI_GROWTH_BUDGET, t1, sizeof(t1)) : "", g->sampled ? " budget)" : "");
	ui_put_clipped(y++, 0, COLS, line);
	snprintf(line, sizeof(line), "compared with %s of older pages (present at the baseline)",
		 fmt_size(g->old_read_bytes, c, sizeof(c)));
	ui_put_clipped(y++, 0, COLS, line);
	if (g->exited)
		ui_put_clipped(y++, 0, COLS, "(the target exited during the read: partial)");
	if (g->areas_unrecorded) {
		snprintf(line, sizeof(line), "%llu area%s of the row not recorded at the baseline: not read",
			 (unsigned long long)g->areas_unrecorded, g->areas_unrecorded == 1 ? "" : "s");
		ui_put_clipped(y++, 0, COLS, line);
	}
	if (!g->new_bytes) {
		ui_put_clipped(y, 0, COLS, "no page became resident since the baseline");
		return;
	}
	{
		uint64_t nonzero = g->words - g->zero_words;
		size_t o = (size_t)snprintf(line, sizeof(line), "words: %.0f%% zero; the others point into:",
					    g->words ? 100.0 * (double)g->zero_words / (double)g->words : 0.0);
		for (int k = 0; k < INSPECT_PTR_COUNT && o < sizeof(line); k++)
			if (g->points_into[k])
				o += (size_t)snprintf(line + o, sizeof(line) - o, " %s %.1f%%",
						      inspect_ptr_name((enum inspect_ptr)k),
						      100.0 * (double)g->points_into[k] / (double)(nonzero ? nonzero : 1));
		ui_put_clipped(y++, 0, COLS, line);
	}
	/* shapes get half of what is left, strings the rest */
	room = LINES - 1 - y - 2;
	nsh = room / 2;
	attron(A_BOLD);
	ui_put_clipped(y++, 0, COLS, "new/MiB  old/MiB  top shapes of the new pages (digits and hex ids as #)");
	attroff(A_BOLD);
	for (size_t i = 0; i < g->nshapes && (int)i < nsh && y < LINES - 3; i++) {
		snprintf(line, sizeof(line), "%7.1f  %7.1f  %s", g->shapes[i].new_per_mib, g->shapes[i].old_per_mib,
			 escape_ctl(g->shapes[i].text, esc, sizeof(esc)));
		ui_put_clipped(y++, 0, COLS, line);
	}
	if (!g->nshapes)
		ui_put_clipped(y++, 0, COLS, "   (no strings)");
	attron(A_BOLD);
	ui_put_clipped(y++, 0, COLS, "  count  top strings of the new pages");
	attroff(A_BOLD);
	for (size_t i = 0; i < g->ntops && y < LINES - 1; i++) {
		snprintf(line, sizeof(line), "%7llu%s %s", (unsigned long long)g->tops[i].count,
			 g->tops[i].error ? "~" : " ", escape_ctl(g->tops[i].text, esc, sizeof(esc)));
		ui_put_clipped(y++, 0, COLS, line);
	}
}

void ui_region_draw(const struct ui *u)
{
	int x = 0;
	char line[64];

	erase();
	attron(A_BOLD);
	ui_put_clipped(0, 0, COLS, u->rdesc);
	attroff(A_BOLD);
	for (int t = 0; t < TAB_COUNT; t++) {
		snprintf(line, sizeof(line), " %d %s ", t + 1, tab_names[t]);
		if (t == (int)u->tab)
			attron(A_REVERSE);
		ui_put_clipped(1, x, COLS - x, line);
		if (t == (int)u->tab)
			attroff(A_REVERSE);
		x += (int)strlen(line);
		if (x >= COLS)
			break;
	}
	if (u->in.read_tail && x < COLS) {
		/* every tab shows the same part: say which */
		char a[32];
		snprintf(line, sizeof(line), " last 16 MiB of %s", fmt_size(u->rend - u->rstart, a, sizeof(a)));
		ui_put_clipped(1, x, COLS - x, line);
	}
	switch (u->tab) {
	case TAB_HEX: draw_hex(u, 2); break;
	case TAB_STRINGS: draw_strings(u, 2); break;
	case TAB_HIST: draw_hist(u, 2); break;
	case TAB_PAGES: draw_pages(u, 2); break;
	case TAB_GREP: draw_grep(u, 2); break;
	case TAB_NEW: draw_new(u, 2); break;
	default: break;
	}
	ui_draw_footer(u, UI_REGION_KEYS);
}

static unsigned key_hex(struct ui *u, int ch)
{
	int64_t step = 0;
	int rows = hex_rows();

	if (ch == KEY_DOWN || ch == 'j') step = 16;
	else if (ch == KEY_UP || ch == 'k') step = -16;
	else if (ch == KEY_NPAGE) step = 16 * rows;
	else if (ch == KEY_PPAGE) step = -16 * rows;
	else if (ch == 'g') {
		return ui_prompt_open(u, PROMPT_GOTO, "jump to address (hex; Esc cancels): ", "");
	} else {
		return 0;
	}
	if (step < 0 && u->hex_top < u->rstart + (uint64_t)-step)
		u->hex_top = u->rstart;
	else if (step)
		u->hex_top += (uint64_t)step;
	if (u->hex_top >= u->rend)
		u->hex_top = (u->rend - 1) & ~15ULL;
	return UI_HANDLED | UI_REDRAW | UI_REHEX;
}

static unsigned key_grep(struct ui *u, int ch)
{
	if (ch == '/')
		return ui_prompt_open(u, PROMPT_GREP, "grep (PCRE2; empty clears, Esc cancels): ", u->grep_pat);
	if ((ch == KEY_DOWN || ch == 'j') && u->msel + 1 < u->in.nmatches) {
		u->msel++;
	} else if ((ch == KEY_UP || ch == 'k') && u->msel) {
		u->msel--;
	} else if ((ch == '\n' || ch == '\r' || ch == KEY_ENTER) && u->in.nmatches) {
		u->hex_top = u->in.matches[u->msel].addr & ~15ULL;
		u->tab = TAB_HEX;
		return UI_HANDLED | UI_REDRAW | UI_REHEX;
	} else {
		return 0;
	}
	return UI_HANDLED | UI_REDRAW;
}

/* Enter on the g or / prompt. */
unsigned ui_region_answer(struct ui *u, enum ui_prompt_kind kind, const char *text)
{
	if (kind == PROMPT_GREP) {
		snprintf(u->grep_pat, sizeof(u->grep_pat), "%s", text);
		u->msel = 0;
		return UI_HANDLED | UI_REDRAW | UI_REINSPECT;
	}
	if (kind == PROMPT_GOTO) {
		uint64_t addr;
		if (!text[0])
			return UI_HANDLED | UI_REDRAW;
		/* say which of the two it was: not an address, or not in this region */
		if (parse_addr(text, &addr))
			ui_set_msg(u, "'%s' is not an address: give up to 16 hex digits, 0x optional", text);
		else if (addr < u->rstart || addr >= u->rend)
			ui_set_msg(u, "%llx is not in this region (%llx-%llx)", (unsigned long long)addr,
				   (unsigned long long)u->rstart, (unsigned long long)u->rend);
		else
			u->hex_top = addr & ~15ULL;
		return UI_HANDLED | UI_REDRAW | UI_REHEX;
	}
	return UI_HANDLED | UI_REDRAW;
}

/* A tab chosen: the New tab reads the row's new pages the first time it is shown for the
 * open row (then on r). */
static unsigned to_tab(struct ui *u, enum ui_tab t)
{
	u->tab = t;
	if (t == TAB_NEW && !u->have_grown && !u->grown_err[0])
		return UI_HANDLED | UI_REDRAW | UI_REGROWTH;
	return UI_HANDLED | UI_REDRAW;
}

unsigned ui_region_key(struct ui *u, int ch)
{
	if (ch >= '1' && ch <= '0' + TAB_COUNT)
		return to_tab(u, (enum ui_tab)(ch - '1'));
	switch (ch) {
	case 'q': case 27: case KEY_BACKSPACE: case KEY_LEFT:
		u->view = VIEW_TABLE;
		return UI_HANDLED | UI_REDRAW;
	case '\t': return to_tab(u, (u->tab + 1) % TAB_COUNT);
	case KEY_BTAB: return to_tab(u, (u->tab + TAB_COUNT - 1) % TAB_COUNT);
	case 'r':
		ui_set_msg(u, "re-read");
		return UI_HANDLED | UI_REDRAW | (u->tab == TAB_NEW ? UI_REGROWTH : UI_REINSPECT);
	default: break;
	}
	if (u->tab == TAB_HEX)
		return key_hex(u, ch);
	if (u->tab == TAB_GREP)
		return key_grep(u, ch);
	return 0;
}
