/* Unit tests of scan_grep: matches across chunk boundaries found once, holes, errors,
 * limits, and agreement with `grep -o -b -a -P` on a generated file. */
#include "tap.h"
#include "scan.h"

#include <stdint.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Matches as "offset:text\n" lines (like grep -o -b), empty matches left out. */
struct out {
	char *buf;
	size_t len, cap, calls, empty, longest;
	uint64_t base;
};

static void on_match(void *ctx, uint64_t addr, const unsigned char *text, size_t len)
{
	struct out *o = ctx;
	char head[32];
	int n;

	o->calls++;
	if (len > o->longest)
		o->longest = len;
	if (!len) {
		o->empty++;
		return;
	}
	n = snprintf(head, sizeof(head), "%llu:", (unsigned long long)(addr - o->base));
	if (o->len + (size_t)n + len + 2 > o->cap) {
		o->cap = (o->len + (size_t)n + len + 2) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (!o->buf)
			exit(1);
	}
	memcpy(o->buf + o->len, head, (size_t)n);
	o->len += (size_t)n;
	memcpy(o->buf + o->len, text, len);
	o->len += len;
	o->buf[o->len++] = '\n';
	o->buf[o->len] = '\0';
}

static struct scan_grep *mk(const char *pattern, struct out *o, size_t max)
{
	char err[256];
	struct scan_grep_opts opts = { .pattern = pattern, .max_matches = max, .match = on_match, .ctx = o };
	struct scan_grep *g = scan_grep_new(&opts, err, sizeof(err));

	if (!g)
		printf("Bail out! pattern %s: %s\n", pattern, err);
	return g;
}

/* Feed d in chunks (0: random sizes 1..20000) at base. */
static uint64_t run(const char *pattern, const unsigned char *d, size_t n, size_t chunk, uint64_t base,
		    struct out *o)
{
	struct scan_grep *g;
	uint64_t count, saved = rng_state;

	memset(o, 0, sizeof(*o));
	o->base = base;
	g = mk(pattern, o, 100000000);
	if (!g)
		exit(1);
	rng_state = 17;
	for (size_t off = 0; off < n;) {
		size_t c = chunk ? chunk : 1 + (size_t)(rng() % 20000);
		if (c > n - off)
			c = n - off;
		scan_grep_feed(g, base + off, d + off, c);
		off += c;
	}
	rng_state = saved;
	scan_grep_finish(g);
	count = scan_grep_count(g);
	scan_grep_free(g);
	if (!o->buf) {
		o->buf = malloc(1);
		o->buf[0] = '\0';
	}
	return count;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_boundary(void)
{
	static const char text[] = "xx user_session id=48211 token=8f3a2c1d yy";
	size_t n = sizeof(text) - 1;
	int all = 1;

	/* every split point, two chunks */
	for (size_t cut = 0; cut <= n; cut++) {
		struct out o = { .base = 0x1000 };
		struct scan_grep *g = mk("user_session id=\\d+", &o, 0);
		if (cut)
			scan_grep_feed(g, 0x1000, (const unsigned char *)text, cut);
		if (cut < n)
			scan_grep_feed(g, 0x1000 + cut, (const unsigned char *)text + cut, n - cut);
		scan_grep_finish(g);
		if (scan_grep_count(g) != 1 || !o.buf || strcmp(o.buf, "3:user_session id=48211\n")) {
			all = 0;
			printf("# split at %zu: %llu matches: %s\n", cut, (unsigned long long)scan_grep_count(g),
			       o.buf ? o.buf : "");
		}
		free(o.buf);
		scan_grep_free(g);
	}
	ok(all, "a match across a chunk boundary is found once, whole, at its address (every split point)");

	/* one byte at a time, a greedy match that could go on */
	{
		struct out o;
		uint64_t c = run("\\d+", (const unsigned char *)"a12345b678", 10, 1, 0, &o);
		is_u64(c, 2, "one byte per chunk: greedy \\d+ matches are not cut");
		is_str(o.buf, "1:12345\n7:678\n", "one byte per chunk: the whole numbers, the last at the end of data");
		free(o.buf);
	}
	/* lookbehind into the previous chunk */
	{
		struct out o;
		run("(?<=id=)\\d+", (const unsigned char *)"id=42 xid=7", 11, 3, 0, &o);
		is_str(o.buf, "3:42\n10:7\n", "lookbehind sees the bytes of the previous chunk");
		free(o.buf);
	}
	/* a match that ends exactly at a chunk end, then more of it */
	{
		struct scan_grep *g;
		struct out o = { 0 };
		g = mk("ab+c?", &o, 0);
		scan_grep_feed(g, 0, (const unsigned char *)"xxab", 4);
		scan_grep_feed(g, 4, (const unsigned char *)"bbc--ab", 7);
		scan_grep_finish(g);
		is_str(o.buf, "2:abbbc\n9:ab\n", "a match that could grow is held until the next chunk or the end");
		free(o.buf);
		scan_grep_free(g);
	}
}

static void test_holes(void)
{
	struct out o = { 0 };
	struct scan_grep *g = mk("id=\\d+", &o, 0);

	scan_grep_feed(g, 0x1000, (const unsigned char *)"a id=1", 6);
	scan_grep_hole(g, 0x1006, 4096);
	scan_grep_feed(g, 0x2006, (const unsigned char *)"23 id=2", 7);     /* "id=1" + hole + "23": no */
	scan_grep_hole(g, 0x200d, 10);
	scan_grep_feed(g, 0x2017, (const unsigned char *)"id=", 3);
	scan_grep_feed(g, 0x3000, (const unsigned char *)"9 id=3", 6);      /* a gap is a hole */
	scan_grep_finish(g);
	is_u64(scan_grep_count(g), 3, "holes: three matches, none across a hole");
	is_str(o.buf, "4098:id=1\n8201:id=2\n12290:id=3\n", "holes: addresses and texts");
	free(o.buf);
	scan_grep_free(g);
}

static void test_errors_and_limits(void)
{
	char err[256] = "";
	struct scan_grep_opts opts = { .pattern = "user_(session" };
	struct scan_grep *g = scan_grep_new(&opts, err, sizeof(err));

	ok(g == NULL, "a bad pattern: NULL");
	ok(strstr(err, "missing closing parenthesis") && strstr(err, "offset 13"),
	   "a bad pattern: the message says what and where (%s)", err);
	opts.pattern = "(*UTF)abc";
	g = scan_grep_new(&opts, err, sizeof(err));
	ok(g == NULL && err[0], "(*UTF) is refused: binary data (%s)", err);

	{
		struct out o;
		unsigned char d[3000];
		uint64_t c;
		for (size_t i = 0; i < sizeof(d); i++)
			d[i] = i % 10 == 9 ? ' ' : 'x';
		memset(&o, 0, sizeof(o));
		g = mk("x+", &o, 5);
		scan_grep_feed(g, 0, d, sizeof(d));
		scan_grep_finish(g);
		ok(scan_grep_count(g) == 300 && o.calls == 5, "max_matches: 5 reported, all 300 counted");
		scan_grep_free(g);
		free(o.buf);
		memset(d, '7', sizeof(d));
		c = run("\\d+", d, sizeof(d), 1000, 0, &o);
		ok(c == 1 && o.longest == 256, "a long match: found once, its text capped at 256 bytes");
		free(o.buf);
	}
	{
		struct out o = { 0 };
		struct scan_grep_opts co = { .pattern = "leak", .caseless = 1, .match = on_match, .ctx = &o };
		g = scan_grep_new(&co, err, sizeof(err));
		scan_grep_feed(g, 0, (const unsigned char *)"LEAK Leak leak", 14);
		scan_grep_finish(g);
		is_u64(scan_grep_count(g), 3, "caseless");
		free(o.buf);
		scan_grep_free(g);
	}
	{
		/* empty matches advance by one, the same whatever the chunking */
		struct out o;
		uint64_t whole = run("x*", (const unsigned char *)"abxxc", 5, 5, 0, &o), one;
		free(o.buf);
		one = run("x*", (const unsigned char *)"abxxc", 5, 1, 0, &o);
		ok(whole == 5 && one == 5 && !strcmp(o.buf, "2:xx\n"), "empty matches advance by one (%llu, %llu)",
		   (unsigned long long)whole, (unsigned long long)one);
		free(o.buf);
	}
	{
		/* NUL and high bytes are just bytes */
		struct out o;
		run("\\x00\\xff.", (const unsigned char *)"a\0\xff" "b\0\xff", 6, 2, 0, &o);
		is_str(o.buf, "1:\0\xff" "b\n", "binary bytes match");
		free(o.buf);
	}
}

static void test_against_grep(void)
{
	char dir[] = "/tmp/t_scan_grep_XXXXXX", path[64];
	size_t n = 3u << 20, o = 0;
	unsigned char *d = malloc(n);
	FILE *fp;
	static const char *patterns[] = { "user_session id=\\d+", "\\d+", "token=[0-9a-f]{4,}\\b",
					  "(?<=id=)\\d+", "[a-z]+_[a-z]+ id", "ab|abcd" };
	static const size_t chunks[] = { 1, 7, 4096, 4097, 0, SIZE_MAX };

	rng_state = 4;
	while (o < n) {
		unsigned kind = (unsigned)(rng() % 5);
		char rec[128];
		size_t k;
		if (kind == 0) {
			k = (size_t)snprintf(rec, sizeof(rec), "user_session id=%llu token=%08llx role=viewer%c",
					     (unsigned long long)(rng() % 1000000), (unsigned long long)(rng() >> 32),
					     rng() % 2 ? '\n' : '\0');
			if (k > n - o)
				k = n - o;
			memcpy(d + o, rec, k);
		} else if (kind == 1) {
			k = 1 + rng() % 200;
			if (k > n - o)
				k = n - o;
			for (size_t i = 0; i < k; i++)
				d[o + i] = (unsigned char)rng();
		} else if (kind == 2) {
			k = 1 + rng() % 300;
			if (k > n - o)
				k = n - o;
			for (size_t i = 0; i < k; i++)
				d[o + i] = (unsigned char)('0' + i % 10);
		} else if (kind == 3) {
			k = 1 + rng() % 2000;
			if (k > n - o)
				k = n - o;
			memset(d + o, 0, k);
		} else {
			k = (size_t)snprintf(rec, sizeof(rec), "abcd ab abc %llu\n", (unsigned long long)rng() % 100);
			if (k > n - o)
				k = n - o;
			memcpy(d + o, rec, k);
		}
		o += k;
	}
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/g.bin", dir);
	fp = fopen(path, "wb");
	if (!fp || fwrite(d, 1, n, fp) != n || fclose(fp)) {
		printf("Bail out! write %s\n", path);
		exit(1);
	}
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		char cmd[512], *want, *cut;
		size_t wl, w = 0;
		int all = 1;

		/* grep -o -b prints every match with its byte offset; texts cut at 256 like ours */
		snprintf(cmd, sizeof(cmd), "LC_ALL=C grep -o -b -a -P '%s' '%s'", patterns[p], path);
		want = tap_run_cmd(cmd, &wl, 1);
		if (!want) {
			ok(0, "ran %s", cmd);
			continue;
		}
		cut = malloc(wl + 1);
		for (char *line = want; line < want + wl;) {
			char *nl = memchr(line, '\n', (size_t)(want + wl - line)), *colon = memchr(line, ':', (size_t)(nl - line));
			size_t text = (size_t)(nl - colon - 1);
			memcpy(cut + w, line, (size_t)(colon + 1 - line));
			w += (size_t)(colon + 1 - line);
			memcpy(cut + w, colon + 1, text < 256 ? text : 256);
			w += text < 256 ? text : 256;
			cut[w++] = '\n';
			line = nl + 1;
		}
		cut[w] = '\0';
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			struct out out;
			size_t ch = chunks[c] == SIZE_MAX ? n : chunks[c];
			run(patterns[p], d, n, ch, 0x7f0000000000ULL, &out);
			if (strcmp(out.buf, cut)) {
				all = 0;
				printf("# chunks of %zu differ\n", ch);
			}
			free(out.buf);
		}
		ok(all && w > 1000, "'%s': the matches of grep -o -b -a -P, chunks of 1, 7, 4096, 4097, random, whole",
		   patterns[p]);
		free(want);
		free(cut);
	}
	unlink(path);
	rmdir(dir);
	free(d);
}

int main(void)
{
	test_boundary();
	test_holes();
	test_errors_and_limits();
	test_against_grep();
	return done_testing();
}
