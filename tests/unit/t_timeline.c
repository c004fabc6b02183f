/* Unit tests of the timeline: areas across split, merge, boundary moves, unmap and re-map;
 * growth statistics and the ranking on synthetic series. */
#include "tap.h"
#include "smaps.h"
#include "timeline.h"
#include "synth.h"

#include <math.h>

static const struct area *area_at(const struct timeline *tl, uint64_t addr)
{
	for (size_t i = 0; i < tl->nareas; i++)
		if (tl->areas[i].start <= addr && addr < tl->areas[i].end)
			return &tl->areas[i];
	return NULL;
}

static void test_boundary_move(void)
{
	struct timeline tl;
	char spec[512];
	const struct area *a;
	struct area_stats st;
	uint64_t id;

	timeline_init(&tl, 32);
	for (int i = 0; i < 10; i++) {
		unsigned long long b = 0x7f0000000000ULL + (unsigned long long)(i + 1) * 0x100000;
		snprintf(spec, sizeof(spec),
			 "7f0000000000 %llx rw-p %d\n%llx 7f0004000000 ---p 0\n"
			 "7f0010000000 7f0020000000 rw-p 262144\n", b, (i + 1) * 1024, b);
		add(&tl, spec, i);
		if (i == 0)
			id = area_at(&tl, 0x7f0000000000ULL)->id;
	}
	a = area_at(&tl, 0x7f0000000000ULL);
	ok(a && a->id == id, "glibc arena keeps its identity while its rw boundary moves");
	is_u64(tl.nareas, 2, "two areas: the arena and the flat buffer");
	ok(a && a->start == 0x7f0000000000ULL && a->end == 0x7f0004000000ULL, "arena area spans the 64 MiB block");
	timeline_area_stats(&tl, a, &st);
	ok(st.trend == TREND_GROWING, "arena trend growing (%s)", trend_name(st.trend));
	ok(fabs(st.rate - 1048576.0) < 1, "rate 1 MiB/s (%.0f)", st.rate);
	ok(st.r2 > 0.999 && st.monotonic == 1.0, "perfect fit, monotonic");
	is_u64(st.samples, 10, "ten samples");
	{
		const struct area *top[4];
		struct area_stats tst[4];
		size_t n = timeline_rank(&tl, top, tst, 4);
		ok(n == 2 && top[0] == a, "the growing arena ranks above the 256 MiB flat buffer");
		ok(tst[1].trend == TREND_FLAT && tst[1].score == 0, "flat buffer: flat, score 0");
	}
	timeline_free(&tl);
}

static void test_split_merge_unmap_remap(void)
{
	struct timeline tl;
	const struct area *a;
	uint64_t id;

	timeline_init(&tl, 8);
	add(&tl, "10000000 10400000 rw-p 1024\n20000000 20100000 rw-p 100\n", 0);
	id = area_at(&tl, 0x10000000)->id;
	/* mprotect of the middle: three VMAs, one area */
	add(&tl, "10000000 10100000 rw-p 256\n10100000 10200000 r--p 256\n10200000 10400000 rw-p 600\n"
		 "20000000 20100000 rw-p 100\n", 1);
	a = area_at(&tl, 0x10000000);
	ok(a && a->id == id && a->nvmas == 3, "split by mprotect: same area, 3 VMAs");
	is_u64(a ? timeline_area_rss(&tl, a, 1) : 0, (256 + 256 + 600) * 1024, "split: RSS summed over the pieces");
	ok(tl.nareas == 2, "still two areas");
	/* merge back */
	add(&tl, "10000000 10400000 rw-p 1200\n20000000 20100000 rw-p 100\n", 2);
	a = area_at(&tl, 0x10000000);
	ok(a && a->id == id && a->nvmas == 1, "merge: same area");
	/* two areas merge when one mapping now covers both */
	add(&tl, "10000000 20100000 rw-p 1400\n", 3);
	is_u64(tl.nareas, 1, "a mapping covering both areas merges them");
	a = area_at(&tl, 0x10000000);
	ok(a && a->id == id, "the older area survives the merge");
	is_u64(a ? timeline_area_rss(&tl, a, 2) : 0, (1200 + 100) * 1024, "merged history is the sum");
	/* unmap */
	add(&tl, "30000000 30100000 rw-p 10\n", 4);
	ok(!area_at(&tl, 0x10000000) && tl.vanished == 1, "unmapped area is gone and counted");
	/* re-map at the same address: a new area */
	add(&tl, "10000000 10400000 rw-p 5\n30000000 30100000 rw-p 10\n", 5);
	a = area_at(&tl, 0x10000000);
	ok(a && a->id != id && a->born_seq == 5, "re-map at the same address is a new area");
	timeline_free(&tl);
}

static void test_go_arena(void)
{
	struct timeline tl;
	char spec[2048];
	const struct area *a;
	struct area_stats st;

	timeline_init(&tl, 16);
	for (int i = 0; i < 8; i++) {
		size_t o = 0;
		unsigned long long p = 0xc000000000ULL;
		/* one 4 MiB VMA per step, alternating flags so they do not merge: many VMAs */
		for (int j = 0; j <= i; j++, p += 0x400000)
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%llx %llx rw-p 4096\n", p, p + 0x400000);
		snprintf(spec + o, sizeof(spec) - o, "%llx c004000000 ---p 0\n", p);
		add(&tl, spec, i * 0.5);
	}
	is_u64(tl.nareas, 1, "Go arena: appended VMAs and the reserved tail are one area");
	a = &tl.areas[0];
	timeline_area_stats(&tl, a, &st);
	ok(st.trend == TREND_GROWING && a->nvmas == 9, "Go arena growing over 9 VMAs");
	ok(fabs(st.rate - 8.0 * 1048576) < 1, "Go arena rate 8 MiB/s (%.0f)", st.rate);
	is_str(region_kind_name(a->kind), "go-heap", "kind go-heap");
	timeline_free(&tl);
}

/* Lazy rings: an area holds a constant until it first changes, a ring while a change is in
 * the window, and a constant again once the window has forgotten the change; every sample's
 * RSS reads back the same whichever it holds. A second area joins later and merges. */
static void test_lazy_ring(void)
{
	struct timeline tl;
	const struct area *a;
	uint64_t want[64];
	char spec[256];
	int ok_all = 1, had_ring = 0, const_after = 0;

	timeline_init(&tl, 8);
	for (int i = 0; i < 40; i++) {
		unsigned kib = i >= 10 && i < 13 ? 100 + (unsigned)i : 64;
		want[i] = (uint64_t)kib * 1024;
		snprintf(spec, sizeof(spec), "10000 90000 rw-p %u\n", kib);
		add(&tl, spec, i);
		a = area_at(&tl, 0x10000);
		if (!a)
			break;
		if (i == 5)
			ok(a->rss == NULL, "lazy ring: no ring before the first change");
		if (i >= 10 && i < 13 + 7)
			had_ring |= a->rss != NULL;
		if (i == 13 + 8)
			const_after = a->rss == NULL;
		for (int j = 0; j <= i; j++) {
			uint64_t got = timeline_area_rss(&tl, a, (uint64_t)j);
			uint64_t exp = j + 8 <= i ? UINT64_MAX : want[j];
			if (got != exp) {
				if (ok_all)
					printf("# sample %d, seq %d: got %llu want %llu\n", i, j,
					       (unsigned long long)got, (unsigned long long)exp);
				ok_all = 0;
			}
		}
	}
	ok(ok_all, "lazy ring: every sample in the window reads back its RSS");
	ok(had_ring, "lazy ring: a ring while a change is in the window");
	ok(const_after, "lazy ring: a constant again once the change left the window");
	{
		struct area_stats st;
		a = area_at(&tl, 0x10000);
		timeline_area_stats(&tl, a, &st);
		is_u64(st.rss_last, 64 * 1024, "lazy ring: stats of a constant area");
		ok(st.trend == TREND_FLAT && st.samples == 8, "lazy ring: flat over the window");
	}
	/* A constant area born later merges into the older one: the history is the sum. */
	add(&tl, "10000 90000 rw-p 64\n90000 a0000 rw-p 8\n", 40);
	add(&tl, "10000 90000 rw-p 64\n90000 a0000 rw-p 8\n", 41);
	add(&tl, "10000 a0000 rw-p 72\n", 42);
	a = area_at(&tl, 0x10000);
	ok(a && tl.nareas == 1, "lazy ring: merged into one area");
	if (a) {
		is_u64(timeline_area_rss(&tl, a, 39), 64 * 1024, "lazy ring: merged, before the other was born");
		is_u64(timeline_area_rss(&tl, a, 41), 72 * 1024, "lazy ring: merged history summed");
		is_u64(timeline_area_rss(&tl, a, 42), 72 * 1024, "lazy ring: merged, latest");
	}
	timeline_free(&tl);
}

static void series(const char *what, uint64_t (*f)(int), int n, double dt, struct area_stats *st)
{
	double t[512];
	uint64_t v[512];
	for (int i = 0; i < n; i++) {
		t[i] = i * dt;
		v[i] = f(i);
	}
	timeline_series_stats(t, v, (size_t)n, st);
	printf("# %-10s trend %-9s rate %12.0f r2 %.3f mono %.2f score %.1f\n", what,
	       trend_name(st->trend), st->rate, st->r2, st->monotonic, st->score);
}

/* 5 MiB/min on 100 MiB, sampled every second, with 4 KiB page granularity */
static uint64_t leak(int i) { return (100ULL << 20) + (uint64_t)(i * 5.0 * 1048576 / 60 / 4096) * 4096; }
static uint64_t flat2g(int i) { return (2ULL << 30) + (i % 3) * 4096; }
/* 200 MiB sawtooth, period 20 s */
static uint64_t saw(int i) { return (uint64_t)((i % 20) * (200.0 / 19) * 1048576); }
static uint64_t shrink(int i) { return (500ULL << 20) - (uint64_t)i * (1ULL << 20); }
/* a leak that a GC trims a little now and then */
static uint64_t gcleak(int i) { return (uint64_t)i * (2ULL << 20) - (i % 7 == 6 ? (3ULL << 20) : 0); }

/* 2 MiB/s for 90 s, then nothing for 30 s (of a 120 s window) */
static uint64_t stopped30(int i) { return (100ULL << 20) + (uint64_t)(i < 90 ? i : 90) * (2ULL << 20); }
/* the same, stopped only 5 s ago: too short a pause to call it stopped */
static uint64_t stopped5(int i) { return (100ULL << 20) + (uint64_t)(i < 115 ? i : 115) * (2ULL << 20); }
/* 2 MiB/s that slowed to a third (still a leak) */
static uint64_t slowed(int i) { return (100ULL << 20) + (uint64_t)(i < 90 ? 3 * i : 270 + (i - 90)) * (1ULL << 20) * 2 / 3; }

static void test_recent_trend(void)
{
	struct area_stats st;

	series("stopped30", stopped30, 120, 1, &st);
	ok(st.trend == TREND_FLAT, "grew, then stopped 30 s ago: flat");
	ok(st.score == 0, "grew, then stopped 30 s ago: score 0");
	ok(st.rate > 0 && st.delta > 0, "grew, then stopped: rate and delta are still the window's");
	series("stopped5", stopped5, 120, 1, &st);
	ok(st.trend == TREND_GROWING, "stopped 5 s ago in a 120 s window: still growing");
	series("slowed", slowed, 120, 1, &st);
	ok(st.trend == TREND_GROWING, "slowed to a third of its rate: still growing");
	/* a short window: the recent part is at least 4 samples, so 3 flat samples do not stop it */
	series("stopped3", stopped30, 93, 1, &st);
	ok(st.trend == TREND_GROWING, "3 flat samples after 90 s of growth: still growing");
	series("short", stopped30, 5, 1, &st);
	ok(st.trend == TREND_GROWING, "5 samples of growth: growing (the recent part is the window)");
}

static void test_trends(void)
{
	struct area_stats l, f, s, k, g;

	series("leak", leak, 120, 1, &l);
	series("flat 2G", flat2g, 120, 1, &f);
	series("sawtooth", saw, 120, 1, &s);
	series("shrink", shrink, 60, 1, &k);
	series("gc leak", gcleak, 60, 1, &g);
	ok(l.trend == TREND_GROWING, "5 MiB/min leak: growing");
	ok(f.trend == TREND_FLAT, "2 GiB buffer: flat");
	ok(s.trend == TREND_SAWTOOTH, "200 MiB sawtooth: sawtooth");
	ok(k.trend == TREND_SHRINKING, "shrinking");
	ok(g.trend == TREND_GROWING, "leak with small GC dips: growing");
	ok(l.score > f.score && l.score > s.score, "the leak outranks the flat buffer and the sawtooth");
	ok(fabs(l.rate - 5.0 * 1048576 / 60) < 2000, "leak rate ~ 87381 B/s (%.0f)", l.rate);
	{
		uint64_t one = 42;
		double t0 = 0;
		struct area_stats st;
		timeline_series_stats(&t0, &one, 1, &st);
		ok(st.trend == TREND_FLAT && st.samples == 1 && st.rate == 0, "one sample: flat, no rate");
	}
}

int main(void)
{
	test_boundary_move();
	test_split_merge_unmap_remap();
	test_go_arena();
	test_lazy_ring();
	test_trends();
	test_recent_trend();
	return done_testing();
}
