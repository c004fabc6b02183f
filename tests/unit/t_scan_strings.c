/* Unit tests of scan_strings: chunk boundaries, holes, UTF-16LE, UTF-8, long strings, and
 * byte-for-byte agreement with GNU strings(1) on generated files. */
#include "tap.h"
#include "scan.h"

#include <stdint.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	int with_addr;                  /* "%7llx " before each string, as strings -t x */
	int only_enc;                   /* 0: all */
	int have;
	uint64_t last_end;
	enum scan_enc last_enc;
	size_t emits, not_nul_terminated, pieces;
};

static void out_put(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (!o->buf)
			exit(1);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Pieces of one long string are joined: a piece continues the previous one when it has the
 * same encoding and starts where that one ended (the documented contract). */
static int borrowed_mode;                /* run() with opts.borrowed */

static void out_emit(void *ctx, uint64_t addr, const char *text, size_t len, enum scan_enc enc)
{
	struct out *o = ctx;
	int cont = o->have && addr == o->last_end && enc == o->last_enc;

	if (o->only_enc && enc != (enum scan_enc)o->only_enc)
		return;
	o->emits++;
	if (!borrowed_mode && text[len] != '\0')
		o->not_nul_terminated++;
	if (cont) {
		o->pieces++;
	} else {
		if (o->have)
			out_put(o, "\n", 1);
		if (o->with_addr) {
			char a[32];
			int n = snprintf(a, sizeof(a), "%7llx ", (unsigned long long)addr);
			out_put(o, a, (size_t)n);
		}
	}
	out_put(o, text, len);
	o->have = 1;
	o->last_end = addr + len * (enc == SCAN_ENC_UTF16LE ? 2 : 1);
	o->last_enc = enc;
}

static void out_end(struct out *o)
{
	if (o->have)
		out_put(o, "\n", 1);
	if (!o->buf)
		out_put(o, "", 0);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* chunk: bytes per feed; 0: random sizes 1..9000 */
static void feed_all(struct scan_strings *s, uint64_t base, const unsigned char *d, size_t n, size_t chunk)
{
	uint64_t saved = rng_state;

	rng_state = 12345;
	for (size_t off = 0; off < n;) {
		size_t c = chunk ? chunk : 1 + (size_t)(rng() % 9000);
		if (c > n - off)
			c = n - off;
		scan_strings_feed(s, base + off, d + off, c);
		off += c;
	}
	rng_state = saved;
}

static char *run(const unsigned char *d, size_t n, size_t chunk, int enc, int gnu, size_t min,
		 int with_addr, struct out *stats)
{
	struct out o = { .with_addr = with_addr };
	struct scan_strings_opts opts = { .min_len = min, .encodings = enc, .gnu = gnu,
					  .emit = out_emit, .ctx = &o, .borrowed = borrowed_mode };
	struct scan_strings *s = scan_strings_new(&opts);

	feed_all(s, 0, d, n, chunk);
	scan_strings_finish(s);
	scan_strings_free(s);
	out_end(&o);
	if (stats)
		*stats = o;
	return o.buf;
}

/* Where two outputs first differ, for the diagnostics. */
static void show_diff(const char *what, const char *got, const char *want)
{
	size_t i = 0, line = 1;

	if (!got || !want)
		return;
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n')
			line++;
		i++;
	}
	if (got[i] != want[i])
		printf("#   %s: first difference at byte %zu (line %zu): got '%.40s', want '%.40s'\n",
		       what, i, line, got + i, want + i);
}

static void same(const char *got, const char *want, const char *what)
{
	int eq = got && want && !strcmp(got, want);

	ok(eq, "%s", what);
	if (!eq)
		show_diff(what, got, want);
}

/* ---- generated data ----------------------------------------------------------------------- */

static const char *words[] = { "user_session", "id=48211", "token=8f3a2c1d", "role=viewer",
	"index:12345", "GET /api/v1/items HTTP/1.1", "Content-Type: text/html", "ab", "abc",
	"abcd", "x", "\tindented", "tail~", "NaN", "{\"k\":1}" };

static void put_bytes(unsigned char *d, size_t *o, size_t cap, const void *p, size_t n)
{
	if (*o + n > cap)
		n = cap - *o;
	memcpy(d + *o, p, n);
	*o += n;
}

/* A few MB of binary, text, zeros, UTF-16LE at both alignments, UTF-8, edge bytes. */
static unsigned char *gen_mixed(size_t size, uint64_t seed)
{
	unsigned char *d = malloc(size);
	size_t o = 0;

	rng_state = seed;
	while (o < size) {
		unsigned kind = (unsigned)(rng() % 8);
		size_t n = (size_t)(rng() % 400);
		if (kind == 0) {                        /* random bytes */
			for (size_t i = 0; i < n && o < size; i++)
				d[o++] = (unsigned char)rng();
		} else if (kind == 1) {                 /* words, spaces, tabs, newlines */
			for (size_t i = 0; i < n / 8; i++) {
				const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
				put_bytes(d, &o, size, w, strlen(w));
				put_bytes(d, &o, size, rng() % 3 ? " " : rng() % 2 ? "\n" : "\0", 1);
			}
		} else if (kind == 2) {                 /* zeros */
			for (size_t i = 0; i < n * 4 && o < size; i++)
				d[o++] = 0;
		} else if (kind == 3) {                 /* UTF-16LE, odd or even start */
			const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
			if (rng() % 2 && o < size)
				d[o++] = (unsigned char)rng();
			for (size_t i = 0; w[i] && o + 1 < size; i++) {
				d[o++] = (unsigned char)w[i];
				d[o++] = 0;
			}
			if (rng() % 2 && o < size)
				d[o++] = (unsigned char)(rng() % 3 ? 0x01 : 'Q');
		} else if (kind == 4) {                 /* short runs around min_len */
			for (size_t i = 0; i < n / 4 && o < size; i++) {
				size_t run = 1 + (size_t)(rng() % 6);
				for (size_t j = 0; j < run && o < size; j++)
					d[o++] = (unsigned char)('a' + rng() % 26);
				if (o < size)
					d[o++] = (unsigned char)(rng() % 2 ? 0x7f : rng() % 2 ? 0x80 : 0x1f);
			}
		} else if (kind == 5) {                 /* UTF-8 and broken UTF-8 */
			static const char *u8[] = { "h\xc3\xa9llo", "w\xc3\xb6rld", "\xe2\x82\xac" "42",
				"\xf0\x9f\x98\x80!", "\xc2\x80" "bad", "\xed\xa0\x80" "sur", "\xc3(x",
				"\xe2\x82", "\xc0\xaf" "over", "\xf4\x90\x80\x80" "big", "\xc2\xa0nbsp" };
			for (size_t i = 0; i < n / 16; i++) {
				const char *w = u8[rng() % (sizeof(u8) / sizeof(u8[0]))];
				put_bytes(d, &o, size, w, strlen(w));
				if (rng() % 2)
					put_bytes(d, &o, size, "x", 1);
			}
		} else if (kind == 6) {                 /* UTF-16LE with a bad high byte */
			for (size_t i = 0; i < n / 2 && o + 1 < size; i++) {
				d[o++] = (unsigned char)('A' + rng() % 26);
				d[o++] = rng() % 13 ? 0 : 1;
			}
		} else {                                /* all 256 byte values */
			for (size_t i = 0; i < 256 && o < size; i++)
				d[o++] = (unsigned char)(i ^ (rng() % 2));
		}
	}
	return d;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_basic(void)
{
	static const unsigned char d[] = "hello\0wo\0world!!\x7f" "abc\tdef\x80xyz1";
	struct out st;
	char *got = run(d, sizeof(d) - 1, 0, SCAN_ENC_ASCII, 1, 4, 1, &st);

	is_str(got, "      0 hello\n      9 world!!\n     11 abc\tdef\n     19 xyz1\n",
	       "basic: strings, addresses of their first byte, tab printable, 0x7f and 0x80 not");
	is_u64(st.not_nul_terminated, 0, "basic: emitted text is NUL-terminated");
	free(got);
	got = run(d, sizeof(d) - 1, 0, SCAN_ENC_ASCII, 1, 1, 0, NULL);
	is_str(got, "hello\nwo\nworld!!\nabc\tdef\nxyz1\n", "basic: min_len 1");
	free(got);
	got = run(d, sizeof(d) - 1, 0, SCAN_ENC_ASCII, 1, 0, 0, NULL);
	is_str(got, "hello\nworld!!\nabc\tdef\nxyz1\n", "basic: min_len 0 means the default 4");
	free(got);
	got = run((const unsigned char *)"", 0, 0, SCAN_ENC_BOTH, 1, 4, 0, NULL);
	is_str(got, "", "basic: no data, no strings");
	free(got);
}

static void test_chunks(const unsigned char *d, size_t n)
{
	static const size_t sizes[] = { 1, 7, 64, 4096, 0, SIZE_MAX };
	static const struct { int enc, gnu; size_t min; const char *name; } modes[] = {
		{ SCAN_ENC_ASCII, 1, 4, "gnu ascii -n 4" }, { SCAN_ENC_ASCII, 1, 1, "gnu ascii -n 1" },
		{ SCAN_ENC_ASCII, 1, 70, "gnu ascii -n 70" }, { SCAN_ENC_UTF16LE, 1, 3, "utf-16le -n 3" },
		{ SCAN_ENC_BOTH, 1, 4, "both -n 4" }, { SCAN_ENC_BOTH, 0, 4, "utf-8 both -n 4" },
		{ SCAN_ENC_ASCII, 0, 2, "utf-8 -n 2" },
	};

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char *whole = run(d, n, n, modes[m].enc, modes[m].gnu, modes[m].min, 1, NULL);
		int all_same = 1;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t c = sizes[i] == SIZE_MAX ? n : sizes[i];
			char *got = run(d, n, c, modes[m].enc, modes[m].gnu, modes[m].min, 1, NULL);
			if (strcmp(got, whole)) {
				all_same = 0;
				printf("# chunks of %zu differ\n", c);
				show_diff("chunked", got, whole);
			}
			free(got);
		}
		ok(all_same && strlen(whole) > 1000, "chunks 1, 7, 64, 4096, random, whole: same output (%s, %zu bytes)",
		   modes[m].name, strlen(whole));
		free(whole);
	}
}

/* opts.borrowed passes strings where they are in the fed data: the same strings at the same
 * addresses as the copies, whatever the chunking (runs crossing feeds, 64-byte blocks and
 * pages), the encodings and min_len at and around the block size. */
static void test_borrowed(const unsigned char *d, size_t n)
{
	static const size_t sizes[] = { 1, 3, 63, 64, 65, 4096, 0, SIZE_MAX };
	static const struct { int enc, gnu; size_t min; } modes[] = {
		{ SCAN_ENC_ASCII, 1, 4 }, { SCAN_ENC_ASCII, 1, 1 }, { SCAN_ENC_ASCII, 1, 63 },
		{ SCAN_ENC_ASCII, 1, 64 }, { SCAN_ENC_ASCII, 1, 65 }, { SCAN_ENC_BOTH, 1, 4 },
		{ SCAN_ENC_ASCII, 0, 3 }, { SCAN_ENC_BOTH, 0, 4 },
	};
	int good = 1, cases = 0;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++, cases++) {
			size_t c = sizes[i] == SIZE_MAX ? n : sizes[i];
			char *want, *got;
			borrowed_mode = 0;
			want = run(d, n, c, modes[m].enc, modes[m].gnu, modes[m].min, 1, NULL);
			borrowed_mode = 1;
			got = run(d, n, c, modes[m].enc, modes[m].gnu, modes[m].min, 1, NULL);
			borrowed_mode = 0;
			if (strcmp(got, want)) {
				good = 0;
				printf("# borrowed: enc %d gnu %d -n %zu, chunks of %zu differ\n", modes[m].enc,
				       modes[m].gnu, modes[m].min, c);
				show_diff("borrowed", got, want);
			}
			free(want);
			free(got);
		}
	}
	ok(good, "borrowed strings: the same output as copied ones (%d modes x chunkings)", cases);

	{       /* a string ending on the last byte of a page-sized feed, and one crossing it */
		unsigned char pg[8192];
		char *want, *got;
		memset(pg, 0, sizeof(pg));
		memset(pg + 4096 - 70, 'p', 70);
		memset(pg + 8192 - 40, 'q', 30);
		memcpy(pg + 4096 - 5, "cross", 5);
		memcpy(pg + 4096, "ing", 3);
		want = run(pg, sizeof(pg), 4096, SCAN_ENC_ASCII, 1, 4, 1, NULL);
		borrowed_mode = 1;
		got = run(pg, sizeof(pg), 4096, SCAN_ENC_ASCII, 1, 4, 1, NULL);
		borrowed_mode = 0;
		same(got, want, "borrowed: runs at and across a page-sized feed's end");
		free(want);
		free(got);
	}
}

static void test_holes(void)
{
	static const unsigned char a[] = "abcd", b[] = "efgh";
	struct out o = { .with_addr = 1 };
	struct scan_strings_opts opts = { .min_len = 4, .encodings = SCAN_ENC_ASCII, .gnu = 1,
					  .emit = out_emit, .ctx = &o };
	struct scan_strings *s = scan_strings_new(&opts);

	scan_strings_feed(s, 0x1000, a, 4);
	scan_strings_hole(s, 0x1004, 4096);
	scan_strings_feed(s, 0x2004, b, 4);
	scan_strings_feed(s, 0x3000, a, 2);          /* a gap without a hole call is a hole */
	scan_strings_feed(s, 0x3002, b, 3);
	scan_strings_finish(s);
	out_end(&o);
	is_str(o.buf, "   1000 abcd\n   2004 efgh\n   3000 abefg\n", "holes: a hole ends a run; runs resume after it");
	free(o.buf);
	scan_strings_free(s);

	/* byte-exact with GNU strings on the equivalent file (holes read as zeros) */
	{
		unsigned char *d = gen_mixed(300000, 77), *file;
		size_t hole_at[] = { 1000, 50001, 50003, 120000, 200001 }, hole_len[] = { 1, 2, 4096, 3, 70000 };
		size_t total = 300000, pos = 0, src = 0;
		char tmpl[] = "/tmp/t_scan_strings_XXXXXX", path[64], cmd[256];
		char *want, *got;
		size_t wl;
		int enc_modes[2] = { SCAN_ENC_ASCII, SCAN_ENC_UTF16LE };

		for (size_t i = 0; i < 5; i++)
			total += hole_len[i];
		file = calloc(1, total);
		if (!mkdtemp(tmpl))
			exit(1);
		snprintf(path, sizeof(path), "%s/holes.bin", tmpl);
		for (size_t i = 0; i <= 5; i++) {
			size_t upto = i < 5 ? hole_at[i] : 300000;
			memcpy(file + pos, d + src, upto - src);
			pos += upto - src;
			src = upto;
			if (i < 5)
				pos += hole_len[i];
		}
		tap_write_file(path, file, total);
		for (int e = 0; e < 2; e++) {
			struct out oo = { .with_addr = 1 };
			struct scan_strings_opts op = { .min_len = 3, .encodings = enc_modes[e], .gnu = 1,
							.emit = out_emit, .ctx = &oo };
			struct scan_strings *ss = scan_strings_new(&op);
			pos = src = 0;
			for (size_t i = 0; i <= 5; i++) {
				size_t upto = i < 5 ? hole_at[i] : 300000;
				feed_all(ss, pos, d + src, upto - src, 777);
				pos += upto - src;
				src = upto;
				if (i < 5) {
					scan_strings_hole(ss, pos, hole_len[i]);
					pos += hole_len[i];
				}
			}
			scan_strings_finish(ss);
			scan_strings_free(ss);
			out_end(&oo);
			got = oo.buf;
			snprintf(cmd, sizeof(cmd), "LC_ALL=C strings -a -t x -n 3 %s '%s'", e ? "-e l" : "", path);
			want = tap_run_cmd(cmd, &wl, 0);
			same(got, want, e ? "holes: same as `strings -a -t x -n 3 -e l` on the file with zeros in the holes"
					  : "holes: same as `strings -a -t x -n 3` on the file with zeros in the holes");
			free(got);
			free(want);
		}
		unlink(path);
		rmdir(tmpl);
		free(d);
		free(file);
	}
}

static void test_utf16(void)
{
	/* GNU strings 2.40 behaviour, measured: a string may start at an odd offset; after a
	 * bad pair the search goes on one byte later */
	static const unsigned char a[] = "\x01" "A\0B\0C\0D\0\x01\0E\0F\0G\0H\0I\0";
	static const unsigned char b[] = "A\0B\0C\0D\0\xff" "A\0B\0C\0D\0\0\0X\0Y\0Z\0W\0";
	static const unsigned char c[] = "A\0B\0C\0\x01" "A\0B\0C\0D\0E\0";
	static const unsigned char d[] = "A\0B\0C\0D\0E";   /* E has no partner: not a character */
	static const unsigned char e[] = "t\0a\0b\0\t\0x\0";
	char *got;

	got = run(a, sizeof(a) - 1, 0, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	is_str(got, "      1 ABCD\n      b EFGHI\n", "utf-16le: odd start, resume after a bad pair");
	free(got);
	got = run(b, sizeof(b) - 1, 0, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	is_str(got, "      0 ABCD\n      9 ABCD\n     13 XYZW\n", "utf-16le: a bad first byte shifts the alignment");
	free(got);
	got = run(c, sizeof(c) - 1, 0, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	is_str(got, "      7 ABCDE\n", "utf-16le: a short run does not hide the next one");
	free(got);
	got = run(d, sizeof(d) - 1, 1, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	is_str(got, "      0 ABCD\n", "utf-16le: a last byte without its 0x00 is not a character");
	free(got);
	got = run(e, sizeof(e) - 1, 0, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	is_str(got, "      0 tab\tx\n", "utf-16le: tab counts, text decoded to its low bytes");
	free(got);
	got = run(e, sizeof(e) - 1, 0, SCAN_ENC_ASCII, 1, 2, 1, NULL);
	is_str(got, "", "utf-16le text has no ASCII string of 2");
	free(got);
	{
		/* the 0x00 of the last character is the first byte of a hole */
		struct out o = { .with_addr = 1 };
		struct scan_strings_opts opts = { .min_len = 4, .encodings = SCAN_ENC_UTF16LE, .gnu = 1,
						  .emit = out_emit, .ctx = &o };
		struct scan_strings *s = scan_strings_new(&opts);
		scan_strings_feed(s, 0, d, 7);            /* "A\0B\0C\0D" */
		scan_strings_hole(s, 7, 100);
		scan_strings_feed(s, 107, (const unsigned char *)"W\0X\0Y\0Z\0", 8);
		scan_strings_finish(s);
		out_end(&o);
		is_str(o.buf, "      0 ABCD\n     6b WXYZ\n",
		       "utf-16le: a hole reads as zeros (completes D, then ends the run), as in the sparse file");
		free(o.buf);
		scan_strings_free(s);
	}
}

static void test_utf8(void)
{
	static const unsigned char d[] = "h\xc3\xa9llo w\xc3\xb6rld\x01" "\xe2\x82\xac" "42\x01"
		"ok\xc2\x80zz\x01" "\xed\xa0\x80" "abc\x01" "\xc3(xyz\x01" "\xf0\x9f\x98\x80" "!";
	char *got;
	struct out st;

	got = run(d, sizeof(d) - 1, 0, SCAN_ENC_ASCII, 0, 3, 1, NULL);
	is_str(got, "      0 h\xc3\xa9llo w\xc3\xb6rld\n      e \xe2\x82\xac" "42\n     1e abc\n     23 (xyz\n"
	       "     28 \xf0\x9f\x98\x80!\n",
	       "utf-8 mode: well-formed multibyte characters are printable, C1, surrogates and broken "
	       "sequences are not; min_len counts bytes");
	free(got);
	got = run(d, sizeof(d) - 1, 1, SCAN_ENC_ASCII, 0, 3, 1, &st);
	is_str(got, "      0 h\xc3\xa9llo w\xc3\xb6rld\n      e \xe2\x82\xac" "42\n     1e abc\n     23 (xyz\n"
	       "     28 \xf0\x9f\x98\x80!\n", "utf-8 mode: the same fed one byte at a time");
	free(got);
	got = run(d, sizeof(d) - 1, 0, SCAN_ENC_ASCII, 1, 3, 1, NULL);
	is_str(got, "      3 llo w\n      a rld\n     1e abc\n     23 (xyz\n",
	       "gnu mode: bytes >= 0x80 end strings, as strings -e s does");
	free(got);
	got = run((const unsigned char *)"abc\xe2\x82", 5, 1, SCAN_ENC_ASCII, 0, 3, 1, NULL);
	is_str(got, "      0 abc\n", "utf-8 mode: an incomplete sequence at the end is not part of the string");
	free(got);
}

static void test_long(void)
{
	size_t n = (3u << 20) + 12345;
	unsigned char *d = malloc(n + 2);
	struct out st;
	char *got;
	int good = 1;

	d[0] = 0;
	memset(d + 1, 'C', n);
	d[n + 1] = 0;
	got = run(d, n + 2, 4096, SCAN_ENC_ASCII, 1, 4, 1, &st);
	ok(st.emits == 4 && st.pieces == 3, "long string: a 3 MiB run comes in 1 MiB pieces (%zu emits)", st.emits);
	good = strlen(got) == 8 + n + 1 && !strncmp(got, "      1 CCCC", 12);
	ok(good, "long string: the pieces join to the whole string at its address");
	free(got);
	got = run(d, n + 2, n + 2, SCAN_ENC_ASCII, 1, 4, 1, &st);
	ok(st.emits == 4 && strlen(got) == 8 + n + 1, "long string: the same in one chunk");
	free(got);
	free(d);
}

static void test_both(const unsigned char *d, size_t n)
{
	char *ascii = run(d, n, 4096, SCAN_ENC_ASCII, 1, 4, 1, NULL);
	char *u16 = run(d, n, 4096, SCAN_ENC_UTF16LE, 1, 4, 1, NULL);
	struct out oa = { .with_addr = 1, .only_enc = SCAN_ENC_ASCII };
	struct out ou = { .with_addr = 1, .only_enc = SCAN_ENC_UTF16LE };
	struct scan_strings_opts opts = { .min_len = 4, .encodings = SCAN_ENC_BOTH, .gnu = 1, .emit = out_emit };
	struct scan_strings *s;

	opts.ctx = &oa;
	s = scan_strings_new(&opts);
	feed_all(s, 0, d, n, 0);
	scan_strings_finish(s);
	scan_strings_free(s);
	opts.ctx = &ou;
	s = scan_strings_new(&opts);
	feed_all(s, 0, d, n, 0);
	scan_strings_finish(s);
	scan_strings_free(s);
	out_end(&oa);
	out_end(&ou);
	same(oa.buf, ascii, "both: the ASCII strings are those of ASCII alone");
	same(ou.buf, u16, "both: the UTF-16LE strings are those of UTF-16LE alone");
	free(ascii);
	free(u16);
	free(oa.buf);
	free(ou.buf);
}

static void test_address(void)
{
	struct out o = { .with_addr = 1 };
	struct scan_strings_opts opts = { .min_len = 4, .encodings = SCAN_ENC_BOTH, .gnu = 1,
					  .emit = out_emit, .ctx = &o };
	struct scan_strings *s = scan_strings_new(&opts);

	scan_strings_feed(s, 0x7f3a2c000ffeULL, (const unsigned char *)"\0\0", 2);
	scan_strings_feed(s, 0x7f3a2c001000ULL, (const unsigned char *)"leak\0\0L\0E\0A\0K\0", 14);
	scan_strings_finish(s);
	out_end(&o);
	is_str(o.buf, "7f3a2c001000 leak\n7f3a2c001006 LEAK\n", "addresses are target addresses of the first byte");
	free(o.buf);
	scan_strings_free(s);
}

static void test_gnu(const char *dir, const unsigned char *d, size_t n, const char *name)
{
	char path[256], cmd[512];
	static const struct { const char *args; int enc; size_t min; int tx; } cases[] = {
		{ "-n 4", SCAN_ENC_ASCII, 4, 0 }, { "-t x -n 4", SCAN_ENC_ASCII, 4, 1 },
		{ "-n 1", SCAN_ENC_ASCII, 1, 0 }, { "-t x -n 8", SCAN_ENC_ASCII, 8, 1 },
		{ "-e l -n 4", SCAN_ENC_UTF16LE, 4, 0 }, { "-e l -t x -n 3", SCAN_ENC_UTF16LE, 3, 1 },
		{ "-e l -n 1", SCAN_ENC_UTF16LE, 1, 0 },
	};
	static const size_t chunks[] = { 0, 7, 4096, SIZE_MAX };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tap_write_file(path, d, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t wl;
		char *want;
		snprintf(cmd, sizeof(cmd), "LC_ALL=C strings -a %s '%s'", cases[i].args, path);
		want = tap_run_cmd(cmd, &wl, 0);
		ok(want != NULL, "ran `strings -a %s %s`", cases[i].args, name);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			size_t ch = chunks[c] == SIZE_MAX ? n : chunks[c];
			char *got = run(d, n, ch, cases[i].enc, 1, cases[i].min, cases[i].tx, NULL);
			char what[200], size[32];
			if (ch)
				snprintf(size, sizeof(size), "%zu", ch);
			else
				snprintf(size, sizeof(size), "random sizes");
			snprintf(what, sizeof(what), "%s: byte-identical to `strings -a %s` (chunks of %s)",
				 name, cases[i].args, size);
			same(got, want, what);
			free(got);
		}
		free(want);
	}
	unlink(path);
}

int main(void)
{
	char tmpl[] = "/tmp/t_scan_strings_XXXXXX";
	size_t n = 3u << 20;
	unsigned char *mixed, *odd, *big;

	if (!mkdtemp(tmpl)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	mixed = gen_mixed(n, 1);
	odd = gen_mixed(100003, 2);
	memcpy(odd + 100000, "A\0B", 3);

	test_basic();
	test_utf16();
	test_utf8();
	test_holes();
	test_address();
	test_chunks(mixed, 1u << 20);
	test_borrowed(mixed, 1u << 19);
	test_both(mixed, n);
	test_long();
	test_gnu(tmpl, mixed, n, "mixed.bin");
	test_gnu(tmpl, odd, 100003, "odd.bin");
	/* a 2.5 MiB run of 'C' (a leak) inside mixed data: pieces must join exactly */
	big = malloc(n);
	memcpy(big, mixed, n);
	memset(big + 100000, 'C', (5u << 20) / 2);
	test_gnu(tmpl, big, n, "leak.bin");
	rmdir(tmpl);
	free(mixed);
	free(odd);
	free(big);
	return done_testing();
}
