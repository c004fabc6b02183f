/* Unit tests of pools: which areas a pool holds, its summed series, and when it is a row. */
#include "tap.h"
#include "pool.h"
#include "smaps.h"
#include "timeline.h"
#include "synth.h"

static const struct pool *find(const struct pool_set *ps, enum pool_kind k)
{
	for (size_t i = 0; i < ps->npools; i++)
		if (ps->pools[i].kind == k)
			return &ps->pools[i];
	return NULL;
}

/* [heap] and two 64 MiB-aligned glibc arenas (rw prefix + ---p tail), growing together. */
static void test_spread_malloc(void)
{
	struct timeline tl;
	struct pool_set ps;
	char spec[1024];
	const struct pool *p;

	timeline_init(&tl, 16);
	pool_set_init(&ps);
	for (int i = 0; i < 8; i++) {
		unsigned k = 1024 + 512 * (unsigned)i;     /* KiB, each grows 512 KiB a sample */
		snprintf(spec, sizeof(spec),
			 "555500000000 %llx rw-p %u [heap]\n"
			 "7f0000000000 %llx rw-p %u\n%llx 7f0004000000 ---p 0\n"
			 "7f0008000000 %llx rw-p %u\n%llx 7f000c000000 ---p 0\n"
			 "7f1000000000 7f1000100000 r-xp 1024 /usr/lib/libc.so.6\n",
			 0x555500000000ull + k * 1024ull, k,
			 0x7f0000000000ull + k * 1024ull, k, 0x7f0000000000ull + k * 1024ull,
			 0x7f0008000000ull + k * 1024ull, k, 0x7f0008000000ull + k * 1024ull);
		add(&tl, spec, i);
	}
	pool_set_build(&ps, &tl);
	p = find(&ps, POOL_MALLOC);
	ok(p && p->nmembers == 3, "malloc pool: [heap] and 2 arenas (%zu)", p ? p->nmembers : 0);
	ok(p && p->shown, "... a row: its growth is spread (3 x the best member)");
	ok(p && p->st.delta == 3 * 7 * 512 * 1024, "... summed delta: 3 x 3.5 MiB (%lld)",
	   p ? (long long)p->st.delta : 0);
	ok(p && p->st.trend == TREND_GROWING && p->st.score > 0, "... growing, with a score");
	ok(p && pool_set_owner(&ps, p->members[0]) == p, "... and its members know it");
	ok(!find(&ps, POOL_FILE) || !find(&ps, POOL_FILE)->shown, "a single file mapping is no row");
	pool_set_free(&ps);
	timeline_free(&tl);
}

/* One arena grows, [heap] is flat: the arena explains it all, so no pool row. */
static void test_one_member(void)
{
	struct timeline tl;
	struct pool_set ps;
	char spec[1024];
	const struct pool *p;

	timeline_init(&tl, 16);
	pool_set_init(&ps);
	for (int i = 0; i < 8; i++) {
		unsigned k = 1024 + 512 * (unsigned)i;
		snprintf(spec, sizeof(spec),
			 "555500000000 555500400000 rw-p 4096 [heap]\n"
			 "7f0000000000 %llx rw-p %u\n%llx 7f0004000000 ---p 0\n",
			 0x7f0000000000ull + k * 1024ull, k, 0x7f0000000000ull + k * 1024ull);
		add(&tl, spec, i);
	}
	pool_set_build(&ps, &tl);
	p = find(&ps, POOL_MALLOC);
	ok(p && p->nmembers == 2 && !p->shown, "one growing arena, a flat [heap]: the pool is no row");
	ok(p && !pool_set_owner(&ps, p->members[0]), "... so its members are rows of their own");
	pool_set_free(&ps);
	timeline_free(&tl);
}

/* Chunks born full (V8 pages): no member grows, the pool does. */
static void test_chunks(void)
{
	struct timeline tl;
	struct pool_set ps;
	char spec[8192];
	const struct pool *p;

	timeline_init(&tl, 16);
	pool_set_init(&ps);
	for (int i = 0; i < 8; i++) {
		size_t o = 0;
		for (int c = 0; c <= 4 * i; c++) {
			unsigned long long a = 0x7e0000000000ull + (unsigned long long)c * 0x80000;
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%llx %llx rw-p 256\n", a, a + 0x40000);
		}
		add(&tl, spec, i);
	}
	pool_set_build(&ps, &tl);
	p = find(&ps, POOL_ANON);
	ok(p && p->nmembers == 29, "29 chunks of 256 KiB: one anonymous pool (%zu)", p ? p->nmembers : 0);
	ok(p && p->best_member_delta == 0, "... no member grows by itself");
	ok(p && p->shown && p->st.delta == 28 * 256 * 1024 && p->st.trend == TREND_GROWING,
	   "... the pool grows by the chunks added (%lld)", p ? (long long)p->st.delta : 0);
	ok(p && (p->row.id >> 63) && p->row.start == 0x7e0000000000ull,
	   "... its row: an id apart from the timeline's, the span of its members");
	/* again for the same sample: nothing rebuilt, the same answer */
	pool_set_build(&ps, &tl);
	ok(find(&ps, POOL_ANON) == p && p->shown, "building again for the same sample keeps it");
	pool_set_free(&ps);
	timeline_free(&tl);
}

int main(void)
{
	test_spread_malloc();
	test_one_member();
	test_chunks();
	return done_testing();
}
