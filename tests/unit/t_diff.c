/* Unit tests of diff: matching by address overlap across split, merge and boundary moves. */
#include "tap.h"
#include "diff.h"
#include "smaps.h"

/* Build a snapshot from "start end perms rssKiB [path]" lines (hex addresses). */
static struct snapshot *mk(const char *spec)
{
	char text[16384];
	size_t o = 0;
	const char *p = spec;
	struct snapshot *s = snapshot_new();
	struct rw_err err;

	while (*p) {
		unsigned long long a, b, rss;
		char perms[8], path[256] = "";
		int n = 0;
		const char *nl = strchr(p, '\n');
		char line[512];
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, "%llx %llx %7s %llu %n", &a, &b, perms, &rss, &n) >= 4) {
			snprintf(path, sizeof(path), "%s", line + n);
			o += (size_t)snprintf(text + o, sizeof(text) - o,
				"%llx-%llx %s 00000000 00:00 0 %s\nSize: %llu kB\nRss: %llu kB\n"
				"Anonymous: %llu kB\nSwap: 0 kB\n", a, b, perms, path,
				(b - a) / 1024, rss, path[0] ? 0 : rss);
		}
		p = nl ? nl + 1 : p + len;
	}
	if (smaps_parse(text, o, s, &err))
		printf("Bail out! synthetic snapshot: %s\n", err.msg);
	snapshot_classify(s);
	return s;
}

/* Rows point into their snapshots: keep the last pair alive until the next run. */
static struct snapshot *last_a, *last_b;

static struct diff_result run(const char *a, const char *b)
{
	struct diff_result r;

	snapshot_free(last_a);
	snapshot_free(last_b);
	last_a = mk(a);
	last_b = mk(b);
	diff_compute(last_a, last_b, &r);
	diff_sort(&r, DIFF_SORT_DELTA);
	return r;
}

static void test_boundary_move(void)
{
	/* glibc arena: rw prefix grows into the ---p tail of one 64 MiB block */
	struct diff_result r = run("7f0000000000 7f0000400000 rw-p 4096\n7f0000400000 7f0004000000 ---p 0\n",
				   "7f0000000000 7f0000800000 rw-p 8192\n7f0000800000 7f0004000000 ---p 0\n");
	is_u64(r.count, 1, "boundary move: one row");
	ok(r.rows[0].status == DIFF_GROWN, "status grown");
	is_u64(r.rows[0].delta, 4096 * 1024, "delta 4 MiB");
	is_str(region_kind_name(r.rows[0].rep->kind), "glibc-arena", "kind glibc-arena");
	is_u64(r.rows[0].start, 0x7f0000000000ULL, "row start");
	is_u64(r.rows[0].end, 0x7f0004000000ULL, "row end");
	diff_free(&r);
}

static void test_split_merge(void)
{
	struct diff_result r = run("10000000 10400000 rw-p 100\n",
				   "10000000 10200000 rw-p 50\n10200000 10400000 r--p 80\n");
	is_u64(r.count, 1, "split: one row");
	ok(r.rows[0].nregions_a == 1 && r.rows[0].nregions_b == 2, "split: 1 -> 2 vmas");
	is_u64(r.rows[0].delta, 30 * 1024, "split: delta summed");
	diff_free(&r);
	r = run("10000000 10200000 rw-p 50\n10200000 10400000 r--p 80\n",
		"10000000 10400000 rw-p 100\n");
	ok(r.count == 1 && r.rows[0].status == DIFF_SHRUNK, "merge: one shrunk row");
	diff_free(&r);
}

static void test_add_remove_same_order(void)
{
	struct diff_result r = run(
		"1000000 1100000 r-xp 100 /usr/bin/x\n"
		"2000000 2100000 rw-p 10\n"
		"3000000 3100000 rw-p 200\n"
		"4000000 4100000 rw-p 300\n",
		"1000000 1100000 r-xp 100 /usr/bin/x\n"
		"2000000 2100000 rw-p 900\n"
		"4000000 4100000 rw-p 150\n"
		"5000000 5100000 rw-p 500\n");
	is_u64(r.count, 5, "five rows");
	ok(r.rows[0].start == 0x2000000 && r.rows[0].status == DIFF_GROWN, "largest growth first");
	ok(r.rows[1].start == 0x5000000 && r.rows[1].status == DIFF_ADDED, "then the added region");
	ok(r.rows[2].status == DIFF_SAME, "unchanged in the middle");
	ok(r.rows[3].start == 0x4000000 && r.rows[3].status == DIFF_SHRUNK, "shrunk");
	ok(r.rows[4].start == 0x3000000 && r.rows[4].status == DIFF_REMOVED, "removed last");
	is_u64(r.totals.rss_a, 610 * 1024, "totals A");
	is_u64(r.totals.rss_b, 1650 * 1024, "totals B");
	is_u64(r.totals.anon_b, 1550 * 1024, "anon totals");
	ok(r.totals.anon_known && r.totals.swap_known, "anon and swap known");
	ok(!diff_row_shown(&r.rows[2], 0, 0) && diff_row_shown(&r.rows[2], 1, 0), "same rows need --all");
	ok(!diff_row_shown(&r.rows[3], 0, 151 * 1024) && diff_row_shown(&r.rows[3], 0, 150 * 1024),
	   "--min-delta filters by |delta|");
	diff_sort(&r, DIFF_SORT_ADDR);
	ok(r.rows[0].start == 0x1000000 && r.rows[4].start == 0x5000000, "--sort addr");
	diff_sort(&r, DIFF_SORT_RSS);
	ok(r.rows[0].start == 0x2000000 && r.rows[1].start == 0x5000000, "--sort rss");
	diff_free(&r);
}

static void test_touching(void)
{
	/* Adjacent file mappings of different files stay separate. */
	struct diff_result r = run("1000000 1100000 r--p 10 /a\n1100000 1200000 r--p 10 /b\n",
				   "1000000 1100000 r--p 20 /a\n1100000 1200000 r--p 10 /b\n");
	is_u64(r.count, 2, "touching file mappings of two files: two rows");
	diff_free(&r);
	/* A Go arena grows by appending VMAs: one area. */
	r = run("c000000000 c000400000 rw-p 4096\n",
		"c000000000 c000400000 rw-p 4096\nc000400000 c000c00000 rw-p 8192\nc000c00000 c004000000 ---p 0\n");
	is_u64(r.count, 1, "go arena appended VMAs: one row");
	ok(r.rows[0].status == DIFF_GROWN && r.rows[0].delta == 8192 * 1024, "go arena grown by 8 MiB");
	diff_free(&r);
	/* Unmapped and remapped at the same address with a different size. */
	r = run("7f0000000000 7f0000100000 rw-p 1024\n", "7f0000080000 7f0000200000 rw-p 10\n");
	ok(r.count == 1 && r.rows[0].status == DIFF_SHRUNK, "overlapping remap: one row");
	diff_free(&r);
}

static void test_real_go(void)
{
	size_t la, lb;
	char *ta = tap_slurp("fixtures/smaps/shared_go_t1s.smaps", &la);
	char *tb = tap_slurp("fixtures/smaps/shared_go_t10s.smaps", &lb);
	struct snapshot *a = snapshot_new(), *b = snapshot_new();
	struct diff_result r;

	ok(!smaps_parse(ta, la, a, NULL) && !smaps_parse(tb, lb, b, NULL), "go samples parse");
	snapshot_classify(a);
	snapshot_classify(b);
	diff_compute(a, b, &r);
	diff_sort(&r, DIFF_SORT_DELTA);
	ok(r.count >= 1 && r.rows[0].start == 0xc000000000ULL, "go heap is the first row");
	ok(r.rows[0].status == DIFF_GROWN, "go heap grown");
	is_u64((uint64_t)r.rows[0].delta, r.totals.rss_b - r.totals.rss_a,
	       "the whole growth is in the go heap row");
	ok(r.rows[0].nregions_a > 10 && r.rows[0].nregions_b > 20, "dozens of VMAs in one row");
	diff_free(&r);
	snapshot_free(a);
	snapshot_free(b);
	free(ta);
	free(tb);
}

/* A snapshot as a diff_source, one region at a time. */
struct snap_src {
	const struct snapshot *s;
	size_t next;
};

static int snap_peek(void *ctx, const struct region **r)
{
	struct snap_src *src = ctx;
	*r = src->next < src->s->count ? &src->s->regions[src->next] : NULL;
	return 0;
}

static void snap_pop(void *ctx)
{
	((struct snap_src *)ctx)->next++;
}

struct rows_seen {
	const struct diff_result *want;
	size_t n, bad;
};

static int check_row(void *ctx, const struct diff_row *row)
{
	struct rows_seen *rs = ctx;
	const struct diff_row *w = rs->n < rs->want->count ? &rs->want->rows[rs->n] : NULL;

	if (!w || w->start != row->start || w->end != row->end || w->status != row->status ||
	    w->rss_a != row->rss_a || w->rss_b != row->rss_b || w->delta != row->delta ||
	    w->size_a != row->size_a || w->size_b != row->size_b || w->anon_a != row->anon_a ||
	    w->anon_b != row->anon_b || w->nregions_a != row->nregions_a ||
	    w->nregions_b != row->nregions_b || strcmp(w->perms, row->perms) ||
	    w->rep->kind != row->rep->kind || strcmp(w->rep->path, row->rep->path))
		rs->bad++;
	rs->n++;
	return 0;
}

/* diff_stream over regions one at a time gives diff_compute's rows, in address order. */
static void same_as_compute(const struct snapshot *a, const struct snapshot *b, const char *what)
{
	struct diff_result r;
	struct snap_src xa = { a, 0 }, xb = { b, 0 };
	struct diff_source sa = { snap_peek, snap_pop, &xa }, sb = { snap_peek, snap_pop, &xb };
	struct rows_seen rs = { &r, 0, 0 };
	struct diff_totals t;

	diff_compute(a, b, &r);
	ok(!diff_stream(&sa, &sb, check_row, &rs, &t) && rs.n == r.count && !rs.bad &&
	   t.rss_a == r.totals.rss_a && t.rss_b == r.totals.rss_b && t.size_b == r.totals.size_b &&
	   t.regions_a == a->count && t.regions_b == b->count,
	   "diff_stream = diff_compute: %s (%zu rows, %zu differ)", what, r.count, rs.bad);
	diff_free(&r);
}

static void test_stream(void)
{
	static const char *const pairs[][2] = {
		{ "fixtures/smaps/shared_go_t1s.smaps", "fixtures/smaps/shared_go_t10s.smaps" },
		{ "fixtures/smaps/c_threads_a.smaps", "fixtures/smaps/c_threads_b.smaps" },
		{ "fixtures/smaps/go_leak_a.smaps", "fixtures/smaps/go_leak_b.smaps" },
		{ "fixtures/smaps/brk_a.smaps", "fixtures/smaps/brk_b.smaps" },
		{ "fixtures/smaps/brk_b.smaps", "fixtures/smaps/brk_a.smaps" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		size_t la, lb;
		char *ta = tap_slurp(pairs[i][0], &la), *tb = tap_slurp(pairs[i][1], &lb);
		struct snapshot *a = snapshot_new(), *b = snapshot_new();
		smaps_parse(ta, la, a, NULL);
		smaps_parse(tb, lb, b, NULL);
		snapshot_classify(a);
		snapshot_classify(b);
		same_as_compute(a, b, pairs[i][1]);
		snapshot_free(a);
		snapshot_free(b);
		free(ta);
		free(tb);
	}
	snapshot_free(last_a);
	snapshot_free(last_b);
	last_a = mk("7f0000000000 7f0000400000 rw-p 4096\n7f0000400000 7f0004000000 ---p 0\n"
		    "7f1000000000 7f1000001000 rw-p 4\n");
	last_b = mk("7f0000000000 7f0000800000 rw-p 8192\n7f0000800000 7f0004000000 ---p 0\n"
		    "7f0ff0000000 7f1000002000 rw-p 8 /x\n");
	same_as_compute(last_a, last_b, "boundary move, one region over another");
}

int main(void)
{
	test_boundary_move();
	test_split_merge();
	test_add_remove_same_order();
	test_touching();
	test_real_go();
	test_stream();
	snapshot_free(last_a);
	snapshot_free(last_b);
	return done_testing();
}
