/* Unit tests of inspect's run arithmetic (watch --content): which pages are new since the
 * baseline (present runs now minus present runs then), and the even sample of them read
 * under a budget, with an old-pages sample of the same size. */
#include "tap.h"
#include "inspect.h"
#include "procfs.h"

#include <sys/mman.h>
#include <unistd.h>

#define PG 4096ull

/* runs from a list of page numbers [a, b) pairs, terminated by a negative number */
static size_t mk(uint64_t *v, const long *pages)
{
	size_t n = 0;

	for (; pages[0] >= 0; pages += 2, n++) {
		v[2 * n] = 0x7f0000000000ull + (uint64_t)pages[0] * PG;
		v[2 * n + 1] = 0x7f0000000000ull + (uint64_t)pages[1] * PG;
	}
	return n;
}

/* "a-b,c-d" in pages relative to the base address */
static void fmt(const struct inspect_runs *r, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (size_t i = 0; i < r->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%llu-%llu", i ? "," : "",
				       (unsigned long long)((r->v[2 * i] - 0x7f0000000000ull) / PG),
				       (unsigned long long)((r->v[2 * i + 1] - 0x7f0000000000ull) / PG));
}

static void split_case(const char *name, const long *cur, const long *base, const char *want_fresh,
		       const char *want_old)
{
	uint64_t c[64], b[64];
	size_t nc = mk(c, cur), nb = mk(b, base);
	struct inspect_runs fresh = { 0 }, old = { 0 };
	char f[256], o[256];
	uint64_t total = 0;

	inspect_runs_split(c, nc, b, nb, &fresh, &old);
	fmt(&fresh, f, sizeof(f));
	fmt(&old, o, sizeof(o));
	is_str(f, want_fresh, "%s: new runs", name);
	is_str(o, want_old, "%s: old runs", name);
	for (size_t i = 0; i < nc; i++)
		total += c[2 * i + 1] - c[2 * i];
	is_u64(fresh.bytes + old.bytes, total, "%s: new + old = present now", name);
	inspect_runs_free(&fresh);
	inspect_runs_free(&old);
}

static void test_split(void)
{
	static const long none[] = { -1 };
	static const long r0_10[] = { 0, 10, -1 }, r0_20[] = { 0, 20, -1 };
	static const long r10_20[] = { 10, 20, -1 }, r100_110[] = { 100, 110, -1 };
	static const long two[] = { 0, 4, 5, 8, -1 }, mid[] = { 2, 6, -1 };
	static const long wide[] = { 0, 10, -1 }, three[] = { 1, 2, 4, 5, 8, 12, -1 };
	static const long spanning[] = { 0, 100, -1 }, pieces[] = { 0, 10, 20, 30, 90, 110, -1 };

	split_case("empty baseline", r0_10, none, "0-10", "");
	split_case("nothing present now", none, r0_10, "", "");
	split_case("same pages", r0_10, r0_10, "", "0-10");
	split_case("area grew upward", r0_20, r0_10, "10-20", "0-10");
	split_case("adjacent, not overlapping", r10_20, r0_10, "10-20", "");
	split_case("area shrunk", r0_10, r0_20, "", "0-10");
	split_case("area moved", r0_10, r100_110, "0-10", "");
	split_case("overlapping at both ends", two, mid, "0-2,6-8", "2-4,5-6");
	split_case("one run over three baseline runs", wide, three, "0-1,2-4,5-8", "1-2,4-5,8-10");
	split_case("one baseline run over three runs now", pieces, spanning, "100-110", "0-10,20-30,90-100");
	split_case("grew downward (stack-like)", r0_20, r10_20, "0-10", "10-20");
}

/* Random bitmaps of 512 pages against a page-by-page reference. */
static void test_split_random(void)
{
	unsigned seed = 12345;
	int bad = 0;

	for (int iter = 0; iter < 500; iter++) {
		unsigned char now[512], then[512];
		uint64_t c[2 * 512], b[2 * 512];
		size_t nc = 0, nb = 0;
		struct inspect_runs fresh = { 0 }, old = { 0 };
		uint64_t want_fresh = 0, want_old = 0;

		for (int i = 0; i < 512; i++) {
			seed = seed * 1103515245u + 12345u;
			now[i] = (seed >> 16) % 3 != 0;
			then[i] = (seed >> 20) % 2 != 0;
			want_fresh += now[i] && !then[i];
			want_old += now[i] && then[i];
		}
		for (int i = 0; i < 512; i++) {
			uint64_t a = 0x10000000ull + (uint64_t)i * PG;
			if (now[i] && (!nc || c[2 * nc - 1] != a))
				c[2 * nc++] = a;
			if (now[i])
				c[2 * nc - 1] = a + PG;
			if (then[i] && (!nb || b[2 * nb - 1] != a))
				b[2 * nb++] = a;
			if (then[i])
				b[2 * nb - 1] = a + PG;
		}
		inspect_runs_split(c, nc, b, nb, &fresh, &old);
		if (fresh.bytes != want_fresh * PG || old.bytes != want_old * PG)
			bad++;
		/* every fresh page is present now and not then; sorted, disjoint, not touching */
		for (size_t i = 0; i < fresh.n; i++) {
			if (i && fresh.v[2 * i] <= fresh.v[2 * i - 1])
				bad++;
			for (uint64_t a = fresh.v[2 * i]; a < fresh.v[2 * i + 1]; a += PG) {
				size_t pg = (size_t)((a - 0x10000000ull) / PG);
				if (!now[pg] || then[pg])
					bad++;
			}
		}
		for (size_t i = 0; i < old.n; i++)
			for (uint64_t a = old.v[2 * i]; a < old.v[2 * i + 1]; a += PG) {
				size_t pg = (size_t)((a - 0x10000000ull) / PG);
				if (!now[pg] || !then[pg])
					bad++;
			}
		inspect_runs_free(&fresh);
		inspect_runs_free(&old);
	}
	ok(!bad, "500 random bitmaps: new and old runs match a page-by-page reference (%d wrong)", bad);
}

/* Checks of a pick against its source: inside it, page-aligned, under the budget. */
static int pick_inside(const struct inspect_runs *src, const struct inspect_runs *pick)
{
	size_t j = 0;

	for (size_t i = 0; i < pick->n; i++) {
		uint64_t s = pick->v[2 * i], e = pick->v[2 * i + 1];
		if (s % PG || e % PG || e <= s || (i && s <= pick->v[2 * i - 1]))
			return 0;
		while (j < src->n && src->v[2 * j + 1] <= s)
			j++;
		if (j == src->n || s < src->v[2 * j] || e > src->v[2 * j + 1])
			return 0;
	}
	return 1;
}

static void test_pick(void)
{
	struct inspect_runs r = { 0 }, p = { 0 };
	uint64_t base = 0xc000000000ull;

	/* within budget: all of it, unchanged */
	inspect_runs_add(&r, base, base + 100 * PG);
	inspect_runs_add(&r, base + 200 * PG, base + 300 * PG);
	inspect_runs_pick(&r, 200 * PG, &p);
	ok(p.n == 2 && p.bytes == r.bytes && !memcmp(p.v, r.v, 4 * sizeof(uint64_t)),
	   "budget = total: every run, as is");
	inspect_runs_free(&p);
	inspect_runs_free(&r);

	/* 1 GiB in one run, 64 MiB budget: 16 pieces of 1 MiB, spread over the whole run */
	inspect_runs_add(&r, base, base + (1ull << 30));
	inspect_runs_pick(&r, 64ull << 20, &p);
	is_u64(p.bytes, 64ull << 20, "1 GiB / 64 MiB budget: exactly the budget read");
	ok(pick_inside(&r, &p), "... pieces inside the run, page-aligned, sorted");
	{
		uint64_t quarter[4] = { 0 };
		for (size_t i = 0; i < p.n; i++)
			for (uint64_t a = p.v[2 * i]; a < p.v[2 * i + 1]; a += PG)
				quarter[(a - base) / (256ull << 20)] += PG;
		ok(quarter[0] == 16ull << 20 && quarter[1] == 16ull << 20 && quarter[2] == 16ull << 20 &&
		   quarter[3] == 16ull << 20, "... a quarter of the sample in each quarter of the run "
		   "(%llu %llu %llu %llu MiB)", (unsigned long long)(quarter[0] >> 20),
		   (unsigned long long)(quarter[1] >> 20), (unsigned long long)(quarter[2] >> 20),
		   (unsigned long long)(quarter[3] >> 20));
	}
	/* 64 pieces: the first begins in the first 64th of the run, the last ends in the last */
	ok(p.v[0] < base + (16ull << 20) && p.v[2 * p.n - 1] > base + (1ull << 30) - (16ull << 20),
	   "... from the first 64th of the run to its last");
	inspect_runs_free(&p);
	inspect_runs_free(&r);

	/* a budget that is not a page multiple: whole pages, never beyond it */
	inspect_runs_add(&r, base, base + 64 * PG);
	inspect_runs_pick(&r, 10000, &p);
	ok(p.bytes <= 10000 && p.bytes == 2 * PG && pick_inside(&r, &p),
	   "budget 10000 bytes: 2 whole pages (%llu)", (unsigned long long)p.bytes);
	inspect_runs_free(&p);
	inspect_runs_pick(&r, 100, &p);
	is_u64(p.bytes, 0, "budget under a page: nothing read (never beyond the budget)");
	inspect_runs_free(&p);
	inspect_runs_free(&r);

	/* empty: nothing */
	inspect_runs_pick(&r, 1 << 20, &p);
	ok(p.n == 0 && p.bytes == 0, "no runs: no pieces");
	inspect_runs_free(&p);
}

/* Many small runs (pages scattered over a Go-like reservation), random budgets. */
static void test_pick_random(void)
{
	unsigned seed = 777;
	int outside = 0, over = 0, short_by = 0, old_unequal = 0;

	for (int iter = 0; iter < 300; iter++) {
		struct inspect_runs r = { 0 }, p = { 0 }, old = { 0 }, po = { 0 };
		uint64_t at = 0x7f0000000000ull, budget;
		size_t nrun;

		seed = seed * 1103515245u + 12345u;
		nrun = 1 + (seed >> 16) % 400;
		for (size_t i = 0; i < nrun; i++) {
			seed = seed * 1103515245u + 12345u;
			at += PG * (1 + (seed >> 16) % 8);                   /* gap */
			inspect_runs_add(&r, at, at + PG * (1 + (seed >> 8) % 300));
			at = r.v[2 * r.n - 1];
		}
		seed = seed * 1103515245u + 12345u;
		budget = PG * (1 + (seed >> 12) % (r.bytes / PG + 50));
		inspect_runs_pick(&r, budget, &p);
		if (!pick_inside(&r, &p))
			outside++;
		if (p.bytes > budget)
			over++;
		/* the budget in whole pages, or all of it */
		if (p.bytes != (budget < r.bytes ? budget / PG * PG : r.bytes))
			short_by++;
		/* the old sample: of a larger old area, as many bytes as the new pages read */
		for (size_t i = 0; i < 3; i++)
			inspect_runs_add(&old, 0x10000000ull + i * 2 * r.bytes, 0x10000000ull + (2 * i + 1) * r.bytes);
		inspect_runs_pick(&old, p.bytes, &po);
		if (po.bytes != p.bytes || !pick_inside(&old, &po))
			old_unequal++;
		inspect_runs_free(&r);
		inspect_runs_free(&p);
		inspect_runs_free(&old);
		inspect_runs_free(&po);
	}
	ok(!outside, "300 random run lists: every piece inside a run, page-aligned (%d not)", outside);
	ok(!over, "... never more than the budget (%d over)", over);
	ok(!short_by, "... and exactly the budget in whole pages, or all (%d not)", short_by);
	ok(!old_unequal, "... the old-pages sample is of equal size (%d unequal)", old_unequal);
}

/* The pointer census's table against the rule it replaces: a span first (the row), then the
 * region holding the address (its kind), else none; [vsyscall] counts as none. */
static enum inspect_ptr ref_class(const struct snapshot *s, const struct inspect_span *sp, size_t nsp,
				  uint64_t v)
{
	for (size_t i = 0; i < nsp; i++)
		if (v >= sp[i].start && v < sp[i].end)
			return INSPECT_PTR_ROW;
	for (size_t i = 0; i < s->count; i++) {
		const struct region *r = &s->regions[i];
		if (v < r->start || v >= r->end || r->start >= (1ull << 47))
			continue;
		switch (r->kind) {
		case KIND_GO_HEAP: return INSPECT_PTR_GO_HEAP;
		case KIND_HEAP: case KIND_GLIBC_ARENA: return INSPECT_PTR_MALLOC;
		case KIND_ANON: return INSPECT_PTR_ANON;
		case KIND_STACK: return INSPECT_PTR_STACK;
		case KIND_FILE: return INSPECT_PTR_FILE;
		default: return INSPECT_PTR_OTHER;
		}
	}
	return INSPECT_PTR_NONE;
}

static void test_ptr_classify(void)
{
	static const int kinds[] = { KIND_ANON, KIND_HEAP, KIND_GLIBC_ARENA, KIND_GO_HEAP, KIND_STACK,
				     KIND_FILE, KIND_SHMEM, KIND_SPECIAL };
	unsigned seed = 777;
	int bad = 0, cases = 0;
	uint64_t hits[INSPECT_PTR_COUNT] = { 0 };

	for (int round = 0; round < 200; round++) {
		struct snapshot *s = snapshot_new();
		struct inspect_span sp[8];
		size_t nsp = 0, nr;
		uint64_t at = 0x400000, v[512];
		enum inspect_ptr got[512];

		seed = seed * 1103515245u + 12345u;
		nr = 1 + (seed >> 16) % 40;
		for (size_t i = 0; i < nr; i++) {
			struct region *r = snapshot_add(s);
			seed = seed * 1103515245u + 12345u;
			at += PG * ((seed >> 16) % 4);          /* touching or a gap */
			memset(r, 0, sizeof(*r));
			r->start = at;
			r->end = at + PG * (1 + (seed >> 20) % 16);
			r->kind = (uint8_t)kinds[(seed >> 8) % (sizeof(kinds) / sizeof(kinds[0]))];
			r->path = "";
			r->vmflags = "";
			at = r->end;
		}
		if (round % 3 == 0) {                       /* [vsyscall] at the top */
			struct region *r = snapshot_add(s);
			memset(r, 0, sizeof(*r));
			r->start = 0xffffffffff600000ull;
			r->end = 0xffffffffff601000ull;
			r->kind = KIND_SPECIAL;
			r->path = "[vsyscall]";
			r->vmflags = "";
		}
		/* spans: areas of the row, on region bounds or across several, some over a gap */
		seed = seed * 1103515245u + 12345u;
		for (size_t k = 0, n = (seed >> 16) % 5; k < n; k++) {
			size_t a, b;
			seed = seed * 1103515245u + 12345u;
			a = (seed >> 16) % nr;
			b = a + (seed >> 8) % 3;
			if (b >= nr)
				b = nr - 1;
			if (nsp && s->regions[a].start < sp[nsp - 1].end)
				continue;
			sp[nsp++] = (struct inspect_span){ k, s->regions[a].start + ((seed & 1) ? PG / 2 : 0),
							  s->regions[b].end, 0 };
		}
		for (size_t i = 0; i < 512; i++) {
			seed = seed * 1103515245u + 12345u;
			if (i % 16 == 0)
				v[i] = (uint64_t)seed << 32 | seed;     /* anywhere */
			else if (i % 16 == 1)
				v[i] = 0xffffffffff600000ull + (seed % 4096);
			else
				v[i] = 0x400000 - 2 * PG + (uint64_t)(seed >> 4) % (at - 0x400000 + 4 * PG);
		}
		/* spans in reverse order: the table sorts them */
		for (size_t k = 0; k < nsp / 2; k++) {
			struct inspect_span t = sp[k];
			sp[k] = sp[nsp - 1 - k];
			sp[nsp - 1 - k] = t;
		}
		inspect_ptr_classify(s, sp, nsp, v, 512, got);
		for (size_t i = 0; i < 512; i++, cases++) {
			enum inspect_ptr want = ref_class(s, sp, nsp, v[i]);
			hits[want]++;
			if (got[i] != want && bad++ < 5)
				printf("# round %d: %#llx: got %s, want %s\n", round, (unsigned long long)v[i],
				     inspect_ptr_name(got[i]), inspect_ptr_name(want));
		}
		snapshot_free(s);
	}
	is_u64((uint64_t)bad, 0, "pointer census table: %d words classified as by the rule", cases);
	ok(hits[INSPECT_PTR_ROW] > 1000 && hits[INSPECT_PTR_NONE] > 1000 && hits[INSPECT_PTR_ANON] > 100 &&
	   hits[INSPECT_PTR_MALLOC] > 100 && hits[INSPECT_PTR_OTHER] > 100,
	   "... the cases cover the row, none, and several kinds");
}


/* A baseline of this process's own mappings recorded out of id order, then indexed: each
 * area is found by its id (binary search), an id never recorded is not, and the pages
 * touched after the baseline are the new ones. */
static void test_baseline_index(void)
{
	const size_t pg = 4096, len = 16 * pg;
	const uint64_t ids[3] = { 30, 10, 20 };
	unsigned char *m[3];
	struct inspect_baseline b;
	struct inspect_span spans[4];
	struct procfs p;
	struct rw_err err;
	uint64_t *runs = NULL, new_bytes = 0, unrecorded = 0;
	size_t nruns = 0;
	int rc;

	ok(procfs_open(getpid(), &p, &err) == 0, "baseline: /proc/self opens");
	inspect_baseline_init(&b);
	for (int i = 0; i < 3; i++) {
		m[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		m[i][0] = 1;                                   /* one page present at the baseline */
		rc = inspect_baseline_add(&b, &p, ids[i], (uint64_t)(uintptr_t)m[i],
					  (uint64_t)(uintptr_t)m[i] + len, &err);
		ok(rc == 0, "baseline: area %llu recorded", (unsigned long long)ids[i]);
	}
	ok(b.unsorted, "baseline: recorded out of id order, it says so");
	inspect_baseline_index(&b);
	ok(!b.unsorted && b.areas[0].id == 10 && b.areas[1].id == 20 && b.areas[2].id == 30,
	   "baseline: indexed, the areas are in id order");
	for (int i = 0; i < 3; i++) {
		m[i][5 * pg] = m[i][6 * pg] = 1;               /* two new pages each */
		spans[i] = (struct inspect_span){ ids[i], (uint64_t)(uintptr_t)m[i],
						  (uint64_t)(uintptr_t)m[i] + len, 0 };
	}
	spans[3] = (struct inspect_span){ 99, (uint64_t)(uintptr_t)m[0], (uint64_t)(uintptr_t)m[0] + pg, 0 };
	rc = inspect_new_runs(&p, &b, spans, 4, 1 << 20, &runs, &nruns, &new_bytes, &unrecorded, &err);
	ok(rc == 0, "baseline: the new runs of the indexed baseline");
	is_u64(unrecorded, 1, "baseline: only the id never recorded is unrecorded");
	is_u64(new_bytes, 6 * pg, "baseline: the pages touched since are the new ones (2 per area)");
	free(runs);
	inspect_baseline_free(&b);
	for (int i = 0; i < 3; i++)
		munmap(m[i], len);
	procfs_close(&p);
}

int main(void)
{
	test_split();
	test_split_random();
	test_pick();
	test_pick_random();
	test_ptr_classify();
	test_baseline_index();
	return done_testing();
}
