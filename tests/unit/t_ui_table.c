/* Unit tests of the monitor's table rows (no terminal: ui_table_rebuild only sorts and
 * lays out rows): an expanded pool's members are listed without computing every member's
 * statistics, only the selected one's and then those shown (ui_row_stats). */
#include "tap.h"
#include "ui_int.h"
#include "synth.h"

#include <stdlib.h>

#define CHUNKS 600

static void fake_open(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	timeline_init(&w->tl, 16);
	pool_set_init(&w->pools);
}

/* Chunks of 256 KiB born full, 75 more a sample, and the first one grows by itself a
 * 32 KiB a sample (so it is the member that grew most). */
static void feed(struct watch *w)
{
	static char spec[65536];

	for (int i = 0; i < 8; i++) {
		size_t o = 0;
		for (int c = 0; c < 75 * (i + 1); c++) {
			unsigned long long a = 0x7e0000000000ull + (unsigned long long)c * 0x80000;
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%llx %llx rw-p %d\n", a, a + 0x40000,
					      c ? 256 : 16 + 32 * i);
		}
		add(&w->tl, spec, i);
	}
}

int main(void)
{
	struct ui u;
	struct ui_opts opts;
	const struct pool *pl = NULL;
	struct area_stats want;
	size_t computed = 0, first_member;

	memset(&u, 0, sizeof(u));
	memset(&opts, 0, sizeof(opts));
	u.o = &opts;
	fake_open(&u.w);
	feed(&u.w);
	watch_rank(&u.w, SIZE_MAX);
	for (size_t i = 0; i < u.w.nrank; i++)
		if (u.w.rank_pool[i])
			pl = u.w.rank_pool[i];
	ok(pl && pl->nmembers == CHUNKS, "the chunks are one pool row of %d members (%zu)", CHUNKS,
	   pl ? pl->nmembers : 0);
	if (!pl)
		return done_testing();

	ui_table_rebuild(&u);
	ok(u.nrows == 1 && u.member_rows == 0, "collapsed: one row (%zu)", u.nrows);
	u.expanded[u.nexpanded++] = pl->row.id;
	ui_table_rebuild(&u);
	ok(u.nrows == 1 + CHUNKS && u.member_rows == CHUNKS, "expanded: the pool row and its %d members (%zu)",
	   CHUNKS, u.nrows);
	for (size_t i = 0; i < u.nrows; i++)
		computed += u.rows[i] != &pl->row && u.rstat_ok[i];
	ok(computed <= 1 && u.member_stats <= 1,
	   "... with at most the selected member's statistics computed (%zu of %d)", computed, CHUNKS);
	first_member = 1;
	ok(u.rtree[0] == TREE_POOL_OPEN && u.rtree[first_member] == TREE_MEMBER &&
	   u.rtree[CHUNKS] == TREE_MEMBER_LAST, "tree markers: the pool open, members, the last one");
	ok(u.rows[first_member]->start == 0x7e0000000000ull,
	   "the member that grew over the window comes first (%llx)",
	   (unsigned long long)u.rows[first_member]->start);
	ok(!u.rstat_ok[CHUNKS], "a member not shown has no statistics yet");
	timeline_area_stats(&u.w.tl, u.rows[CHUNKS], &want);
	{
		const struct area_stats *got = ui_row_stats(&u, CHUNKS);
		ok(u.rstat_ok[CHUNKS] && got->samples == want.samples && got->rss_last == want.rss_last &&
		   got->rate == want.rate && got->trend == want.trend && got->score == want.score,
		   "ui_row_stats: when shown, the member's own statistics (as timeline_area_stats)");
	}
	timeline_area_stats(&u.w.tl, u.rows[first_member], &want);
	ok(ui_row_stats(&u, first_member)->trend == want.trend && want.trend == TREND_GROWING,
	   "... the growing member: growing");
	/* the selection on a member far down: kept on it by id, and its statistics computed */
	u.sel_id = u.rows[CHUNKS - 5]->id;
	ui_table_rebuild(&u);
	ok(u.rows[u.sel]->id == u.sel_id && u.rstat_ok[u.sel], "the selected member is kept, with its statistics");
	/* sorted by address: members in address order after the pool row */
	u.sort = SORT_ADDR;
	ui_table_rebuild(&u);
	{
		int ordered = 1;
		for (size_t i = first_member + 1; i < u.nrows; i++)
			if (u.rows[i]->start < u.rows[i - 1]->start)
				ordered = 0;
		ok(ordered, "A: the members in address order");
	}
	ui_table_free(&u);
	/* not watch_close: there is no sampler (its fds are 0 here, not -1) */
	timeline_free(&u.w.tl);
	pool_set_free(&u.w.pools);
	free(u.w.rank);
	free(u.w.rank_st);
	free(u.w.rank_pool);
	free(u.w.scratch);
	free(u.w.scratch_st);
	free(u.w.ids);
	return done_testing();
}
