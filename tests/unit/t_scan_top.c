/* Unit tests of scan_top: exact counts, Space-Saving bounds, truncation, arena pressure,
 * and string shapes. */
#include "tap.h"
#include "scan.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void add(struct scan_top *t, const char *s, uint64_t addr)
{
	scan_top_add(t, s, strlen(s), addr);
}

static void test_exact(void)
{
	struct scan_top *t = scan_top_new(64);
	struct scan_top_entry e[10];
	size_t n;

	for (int i = 0; i < 5; i++)
		add(t, "user_session id=1", 0x1000 + (uint64_t)i);
	for (int i = 0; i < 3; i++)
		add(t, "index:12345", 0x2000 + (uint64_t)i);
	add(t, "once", 0x3000);
	scan_top_add(t, "bin\0ary", 7, 0x4000);
	scan_top_add(t, "bin\0ary", 7, 0x4001);
	scan_top_add(t, "bin", 3, 0x5000);
	n = scan_top_result(t, e, 10);
	is_u64(n, 5, "exact: 5 distinct strings");
	ok(n == 5 && !strcmp(e[0].text, "user_session id=1") && e[0].count == 5 && e[0].error == 0 &&
	   e[0].first_addr == 0x1000, "exact: best first, count, no error, first address");
	ok(n == 5 && !strcmp(e[1].text, "index:12345") && e[1].count == 3, "exact: second");
	ok(n == 5 && e[2].len == 7 && !memcmp(e[2].text, "bin\0ary", 7) && e[2].count == 2,
	   "exact: strings with NUL bytes are counted by their length");
	ok(n == 5 && e[3].count == 1 && e[4].count == 1 && e[3].first_addr < e[4].first_addr,
	   "exact: ties ordered by first address");
	is_u64(scan_top_total(t), 12, "total: every string added");
	is_u64(scan_top_result(t, e, 2), 2, "result: at most n entries");
	scan_top_free(t);

	/* random stream under capacity: exact counts */
	{
		static uint64_t truth[500];
		struct scan_top_entry *all = calloc(600, sizeof(*all));
		int good = 1;
		t = scan_top_new(600);
		rng_state = 1;
		for (int i = 0; i < 20000; i++) {
			char s[32];
			uint64_t k = rng() % 500;
			k = k * k / 500;                     /* skewed */
			truth[k]++;
			snprintf(s, sizeof(s), "key-%llu", (unsigned long long)k);
			add(t, s, (uint64_t)i);
		}
		n = scan_top_result(t, all, 600);
		for (size_t i = 0; i < n; i++) {
			unsigned long long k = strtoull(all[i].text + 4, NULL, 10);
			if (all[i].count != truth[k] || all[i].error)
				good = 0;
			if (i && all[i].count > all[i - 1].count)
				good = 0;
		}
		ok(good && n > 200, "20000 adds of %zu distinct keys under capacity: exact, sorted", n);
		free(all);
		scan_top_free(t);
	}
}

/* Space-Saving with capacity 16: a heavy hitter among 10,000 distinct strings. */
static void test_heavy(void)
{
	struct scan_top *t = scan_top_new(16);
	struct scan_top_entry e[16];
	uint64_t heavy = 0, sum = 0;
	size_t n;
	int bounds = 1;

	for (int i = 0; i < 10000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "distinct-%d", i);
		add(t, s, 0x10000 + (uint64_t)i);
		if (i % 3 == 0) {
			add(t, "user_session id=# token=# role=viewer", 0x20000 + (uint64_t)i);
			heavy++;
		}
	}
	n = scan_top_result(t, e, 16);
	is_u64(n, 16, "capacity 16: 16 entries kept");
	ok(!strcmp(e[0].text, "user_session id=# token=# role=viewer"), "the heavy hitter stays first");
	ok(e[0].count >= heavy && e[0].count - e[0].error <= heavy,
	   "heavy hitter: count %llu - error %llu <= true %llu <= count", (unsigned long long)e[0].count,
	   (unsigned long long)e[0].error, (unsigned long long)heavy);
	for (size_t i = 0; i < n; i++) {
		sum += e[i].count;
		if (i && e[i].count - e[i].error > 1)   /* the others occur once */
			bounds = 0;
		if (e[i].count < 1)
			bounds = 0;
	}
	ok(bounds, "every other entry: count - error <= 1 <= count");
	is_u64(sum, scan_top_total(t), "Space-Saving: the counts add up to the stream length");
	scan_top_free(t);

	/* a skewed random stream at small capacity: every reported entry within its bounds */
	{
		static uint64_t truth[5000];
		struct scan_top_entry top[64];
		int good = 1;
		t = scan_top_new(64);
		rng_state = 2;
		for (int i = 0; i < 200000; i++) {
			char s[32];
			uint64_t k = rng() % 5000;
			k = (k * k / 5000) * k / 5000;       /* cubic skew: a few very frequent keys */
			truth[k]++;
			snprintf(s, sizeof(s), "k%llu", (unsigned long long)k);
			add(t, s, (uint64_t)i);
		}
		n = scan_top_result(t, top, 64);
		for (size_t i = 0; i < n; i++) {
			unsigned long long k = strtoull(top[i].text + 1, NULL, 10);
			if (top[i].count < truth[k] || top[i].count - top[i].error > truth[k])
				good = 0;
		}
		ok(good, "200000 skewed adds at capacity 64: count - error <= true <= count for all");
		ok(n && !strcmp(top[0].text, "k0"), "the most frequent key is first (%s)", n ? top[0].text : "");
		scan_top_free(t);
	}
}

/* The Space-Saving of scan_top.c spelled out naively: the victim is the entry with the
 * smallest count that reached it last (the head of its bucket), a new entry starts at
 * (largest count removed) + 1.  Short keys only (no arena pressure). */
struct model_entry {
	char key[16];
	uint64_t count, error, first, stamp;
};

struct model {
	struct model_entry e[16];
	size_t n, cap;
	uint64_t floor, clock;
	int evicted;
};

static void model_add(struct model *m, const char *key, uint64_t addr)
{
	size_t v = 0;
	uint64_t c;

	for (size_t i = 0; i < m->n; i++) {
		if (!strcmp(m->e[i].key, key)) {
			m->e[i].count++;
			m->e[i].stamp = ++m->clock;
			return;
		}
	}
	if (m->n == m->cap) {
		for (size_t i = 1; i < m->n; i++)
			if (m->e[i].count < m->e[v].count ||
			    (m->e[i].count == m->e[v].count && m->e[i].stamp > m->e[v].stamp))
				v = i;
		if (m->e[v].count > m->floor)
			m->floor = m->e[v].count;
		m->evicted = 1;
		m->e[v] = m->e[--m->n];
	}
	c = m->evicted ? m->floor + 1 : 1;
	snprintf(m->e[m->n].key, sizeof(m->e[m->n].key), "%s", key);
	m->e[m->n].count = c;
	m->e[m->n].error = c - 1;
	m->e[m->n].first = addr;
	m->e[m->n].stamp = ++m->clock;
	m->n++;
}

static int model_cmp(const void *a, const void *b)
{
	const struct model_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->error != y->error)
		return x->error < y->error ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* The table's entries are the model's, in the model's order (checks: entries compared). */
static int model_matches(struct scan_top *t, struct model *m, int *checks)
{
	struct scan_top_entry e[16];
	size_t n = scan_top_result(t, e, 16);
	int good = n == m->n;

	qsort(m->e, m->n, sizeof(m->e[0]), model_cmp);
	for (size_t i = 0; i < n && i < m->n; i++, (*checks)++)
		good &= !strcmp(e[i].text, m->e[i].key) && e[i].count == m->e[i].count &&
			e[i].error == m->e[i].error && e[i].first_addr == m->e[i].first;
	return good;
}

/* Runs of one key (the shapes of a run of records) are counted as one add with repeats:
 * the same entries, counts, errors and order as adding them one by one in the model. */
static void test_repeats(void)
{
	int good = 1, checks = 0;

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct model m = { .cap = 16 };
		struct scan_top *t = scan_top_new(16);
		struct scan_top_entry e[16];
		size_t n;
		uint64_t addr = 0;

		rng_state = seed;
		for (int i = 0; i < 3000; i++) {
			char s[16];
			uint64_t k = rng() % 40, run = 1 + rng() % (seed % 2 ? 6 : 2);
			k = k * k / 40;
			snprintf(s, sizeof(s), "k%llu", (unsigned long long)k);
			for (uint64_t r = 0; r < run; r++, addr++) {
				add(t, s, addr);
				model_add(&m, s, addr);
			}
			if (i % 997 == 0) {           /* results mid-stream drain the queue */
				n = scan_top_result(t, e, 16);
				good &= n == m.n;
			}
		}
		good &= model_matches(t, &m, &checks);
		good &= scan_top_total(t) == addr;
		scan_top_free(t);
	}
	ok(good && checks == 40 * 16, "runs of one key: the same table as adding one by one (40 streams)");

	{
		char a[300], b[300];
		struct scan_top *t = scan_top_new(8);
		struct scan_top_entry e[4];
		size_t n;
		memset(a, 'R', sizeof(a));
		memcpy(b, a, sizeof(b));
		b[280] = 'S';                        /* the same first 256 bytes */
		scan_top_add(t, a, sizeof(a), 1);
		scan_top_add(t, b, sizeof(b), 2);
		scan_top_add(t, a, 256, 3);          /* 256 bytes: another key */
		scan_top_add(t, a, 256, 4);
		scan_top_add(t, a, 257, 5);
		n = scan_top_result(t, e, 4);
		ok(n == 2 && e[0].count == 3 && e[0].len == 259 && e[0].first_addr == 1 &&
		   e[1].count == 2 && e[1].len == 256 && e[1].first_addr == 3,
		   "runs of long keys: counted by their cut keys");
		scan_top_free(t);
	}
}

static void test_long_strings(void)
{
	char a[400], b[400];
	struct scan_top *t = scan_top_new(32);
	struct scan_top_entry e[4];
	size_t n;

	memset(a, 'C', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[300] = 'D';                                /* differs after the first 256 bytes */
	scan_top_add(t, a, sizeof(a), 1);
	scan_top_add(t, b, sizeof(b), 2);
	scan_top_add(t, a, 257, 3);
	scan_top_add(t, a, 256, 4);                  /* exactly 256: not truncated */
	n = scan_top_result(t, e, 4);
	ok(n == 2 && e[0].count == 3 && e[0].len == 259 && !memcmp(e[0].text + 256, "...", 3) &&
	   e[0].text[259] == '\0', "strings over 256 bytes: counted by their first 256, marked \"...\"");
	ok(n == 2 && e[1].len == 256 && e[1].count == 1, "a 256-byte string is kept whole");
	scan_top_free(t);

	/* arena pressure: 16 entries of 259 bytes do not fit in 16 * 64 bytes */
	{
		char s[300];
		uint64_t heavy = 0;
		int good;
		t = scan_top_new(16);
		for (int i = 0; i < 5000; i++) {
			memset(s, 'a' + i % 26, sizeof(s));
			snprintf(s, 20, "%08d", i);
			s[8] = 'x';
			scan_top_add(t, s, sizeof(s), (uint64_t)i);
			if (i % 2 == 0) {
				memset(s, 'H', sizeof(s));
				scan_top_add(t, s, sizeof(s), (uint64_t)i);
				heavy++;
			}
		}
		n = scan_top_result(t, e, 4);
		good = n >= 1 && e[0].text[0] == 'H' && e[0].count >= heavy && e[0].count - e[0].error <= heavy;
		ok(good, "long strings filling the arena: the heavy hitter stays first within its bounds (%llu, %llu)",
		   n ? (unsigned long long)e[0].count : 0ULL, n ? (unsigned long long)e[0].error : 0ULL);
		ok(n >= 2 && e[1].count - e[1].error <= 1, "long strings: the others within their bounds");
		scan_top_free(t);
	}
}

static void test_shapes(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "user_session id=48211 token=8f3a2c1d role=viewer", "user_session id=# token=# role=viewer" },
		{ "index:12345", "index:#" },
		{ "cafe", "cafe" },
		{ "v2", "v#" },
		{ "0xdeadbeef", "#" },
		{ "0XFF00", "#" },
		{ "deadbeef", "#" },           /* 8+ hex letters: an id without digits */
		{ "defaced", "defaced" },       /* 7 hex letters: a word */
		{ "abc123", "#" },
		{ "x86_64", "x#_#" },
		{ "0x", "#x" },
		{ "0xgg1", "#xgg#" },
		{ "GET /api/v1/items/9913 HTTP/1.1", "GET /api/v#/items/# HTTP/#.#" },
		{ "2024-05-17T10:22:31Z", "#-#-#T#:#:#Z" },
		{ "", "" },
		{ "\xc3\xa9t\xc3\xa9 42", "\xc3\xa9t\xc3\xa9 #" },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = scan_shape(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		is_str(out, cases[i].out, "shape of \"%s\"", cases[i].in);
		is_u64(n, strlen(cases[i].out), "shape of \"%s\": its length returned", cases[i].in);
	}
	is_u64(scan_shape("abc 12345 def", 13, out, 6), 5, "shape: cut to outlen - 1");
	is_str(out, "abc #", "shape: the cut text");
	is_u64(scan_shape("abc", 3, out, 0), 0, "shape: outlen 0 writes nothing");
	{
		char big[3000], small[16];
		memset(big, '7', sizeof(big));
		big[1500] = ' ';
		is_u64(scan_shape(big, sizeof(big), small, sizeof(small)), 3, "shape of a long text into a small buffer");
		is_str(small, "# #", "long text: digit runs collapse before the cut");
	}
}

/* Shapes spelled out from their definition (scan.h), byte by byte: the reference for the
 * SSE2 paths of scan_shape. */
static int ref_class(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
		return 2;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 4;
	return 0;
}

static size_t ref_shape(const unsigned char *p, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		size_t j = i;
		int kinds = 0, hex = 1;
		if (!ref_class(p[i])) {
			out[o++] = (char)p[i++];
			continue;
		}
		while (j < len && ref_class(p[j]))
			kinds |= ref_class(p[j++]);
		if ((!(kinds & 4) && ((kinds & 1) || j - i >= 8)) ||
		    (j - i >= 3 && p[i] == '0' && (p[i + 1] | 0x20) == 'x' && (kinds & 4))) {
			for (size_t k = i + 2; k < j && (kinds & 4); k++)
				hex &= ref_class(p[k]) != 4;
			if (hex) {
				out[o++] = '#';
				i = j;
				continue;
			}
		}
		for (; i < j; i++) {
			if (ref_class(p[i]) == 1 && (kinds & 1)) {
				out[o++] = '#';
				while (i + 1 < j && ref_class(p[i + 1]) == 1)
					i++;
			} else {
				out[o++] = (char)p[i];
			}
		}
	}
	return o;
}

/* scan_shape's SSE2 paths (up to 64 bytes: one mask word; up to 256) against the reference
 * on random texts of every length to 300, each placed against an unmapped page so a read
 * past its end faults. */
static void test_shape_paths(void)
{
	static const char alpha[] = "0123456789abcdefABCDEFxXghzZ_ =:-./";
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int good = 1, tried = 0;

	if (map == MAP_FAILED || mprotect(map + pg, (size_t)pg, PROT_NONE)) {
		ok(0, "shape paths: no guard page");
		return;
	}
	rng_state = 7;
	for (size_t len = 0; len <= 300; len++) {
		/* up to 64 bytes (one bit mask): more texts, for the mask arithmetic */
		for (int rep = 0; rep < (len <= 64 ? 600 : 60); rep++, tried++) {
			unsigned char *p = map + pg - len;
			char got[600], want[600];
			size_t gn, wn;
			for (size_t i = 0; i < len; i++) {
				uint64_t r = rng();
				/* runs of one class are what shapes are about: repeat the last byte often */
				p[i] = i && r % 3 == 0 ? p[i - 1] : (unsigned char)alpha[r % (sizeof(alpha) - 1)];
				if (r % 97 == 0)
					p[i] = (unsigned char)(r >> 8);      /* any byte now and then */
			}
			gn = scan_shape((const char *)p, len, got, sizeof(got));
			wn = ref_shape(p, len, want);
			if (gn != wn || memcmp(got, want, wn) || got[gn] != '\0') {
				if (good)
					printf("# shape of %zu bytes '%.*s': got '%s', want '%.*s'\n", len,
					       (int)len, (const char *)p, got, (int)wn, want);
				good = 0;
			}
		}
	}
	ok(good, "shape: the %s paths equal the byte-by-byte definition (%d texts, 0..300 bytes, at a page end)",
	   scan_shape_avx512 ? "AVX-512 and SSE2" : "SSE2", tried);
	munmap(map, (size_t)pg * 2);
}

/* The counting thread: the same table as direct adds.  Texts handed over by pointer live
 * in a buffer that is overwritten right after each settle (as memread reuses its bounce
 * buffer), texts not marked as staying are overwritten at once; long strings, repeats,
 * many batches and an overflowing table are all in the stream. */
static void test_worker(void)
{
	struct scan_top *direct = scan_top_new(512), *threaded = scan_top_new(512);
	struct scan_top_worker *w = scan_top_worker_new(threaded);
	struct scan_top_entry a[40], b[40];
	char *chunk = malloc(1 << 16), scratch[600];
	size_t na, nb, added = 0;
	int good = 1;

	if (!w) {
		ok(0, "worker: the thread starts");
		scan_top_free(direct);
		scan_top_free(threaded);
		free(chunk);
		return;
	}
	rng_state = 11;
	for (int round = 0; round < 300; round++) {
		size_t used = 0;
		while (used + 600 < (1 << 16)) {
			uint64_t r = rng();
			size_t len;
			int stays = (r & 3) != 0;
			char *text = stays ? chunk + used : scratch;
			if (r % 97 == 0) {              /* longer than the key: cut the same way */
				len = 257 + (size_t)(r >> 8) % 300;
				memset(text, 'a' + (int)((r >> 20) % 3), len);
			} else {
				len = (size_t)snprintf(text, 600, "%s id=%llu", (r >> 9) % 5 ? "k" : "heavy",
						       (unsigned long long)((r >> 12) % ((r >> 40) % 2 ? 50 : 5000)));
			}
			scan_top_add(direct, text, len, added);
			scan_top_worker_add(w, text, len, added, stays);
			memset(scratch, 'X', sizeof(scratch));   /* the copy was taken */
			if (stays)
				used += len;
			added++;
		}
		scan_top_worker_settle(w, scan_top_worker_mark(w));
		memset(chunk, 'Y', 1 << 16);        /* the buffer is the caller's again */
	}
	scan_top_worker_finish(w);
	na = scan_top_result(direct, a, 40);
	nb = scan_top_result(threaded, b, 40);
	good = na == nb && na == 40 && scan_top_total(direct) == scan_top_total(threaded) &&
	       scan_top_total(direct) == added;
	for (size_t i = 0; good && i < na; i++)
		good = a[i].len == b[i].len && !memcmp(a[i].text, b[i].text, a[i].len) &&
		       a[i].count == b[i].count && a[i].error == b[i].error &&
		       a[i].first_addr == b[i].first_addr;
	ok(good, "worker: %zu adds over 300 marks settled give the table direct adds give (top 40 equal)", added);
	{
		struct scan_top_entry *all = calloc(512, sizeof(*all));
		size_t n = scan_top_result(direct, all, 512), errs = 0;
		for (size_t i = 0; i < n; i++)
			errs += all[i].error != 0;
		ok(n == 512 && errs > 0, "worker: the stream overflowed the table (%zu of %zu with an error)", errs, n);
		free(all);
	}
	scan_top_free(direct);
	scan_top_free(threaded);
	free(chunk);
}

/* copy_short and equal_short against memcpy and memcmp, every length to 80 and offsets. */
/* Calls on the counting thread, and the same work done by the caller when the counter is
 * behind: whichever runs it, every call is made once, in order. */
struct call_log {
	uint64_t *seen;
	size_t n;
};

static void log_call(void *ctx, uint64_t addr, const unsigned char *buf, uint64_t len)
{
	struct call_log *l = ctx;
	(void)buf;
	(void)len;
	l->seen[l->n++] = addr;
}

static void test_worker_calls(void)
{
	struct scan_top *t = scan_top_new(65536);
	struct scan_top_worker *w = scan_top_worker_new(t);
	struct call_log l = { calloc(200, sizeof(uint64_t)), 0 };
	size_t here = 0, there = 0;
	int good = 1;
	char *text;

	if (!w) {
		ok(0, "worker calls: the thread starts");
		scan_top_free(t);
		free(l.seen);
		return;
	}
	/* a call per 20000 strings, as the histogram comes once per 1 MiB buffer of records; the strings
	 * made beforehand and handed over by pointer, so the counter falls behind */
	text = malloc(100 * 10000 * 32);
	for (size_t i = 0; i < 100 * 10000; i++)
		snprintf(text + i * 32, 32, "user_session id=%zu", i);
	for (uint64_t i = 0; i < 200 && (i < 50 || !here || !there); i++) {
		for (size_t k = (i % 50) * 20000; k < (i % 50 + 1) * 20000; k++)
			scan_top_worker_add(w, text + k * 32, strlen(text + k * 32), k, 1);
		if (i % 5 == 4)
			scan_top_worker_settle(w, scan_top_worker_mark(w));   /* caught up */
		if (scan_top_worker_behind(w)) {
			log_call(&l, i, NULL, 0);
			here++;
		} else {
			scan_top_worker_call(w, log_call, &l, i, NULL, 0);
			there++;
		}
	}
	scan_top_worker_finish(w);
	free(text);
	good = l.n == here + there;
	for (size_t i = 0; good && i < l.n; i++)
		good = l.seen[i] == i;
	ok(good && here && there, "worker calls: %zu made once each, in order (%zu on the thread, %zu by the caller)",
	   l.n, there, here);
	scan_top_free(t);
	free(l.seen);
}

static void test_short_ops(void)
{
	unsigned char src[160], dst[160], ref[160], other[160];
	int good = 1;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= 80 && good; n++)
		for (size_t off = 0; off < 8 && good; off++) {
			memset(dst, 0xee, sizeof(dst));
			memset(ref, 0xee, sizeof(ref));
			copy_short(dst + off, src + off, n);
			memcpy(ref + off, src + off, n);
			good = !memcmp(dst, ref, sizeof(dst));
			memcpy(other, src, sizeof(src));
			good = good && equal_short(other + off, src + off, n);
			for (size_t k = 0; k < n && good; k++) {
				other[off + k] ^= 0x40;
				good = !equal_short(other + off, src + off, n);
				other[off + k] ^= 0x40;
			}
		}
	ok(good, "copy_short and equal_short: as memcpy and memcmp for 0..80 bytes at 8 offsets");
}

/* Keys that all hash to the first group of slots (a table of capacity 16 has 64 slots in
 * 8 groups of 8; the group is the low 3 bits of XXH3), so groups fill, probes pass full
 * groups, slots freed there become GONE and the groups are rebuilt: the entries, counts,
 * errors and order are still the model's. */
static void test_groups(void)
{
	char keys[200][16];
	int good = 1, checks = 0;
	uint64_t rebuilds = 0;

	for (unsigned i = 0, n = 0; n < 200; i++) {
		char s[16];
		snprintf(s, sizeof(s), "g%u", i);
		if ((XXH3_64bits(s, strlen(s)) & 7) == 0)
			memcpy(keys[n++], s, sizeof(s));
	}
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct model m = { .cap = 16 };
		struct scan_top *t = scan_top_new(16);

		rng_state = seed;
		for (uint64_t i = 0; i < 20000; i++) {
			uint64_t k = rng() % 200;
			k = seed % 2 ? k * k / 200 : k;
			add(t, keys[k], i);
			model_add(&m, keys[k], i);
		}
		good &= model_matches(t, &m, &checks);
		rebuilds += scan_top_rebuilds(t);
		scan_top_free(t);
	}
	ok(good && checks == 10 * 16, "keys of one group: the model's table (10 streams)");
	ok(rebuilds > 0, "keys of one group: the groups were rebuilt (%llu times)",
	   (unsigned long long)rebuilds);
}

int main(void)
{
	test_exact();
	test_heavy();
	test_repeats();
	test_groups();
	test_long_strings();
	test_shapes();
	test_shape_paths();             /* AVX-512 where the processor has it */
	if (scan_shape_avx512) {
		scan_shape_avx512 = 0;
		test_shape_paths();
		scan_shape_avx512 = 1;
	} else {
		ok(1, "# SKIP no AVX-512 here: the SSE2 paths only");
	}
	test_worker();
	test_worker_calls();
	test_short_ops();
	return done_testing();
}
