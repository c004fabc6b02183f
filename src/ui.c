/* ui: the live monitor's loop (style guide "UI"). One loop: a timeout()-driven getch(), a
 * monotonic clock for sampling, a dirty bitmask, exactly one refresh() per pass, endwin()
 * on every exit path. Key handlers (ui_table.c, ui_region.c, ui_stacks.c) return a result
 * mask and the loop acts on it: it samples the watch model, re-sorts the rows, runs the
 * inspect step and collects backtraces; the views then draw what was gathered, no I/O. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UI_TICK_MS 100               /* longest getch() wait: messages expire, signals seen */

volatile sig_atomic_t ui_signal;

static void on_signal(int sig)
{
	ui_signal = sig;
}

void ui_set_msg(struct ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	u->msg_until = now_mono() + 4;
}

void ui_attr_color(const struct ui *u, int pair, int on)
{
	if (!u->color)
		return;
	if (on)
		attron(COLOR_PAIR(pair));
	else
		attroff(COLOR_PAIR(pair));
}

/* Draw at most width columns of s (UTF-8: continuation bytes take no column). */
void ui_put_clipped(int y, int x, int width, const char *s)
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

/* Columns s takes (UTF-8: continuation bytes take none). */
int ui_text_cols(const char *s)
{
	int cols = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			cols++;
	return cols;
}

/* Bytes of the token at s in escape_ctl output: an escape (\\, \xNN, \uNNNN) or one
 * UTF-8 sequence is one token and is never cut. */
static size_t esc_token_len(const char *s)
{
	size_t n = 1;

	if (s[0] == '\\')
		return s[1] == 'x' ? 4 : s[1] == 'u' ? 6 : 2;
	while (((unsigned char)s[n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* esc (escape_ctl output) in at most width columns, keeping its end: a path keeps its
 * file name. Cut whole tokens, and at a '/' when one is left (".../libc.so.6" rather
 * than "...-linux-gnu/libc.so.6", half a directory name). */
char *ui_fit_tail(const char *esc, int width, int utf8, char *out, size_t outlen)
{
	const char *mark = utf8 ? "\xe2\x80\xa6" : "...";
	int mark_cols = utf8 ? 1 : 3;
	size_t len = strlen(esc), cut = 0;
	int cols = ui_text_cols(esc);

	if (cols <= width || width <= mark_cols) {
		snprintf(out, outlen, "%s", cols <= width ? esc : "");
		return out;
	}
	/* drop tokens from the front until the rest and the mark fit */
	while (cut < len && cols > width - mark_cols) {
		size_t t = esc_token_len(esc + cut);
		cols -= esc[cut] == '\\' ? (int)t : 1;
		cut += t;
	}
	if (cut && esc[cut - 1] != '/') {
		const char *slash = strchr(esc + cut, '/');
		if (slash && slash[1])
			cut = (size_t)(slash - esc);
	}
	snprintf(out, outlen, "%s%s", mark, esc + cut);
	return out;
}

/* The key line in width columns: items are separated by two spaces; when they do not all
 * fit, items are dropped from the end of the optional ones, so that the ones a person needs
 * to get out ("? help", "q quit", "q back": those starting "? " or "q ") always show. */
static void fit_keys(const char *keys, int width, char *out, size_t outlen)
{
	const char *items[32];
	size_t lens[32], n = 0, o = 0;
	int essential[32], need = 0, used = 0;

	for (const char *p = keys; *p && n < 32;) {
		const char *e = strstr(p, "  ");
		size_t l = e ? (size_t)(e - p) : strlen(p);
		items[n] = p;
		lens[n] = l;
		essential[n] = (p[0] == '?' || p[0] == 'q') && p[1] == ' ';
		if (essential[n])
			need += (int)l + (need ? 2 : 0);
		n++;
		p += l;
		while (*p == ' ')
			p++;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int cost = (int)lens[i] + (used ? 2 : 0);
		if (!essential[i] && used + cost + (need ? need + 2 : 0) > width)
			continue;
		if (essential[i])
			need -= (int)lens[i] + (need > (int)lens[i] ? 2 : 0);
		if (o + lens[i] + 3 >= outlen)
			break;
		o += (size_t)snprintf(out + o, outlen - o, "%s%.*s", used ? "  " : "", (int)lens[i], items[i]);
		used += cost;
	}
}

void ui_draw_footer(const struct ui *u, const char *keys)
{
	char line[512];

	move(LINES - 1, 0);
	clrtoeol();
	if (u->prompt) {
		/* the end of a long line shows, where the cursor is */
		int room = COLS - ui_text_cols(u->prompt_label) - 1;
		const char *b = u->prompt_buf;
		if (room < 1)
			room = 1;
		if ((int)strlen(b) > room)
			b += strlen(b) - (size_t)room;
		snprintf(line, sizeof(line), "%s%s", u->prompt_label, b);
		ui_put_clipped(LINES - 1, 0, COLS, line);
	} else if (u->msg[0] && now_mono() < u->msg_until) {
		attron(A_BOLD);
		ui_put_clipped(LINES - 1, 0, COLS, u->msg);
		attroff(A_BOLD);
	} else {
		fit_keys(keys, COLS, line, sizeof(line));
		ui_attr_color(u, C_DIM, 1);
		ui_put_clipped(LINES - 1, 0, COLS, line);
		ui_attr_color(u, C_DIM, 0);
	}
}

static void draw_help(void)
{
	/* 24 lines: all of it shows in 80x24 */
	static const char *const lines[] = {
		"regionwatch monitor: keys",
		"",
		"  Up/Down j/k PgUp/PgDn Home/End g/G   move",
		"  Enter      open the row: Hex, Strings, Histogram, Pages, Grep, New",
		"  + - Right Left  expand/collapse a pool row (+): its members beneath it; * all",
		"  c          chart: RSS over time of the process and the selected row",
		"  S M D R A  sort by score, RSS (memory), delta, rate, address; o cycles",
		"  a          anonymous areas only (toggle)",
		"  H          HISTORY sparklines: per-row scale, or one scale for the rows shown",
		"  /          filter by path or kind (empty clears)",
		"  p, space   pause sampling",
		"  b          baseline: DELTA and the New tab count from now",
		"  d          dump the row to a file + .json (present pages; a pool: its members)",
		"  t          thread backtraces: asks first, then stops every thread for a few ms",
		"  q          quit (exit 1 if the target exited)",
		"In a region: Tab/Shift-Tab/1-6 tabs, arrows/PgUp/PgDn scroll, g jump to an",
		"address, r re-read, / grep (Grep tab), Enter on a match shows it in Hex,",
		"q/Esc/Left back. New (6): what the row's pages resident since the baseline hold,",
		"read on demand; the baseline's pages are recorded just after the first screen.",
		"",
		"Trend and score are heuristics (regionwatch(1), WATCH). Content views read only",
		"pages that pagemap reports present, at most 16 MiB per refresh.",
		"",
		"Press any key.",
	};
	erase();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < LINES; i++)
		ui_put_clipped((int)i, 0, COLS, lines[i]);
}

unsigned ui_prompt_open(struct ui *u, enum ui_prompt_kind kind, const char *label, const char *init)
{
	u->prompt = kind;
	snprintf(u->prompt_label, sizeof(u->prompt_label), "%s", label);
	snprintf(u->prompt_buf, sizeof(u->prompt_buf), "%s", init ? init : "");
	return UI_HANDLED | UI_FOOTER;
}

/* A key while a prompt is open: the line editor is part of the loop (htop's is a modal
 * sub-loop; that stops sampling for as long as a person types). */
static unsigned prompt_key(struct ui *u, int ch)
{
	enum ui_prompt_kind kind = u->prompt;
	size_t n = strlen(u->prompt_buf);
	char text[sizeof(u->prompt_buf)];

	if (kind == PROMPT_STACKS) {       /* y/n: one key, no Enter */
		u->prompt = PROMPT_NONE;
		return ui_stacks_answer(u, ch);
	}
	if (ch == 27) {                    /* Esc: nothing changes */
		u->prompt = PROMPT_NONE;
		return UI_HANDLED | UI_REDRAW;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		u->prompt = PROMPT_NONE;
		memcpy(text, u->prompt_buf, sizeof(text));
		if (kind == PROMPT_GREP || kind == PROMPT_GOTO)
			return ui_region_answer(u, kind, text);
		return ui_table_answer(u, kind, text);
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
		u->prompt_buf[n - 1] = '\0';
	else if (ch == 21)                 /* ^U: clear the line */
		u->prompt_buf[0] = '\0';
	else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof(u->prompt_buf)) {
		u->prompt_buf[n] = (char)ch;
		u->prompt_buf[n + 1] = '\0';
	}
	return UI_HANDLED | UI_FOOTER;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* One watch step and the ranking of every row; the rows are filtered and sorted after. */
static unsigned take_sample(struct ui *u)
{
	struct rw_err err;
	int r;

	if (u->w.exited)
		return 0;
	r = watch_step(&u->w, &err);
	if (r == -ESRCH) {
		ui_set_msg(u, "process %d exited: showing the last data; q quits", u->o->pid);
		return UI_REDRAW;
	}
	if (r) {
		ui_set_msg(u, "sample failed: %s", err.msg);
		return UI_FOOTER;
	}
	/* the New tab's baseline: the present pages at the first sample, recorded once the
	 * first screen is up (the loop, after its draw) */
	if (!u->gbase_taken)
		u->gbase_due = 1;
	watch_rank(&u->w, SIZE_MAX);
	return UI_RESORT | UI_REDRAW;
}

static void draw(struct ui *u, unsigned dirty)
{
	if (!(dirty & UI_REDRAW)) {
		/* only the last line changed (a message came or went) */
		if (u->view == VIEW_TABLE)
			ui_draw_footer(u, UI_TABLE_KEYS);
		else if (u->view == VIEW_REGION)
			ui_draw_footer(u, UI_REGION_KEYS);
		else if (u->view == VIEW_STACKS)
			ui_draw_footer(u, "arrows scroll  t again  q back");
		return;
	}
	switch (u->view) {
	case VIEW_HELP: draw_help(); break;
	case VIEW_STACKS: ui_stacks_draw(u); break;
	case VIEW_REGION: ui_region_draw(u); break;
	default: ui_table_draw(u); break;
	}
}

static unsigned dispatch_key(struct ui *u, int ch)
{
	if (ch == KEY_RESIZE) {
		clear();
		/* a taller screen may show hex lines past the window read */
		return UI_REDRAW | UI_REHEX;
	}
	if (u->prompt)
		return prompt_key(u, ch);
	switch (u->view) {
	case VIEW_HELP: u->view = VIEW_TABLE; return UI_HANDLED | UI_REDRAW;
	case VIEW_REGION: return ui_region_key(u, ch);
	case VIEW_STACKS: return ui_stacks_key(u, ch);
	default: return ui_table_key(u, ch);
	}
}

/* What the mask asks, in order: gather first (sample, rows, content, backtraces), so that
 * the draw after it only shows state. */
static unsigned act(struct ui *u, unsigned mask)
{
	if ((mask & UI_RESAMPLE) && !u->paused && !u->w.exited)
		u->next_sample = now_mono();
	if (mask & UI_RESORT)
		ui_table_rebuild(u);
	if (mask & (UI_REINSPECT | UI_REHEX))
		ui_region_inspect(u, mask);
	if (mask & UI_RESTACK)
		ui_stacks_collect(u);
	if (mask & UI_REGROWTH)
		ui_growth_read(u);
	return mask;
}

static void init_screen(struct ui *u)
{
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(50);           /* Esc closes a prompt now, not after a second */
	curs_set(0);
	u->color = u->o->color == 1 || (u->o->color < 0 && !getenv("NO_COLOR"));
	if (u->color && has_colors()) {
		start_color();
		use_default_colors();
		init_pair(C_HEADER, COLOR_CYAN, -1);
		init_pair(C_GROWING, COLOR_RED, -1);
		init_pair(C_SAWTOOTH, COLOR_YELLOW, -1);
		init_pair(C_SHRINK, COLOR_GREEN, -1);
		init_pair(C_DIM, COLOR_BLUE, -1);
		init_pair(C_WARN, COLOR_RED, -1);
	} else {
		u->color = 0;
	}
}

/* getch() waits until the next sample is due, at most UI_TICK_MS. */
static int wait_ms(const struct ui *u, double now)
{
	double ms = (u->next_sample - now) * 1e3;

	if (u->paused || u->w.exited || ms > UI_TICK_MS)
		return UI_TICK_MS;
	return ms < 1 ? 1 : (int)ms;
}

static void loop(struct ui *u)
{
	unsigned dirty = UI_REDRAW;
	int quit = 0;

	u->t0 = now_mono();
	u->next_sample = u->t0;
	while (!quit && !ui_signal) {
		double now = now_mono();
		int ch;

		if (!u->paused && !u->w.exited && now >= u->next_sample) {
			dirty |= act(u, take_sample(u));
			/* as asked, or stretched by the cost budget (--max-cost) */
			u->next_sample += watch_interval(&u->w);
			if (u->next_sample < now)
				u->next_sample = now + watch_interval(&u->w);
			if (u->o->iterations && u->w.tl.seq >= u->o->iterations)
				quit = 1;
		}
		if (u->msg[0] && now >= u->msg_until) {
			u->msg[0] = '\0';
			dirty |= UI_FOOTER;
		}
		if (dirty & (UI_REDRAW | UI_FOOTER)) {
			draw(u, dirty);
			/* the cursor sits at the end of an open prompt */
			curs_set(u->prompt ? 1 : 0);
			if (u->prompt) {
				int x = getcurx(stdscr);
				move(LINES - 1, x < COLS ? x : COLS - 1);
			}
			refresh();
		}
		dirty = 0;
		if (quit)
			break;
		if (u->gbase_due) {
			/* after the draw, so that the screen does not wait for it */
			ui_growth_baseline(u);
			if (u->view == VIEW_REGION && u->tab == TAB_NEW)
				dirty |= UI_REDRAW;
			continue;
		}
		timeout(wait_ms(u, now_mono()));
		ch = getch();
		if (ch == ERR)
			continue;
		dirty = act(u, dispatch_key(u, ch));
		if (dirty & UI_QUIT)
			quit = 1;
		if (u->msg[0] && !(dirty & UI_REDRAW))
			dirty |= UI_FOOTER;
	}
}

int ui_run(const struct ui_opts *o)
{
	struct ui u;
	struct rw_err err;
	struct sigaction sa;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct watch_opts wo = { o->pid, o->interval, o->window, o->max_cost };
	int rc;

	memset(&u, 0, sizeof(u));
	u.o = o;
	if (watch_open(&u.w, &wo, &err)) {
		fprintf(stderr, "regionwatch: %s\n", err.msg);
		return 1;
	}
	inspect_init(&u.in);
	setlocale(LC_ALL, "");
	u.utf8 = !o->ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);

	init_screen(&u);
	loop(&u);
	endwin();        /* the loop ends on q, --iterations or a signal: all come here */
	rc = u.w.exited ? 1 : 0;
	if (ui_signal)
		rc = 128 + ui_signal;
	if (u.w.exited)
		fprintf(stderr, "regionwatch: process %d exited\n", o->pid);
	inspect_free(&u.in);
	inspect_growth_free(&u.grown);
	if (u.gbase_taken)
		inspect_baseline_free(&u.gbase);
	ui_stacks_free(&u);
	ui_table_free(&u);
	watch_close(&u.w);
	return rc;
}
