/* ui_int: the monitor's shared state, private to src/ui*.c. No curses here: the views
 * include it themselves (style guide: only ui_*.c include curses). */
#ifndef RW_UI_INT_H
#define RW_UI_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "inspect.h"
#include "ui.h"
#include "util.h"
#include "watch.h"

enum ui_sort { SORT_SCORE, SORT_RSS, SORT_DELTA, SORT_RATE, SORT_ADDR, SORT_COUNT };
enum ui_view { VIEW_TABLE, VIEW_REGION, VIEW_HELP, VIEW_STACKS };
enum ui_tab { TAB_HEX, TAB_STRINGS, TAB_HIST, TAB_PAGES, TAB_GREP, TAB_NEW, TAB_COUNT };
/* A table row in the pool tree: a plain area, a pool row (collapsed or expanded), or one
 * of an expanded pool's members (the last one drawn with a corner). */
enum ui_tree { TREE_NONE, TREE_POOL, TREE_POOL_OPEN, TREE_MEMBER, TREE_MEMBER_LAST };
#define UI_MAX_EXPANDED 32
#define UI_GROWTH_BUDGET (16ull << 20)   /* New tab: bytes of new pages read per refresh */
/* d on a pool row: the members go into one sparse file at offset = address - first start;
 * beyond this span (ext4 files end at 16 TiB; a [heap] and the arenas lie ~40 TiB apart)
 * a member is dumped instead */
#define UI_DUMP_MAX_SPAN (1ull << 40)
/* The line being edited on the last line; keys go to it while it is open, and sampling
 * goes on. PROMPT_YESNO takes one key. */
enum ui_prompt_kind { PROMPT_NONE, PROMPT_FILTER, PROMPT_DUMP, PROMPT_GREP, PROMPT_GOTO, PROMPT_STACKS };
enum { C_HEADER = 1, C_GROWING, C_SAWTOOTH, C_SHRINK, C_SEL, C_DIM, C_WARN };

/* What a key handler (or a step) asks of the loop; the loop acts on the mask. */
enum {
	UI_HANDLED = 1 << 0,     /* the key meant something */
	UI_REDRAW = 1 << 1,      /* the whole screen */
	UI_FOOTER = 1 << 2,      /* the last line only (a message came or went) */
	UI_RESORT = 1 << 3,      /* filter and sort the model's rows again */
	UI_RESAMPLE = 1 << 4,    /* take a sample now */
	UI_REINSPECT = 1 << 5,   /* gather the open area's content again (census + hex) */
	UI_REHEX = 1 << 6,       /* re-read the hex window if it does not cover the screen */
	UI_RESTACK = 1 << 7,     /* collect the backtraces (the user said yes) */
	UI_QUIT = 1 << 8,
	UI_REGROWTH = 1 << 9,    /* read the open row's new pages (the New tab) */
};

struct ui {
	const struct ui_opts *o;
	struct watch w;              /* the live model: sampler, timeline, ranking, baseline */
	int paused, color, utf8;
	double next_sample, t0;
	/* table: the watch ranking, filtered and sorted here */
	const struct area **rows;
	struct area_stats *st;
	int64_t *delta;
	const struct pool **rpool;   /* per row: the pool a pool row is (else NULL) */
	unsigned char *rtree;        /* per row: enum ui_tree */
	unsigned char *rstat_ok;     /* per row: st[] holds its statistics (else sort keys only:
	                              * a member's, computed when shown, ui_row_stats) */
	size_t member_rows;          /* rows of expanded pools' members, the last rebuild */
	size_t member_stats;         /* ... and members' statistics computed since */
	uint64_t expanded[UI_MAX_EXPANDED];   /* pool row ids shown with their members */
	size_t nexpanded;
	int chart;                   /* c: the RSS chart pane under the table */
	size_t nrows, rows_cap, sel, top;
	uint64_t sel_id;
	enum ui_sort sort;
	int anon_only;
	int spark_shared;            /* H: sparklines on one scale (0..spark_hi), not per row */
	uint64_t spark_hi;           /* the largest RSS in the history of the rows on screen */
	char filter[64];
	enum ui_view view;
	char msg[512];
	double msg_until;
	/* region view: the open area and what inspect gathered for it */
	uint64_t rstart, rend;
	char rdesc[256];
	enum ui_tab tab;
	uint64_t hex_top;            /* address of the first hex line shown */
	int rnewest;                 /* the area grew when opened: read its newest pages */
	int hex_at_read;             /* the next census moves hex_top to where it began */
	char grep_pat[256];
	size_t msel;
	struct inspect in;
	/* New tab: the open row (a pool's row id, or the area's id), the present pages of the
	 * growth-kind areas at the baseline, and what inspect_growth found on demand */
	uint64_t rrow_id;
	int rrow_pool;
	char rrow_desc[256];
	struct inspect_baseline gbase;
	int gbase_taken;
	int gbase_due;               /* record it after the next draw (ui_growth_baseline) */
	uint64_t gbase_seq;          /* the sample the baseline belongs to */
	double gbase_time;           /* monotonic time the present pages were recorded */
	double gbase_wall;           /* ... and as a unix time */
	double gbase_after;          /* seconds from that sample to the recording */
	double gbase_ms;             /* how long the recording took */
	struct inspect_growth grown;
	int have_grown;
	uint64_t grown_id;           /* the row it was read for */
	double grown_time;
	char grown_err[600];
	/* the open prompt */
	enum ui_prompt_kind prompt;
	char prompt_label[200];
	char prompt_buf[256];
	uint64_t dump_start, dump_end;   /* the area d asked about */
	uint64_t dump_id;                /* ... its id (a pool row's: its members are dumped) */
	int dump_pool;
	/* backtraces: stacks_collect's result, formatted as lines */
	char **stack_lines;
	size_t nstack_lines, stack_top;
};

extern volatile sig_atomic_t ui_signal;

/* The key lines of the views (ui_draw_footer drops optional items to fit). */
#define UI_TABLE_KEYS "Enter open  +/- pool  c chart  S M D R A sort  a anon  / filter  p pause  b baseline  d dump  ? help  q quit"
#define UI_REGION_KEYS "Tab/1-6 tabs  arrows scroll  g address  r re-read  / grep  q back"

/* ui.c: shared drawing helpers and the line editor */
void ui_set_msg(struct ui *u, const char *fmt, ...) RW_PRINTF(2, 3);
void ui_attr_color(const struct ui *u, int pair, int on);
void ui_put_clipped(int y, int x, int width, const char *s);
void ui_draw_footer(const struct ui *u, const char *keys);
int ui_text_cols(const char *s);
/* esc (escape_ctl output) cut to width columns keeping its end, "…" (or "...") first. */
char *ui_fit_tail(const char *esc, int width, int utf8, char *out, size_t outlen);
/* Open a prompt on the last line with text init; the loop's key dispatch edits it (Enter
 * gives it to the view's *_answer, Esc closes it) while sampling goes on. */
unsigned ui_prompt_open(struct ui *u, enum ui_prompt_kind kind, const char *label, const char *init);

/* ui_table.c */
void ui_table_rebuild(struct ui *u);
void ui_table_draw(struct ui *u);
unsigned ui_table_key(struct ui *u, int ch);
unsigned ui_table_answer(struct ui *u, enum ui_prompt_kind kind, const char *text);
void ui_table_free(struct ui *u);
int ui_pool_expanded(const struct ui *u, uint64_t id);
/* Row i's statistics, computed now if they were not (an expanded pool's member). */
const struct area_stats *ui_row_stats(struct ui *u, size_t i);

/* ui_region.c */
void ui_region_inspect(struct ui *u, unsigned mask);
void ui_region_draw(const struct ui *u);
unsigned ui_region_key(struct ui *u, int ch);
unsigned ui_region_open(struct ui *u);
unsigned ui_region_answer(struct ui *u, enum ui_prompt_kind kind, const char *text);

/* ui_region.c: the New tab (content of growth since the baseline). The baseline is asked
 * for (gbase_due) at the first sample and on b, and recorded by the loop after the screen
 * is drawn: a pagemap read per area, which at 60,000 mappings would hold the first screen
 * back by about half a second. */
void ui_growth_baseline(struct ui *u);
void ui_growth_read(struct ui *u);

/* ui_chart.c: RSS over time of the process and of the selected row, on one scale */
int ui_chart_height(void);
void ui_chart_draw(const struct ui *u, int y, int height, const struct area *row);

/* ui_stacks.c */
unsigned ui_stacks_ask(struct ui *u);
unsigned ui_stacks_answer(struct ui *u, int ch);
void ui_stacks_collect(struct ui *u);
void ui_stacks_draw(const struct ui *u);
unsigned ui_stacks_key(struct ui *u, int ch);
void ui_stacks_free(struct ui *u);

#endif
