/* Unit tests of the watch model's id lookups (watch_find_area, watch_find_pool): areas are
 * born, vanish and merge between samples; the answers follow the latest sample. */
#include "tap.h"
#include "watch.h"
#include "synth.h"

#include <stdlib.h>

/* A watch with no process: its timeline fed synthetic samples. */
static void fake_open(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	timeline_init(&w->tl, 16);
	pool_set_init(&w->pools);
}

static void fake_close(struct watch *w)
{
	timeline_free(&w->tl);
	pool_set_free(&w->pools);
	free(w->ids);
}

static const struct area *by_start(const struct timeline *tl, uint64_t start)
{
	for (size_t i = 0; i < tl->nareas; i++)
		if (tl->areas[i].start == start)
			return &tl->areas[i];
	return NULL;
}

/* Every area of the latest sample is found by its id, and nothing else is. */
static int all_found(struct watch *w)
{
	for (size_t i = 0; i < w->tl.nareas; i++)
		if (watch_find_area(w, w->tl.areas[i].id) != &w->tl.areas[i])
			return 0;
	return 1;
}

static void test_areas(void)
{
	struct watch w;
	const struct area *a, *b;
	uint64_t id_a, id_b, id_c;
	char spec[65536];
	size_t o = 0;

	fake_open(&w);
	ok(!watch_find_area(&w, 1), "no sample yet: nothing found");
	add(&w.tl, "100000 200000 rw-p 64\n300000 400000 rw-p 64\n500000 600000 r--p 4 /lib/x.so\n", 0);
	a = by_start(&w.tl, 0x100000);
	b = by_start(&w.tl, 0x300000);
	id_a = a->id;
	id_b = b->id;
	ok(watch_find_area(&w, id_a) == a && watch_find_area(&w, id_b) == b, "found by id");
	ok(!watch_find_area(&w, 0) && !watch_find_area(&w, 999), "id 0 and an unknown id: NULL");
	/* b vanishes, c is born between a and where b was */
	add(&w.tl, "100000 200000 rw-p 128\n220000 240000 rw-p 8\n500000 600000 r--p 4 /lib/x.so\n", 1);
	id_c = by_start(&w.tl, 0x220000)->id;
	ok(!watch_find_area(&w, id_b), "an area that vanished is not found");
	ok(watch_find_area(&w, id_c) && watch_find_area(&w, id_c)->start == 0x220000, "one born since is");
	ok(watch_find_area(&w, id_a) == by_start(&w.tl, 0x100000),
	   "... and the one that stayed is found where it is now (the arrays are double-buffered)");
	ok(watch_find_area(&w, id_a)->rss_const == 128 || watch_find_area(&w, id_a)->rss,
	   "... with this sample's data");
	/* c grows into a: they merge, the older id stays */
	add(&w.tl, "100000 240000 rw-p 200\n500000 600000 r--p 4 /lib/x.so\n", 2);
	ok(watch_find_area(&w, id_a) && watch_find_area(&w, id_a)->end == 0x240000,
	   "merged areas: the older id names the merged area");
	ok(!watch_find_area(&w, id_c), "... the younger one is gone");
	/* many areas: every one found */
	for (unsigned i = 0; i < 500; i++)
		o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%x %x rw-p 4\n", 0x10000000 + i * 0x2000,
				      0x10000000 + i * 0x2000 + 0x1000);
	add(&w.tl, spec, 3);
	ok(w.tl.nareas == 500 && all_found(&w), "500 areas: each found by its id (%zu)", w.tl.nareas);
	ok(!watch_find_area(&w, id_a), "... and none of the last sample's");
	fake_close(&w);
}

static void test_pools(void)
{
	struct watch w;
	const struct pool *p;
	uint64_t row_id;
	char spec[8192];

	fake_open(&w);
	for (int i = 0; i < 6; i++) {
		size_t o = 0;
		for (int c = 0; c <= 3 * i; c++) {
			unsigned long long a = 0x7e0000000000ull + (unsigned long long)c * 0x80000;
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%llx %llx rw-p 256\n", a, a + 0x40000);
		}
		o += (size_t)snprintf(spec + o, sizeof(spec) - o, "7f0000000000 7f0000100000 r-xp 1024 /lib/y.so\n");
		add(&w.tl, spec, i);
	}
	/* not built yet for this sample: watch_find_pool builds it */
	p = NULL;
	pool_set_build(&w.pools, &w.tl);
	for (size_t i = 0; i < w.pools.npools; i++)
		if (w.pools.pools[i].kind == POOL_ANON)
			p = &w.pools.pools[i];
	row_id = p ? p->row.id : 0;
	ok(p && (row_id >> 63), "the chunks' pool has a row id");
	ok(watch_find_pool(&w, row_id) == p, "found by its row id");
	ok(!watch_find_pool(&w, by_start(&w.tl, 0x7e0000000000ull)->id), "an area's id is no pool's");
	ok(!watch_find_area(&w, row_id), "a pool's id is no area's");
	/* the next sample: one more chunk; the pool is rebuilt, the id the same */
	{
		size_t o = 0;
		for (int c = 0; c <= 18; c++) {
			unsigned long long a = 0x7e0000000000ull + (unsigned long long)c * 0x80000;
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%llx %llx rw-p 256\n", a, a + 0x40000);
		}
		add(&w.tl, spec, 6);
	}
	p = watch_find_pool(&w, row_id);
	ok(p && p->nmembers == 19, "the next sample: the same id finds the rebuilt pool, 19 members (%zu)",
	   p ? p->nmembers : 0);
	ok(p && w.pools.built_seq == w.tl.seq, "... built for the latest sample");
	ok(p && p->members[18] == by_start(&w.tl, 0x7e0000000000ull + 18 * 0x80000ull),
	   "... its members this sample's areas");
	fake_close(&w);
}

int main(void)
{
	test_areas();
	test_pools();
	return done_testing();
}
