/* Unit tests of scan_hist: counts, entropy, zero pages, block classes, holes, chunking. */
#include "tap.h"
#include "scan.h"

#include <math.h>
#include <stdint.h>

#define BLK SCAN_BLOCK
#define BASE 0x7f3a2c000000ULL
#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct blocks {
	struct scan_block b[512];
	size_t n;                    /* blocks, runs of UNREAD blocks expanded */
	size_t calls;                /* callbacks */
};

static void on_block(void *ctx, const struct scan_block *b)
{
	struct blocks *bs = ctx;
	bs->calls++;
	for (uint64_t k = 0; k < b->count && k < 1024; k++) {
		if (bs->n < 512) {
			bs->b[bs->n] = *b;
			bs->b[bs->n].addr = b->addr + k * SCAN_BLOCK;
			bs->b[bs->n].count = 1;
		}
		bs->n++;
	}
}

/* Feed d at BASE in chunks (0: random sizes); optional holes [hole_off, +hole_len). */
static void run(const unsigned char *d, size_t n, size_t chunk, struct scan_hist_result *r, struct blocks *bs)
{
	struct scan_hist_opts o = { .base = BASE, .block = on_block, .ctx = bs };
	struct scan_hist *h = scan_hist_new(&o);
	uint64_t saved = rng_state;

	bs->n = 0;
	rng_state = 5;
	for (size_t off = 0; off < n;) {
		size_t c = chunk ? chunk : 1 + (size_t)(rng() % 20000);
		if (c > n - off)
			c = n - off;
		scan_hist_feed(h, BASE + off, d + off, c);
		off += c;
	}
	rng_state = saved;
	scan_hist_finish(h, r);
	scan_hist_free(h);
}

static int close_to(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

/* ---- block contents --------------------------------------------------------------------- */

static void fill_text(unsigned char *p, size_t n)
{
	static const char *words[] = { "the", "memory", "region", "grows", "while", "nobody", "looks",
		"at", "it,", "and", "then", "leaks", "session", "records", "into", "heap.\n" };
	size_t o = 0;
	while (o < n) {
		const char *w = words[rng() % 16];
		for (size_t i = 0; w[i] && o < n; i++)
			p[o++] = (unsigned char)w[i];
		if (o < n)
			p[o++] = ' ';
	}
}

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
}

static void fill_pointers(unsigned char *p, size_t n, int go)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v;
		switch (rng() % 3) {
		case 0: v = go ? 0xc000100000ULL + (rng() & 0xfffff8) : 0x7f3a2c001230ULL + (rng() & 0xffff0); break;
		case 1: v = rng() & 0xffff; break;                /* small integers */
		default: v = rng(); break;                        /* random */
		}
		memcpy(p + i, &v, 8);
	}
}

static void fill_pattern(unsigned char *p, size_t n, const char *pat)
{
	size_t k = strlen(pat);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)pat[i % k];
}

static void fill_mixed(unsigned char *p, size_t n)
{
	fill_random(p, n / 2);
	memset(p + n / 2, 0, n - n / 2);
	p[n - 1] = 1;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_known(void)
{
	unsigned char *d = calloc(1, 8 * BLK);
	struct scan_hist_result r;
	struct blocks *bs = calloc(1, sizeof(*bs));

	/* all zeros */
	run(d, 2 * BLK, 0, &r, bs);
	ok(close_to(r.entropy, 0) && r.counts[0] == 2 * BLK && r.bytes == 2 * BLK, "all zeros: entropy 0, all counted");
	ok(bs->n == 2 && bs->b[0].cls == SCAN_BLOCK_ZEROS && bs->b[1].cls == SCAN_BLOCK_ZEROS &&
	   r.blocks[SCAN_BLOCK_ZEROS] == 2, "all zeros: two ZEROS blocks");
	is_u64(r.pages, 32, "all zeros: 32 pages fully read");
	is_u64(r.zero_pages, 32, "all zeros: 32 zero pages");

	/* 0..255 repeated: period 256 > 64, so not a pattern: high entropy */
	for (size_t i = 0; i < BLK; i++)
		d[i] = (unsigned char)i;
	run(d, BLK, 0, &r, bs);
	ok(close_to(r.entropy, 8.0), "0..255 repeated: entropy 8 (%.6f)", r.entropy);
	ok(bs->n == 1 && bs->b[0].cls == SCAN_BLOCK_HIGH_ENTROPY && close_to(bs->b[0].entropy, 8.0),
	   "0..255 repeated: HIGH_ENTROPY block (%s)", bs->n ? scan_block_class_name(bs->b[0].cls) : "none");
	is_u64(r.counts[0x41], BLK / 256, "0..255 repeated: each byte value counted 256 times");
	is_u64(r.zero_pages, 0, "0..255 repeated: no zero page");

	/* "ABCD" period 4, "AB" period 2, "ABC" period 3, 64-byte period */
	{
		static const struct { const char *pat; unsigned period; double entropy; } pats[] = {
			{ "ABCD", 4, 2.0 }, { "AB", 2, 1.0 }, { "ABC", 3, 1.584962500721156 },
			{ "CCCC", 1, 0.0 }, { B64, 64, 6.0 },
		};
		for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
			fill_pattern(d, BLK, pats[i].pat);
			run(d, BLK, 7, &r, bs);
			ok(bs->n == 1 && bs->b[0].cls == SCAN_BLOCK_PATTERN && bs->b[0].period == pats[i].period &&
			   close_to(bs->b[0].entropy, pats[i].entropy),
			   "pattern \"%.8s\": PATTERN, period %u, entropy %.3f (got %s, %u, %.3f)", pats[i].pat,
			   pats[i].period, pats[i].entropy, scan_block_class_name(bs->b[0].cls), bs->b[0].period,
			   bs->b[0].entropy);
		}
		/* a period of 65 is not a pattern (printable: TEXT) */
		fill_pattern(d, BLK, B64 "=");
		run(d, BLK, 0, &r, bs);
		ok(bs->b[0].cls == SCAN_BLOCK_TEXT, "period 65: not a pattern, TEXT (%s)", scan_block_class_name(bs->b[0].cls));
		/* a pattern broken near the end is not a pattern */
		fill_pattern(d, BLK, "ABCD");
		d[BLK - 3] = 'X';
		run(d, BLK, 4096, &r, bs);
		ok(bs->b[0].cls == SCAN_BLOCK_TEXT, "ABCD with one byte changed: TEXT, not PATTERN (%s)",
		   scan_block_class_name(bs->b[0].cls));
		/* zeros then a pattern: not periodic */
		memset(d, 0, BLK / 2);
		fill_pattern(d + BLK / 2, BLK / 2, "ABCD");
		run(d, BLK, 0, &r, bs);
		ok(bs->b[0].cls != SCAN_BLOCK_PATTERN, "zeros then ABCD: not a pattern (%s)", scan_block_class_name(bs->b[0].cls));
	}

	rng_state = 11;
	fill_text(d, BLK);
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_TEXT, "English text: TEXT (%s, %.2f bits)", scan_block_class_name(bs->b[0].cls),
	   bs->b[0].entropy);

	fill_pointers(d, BLK, 0);
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_POINTERS, "a third of the words are 0x7f.. pointers: POINTERS (%s)",
	   scan_block_class_name(bs->b[0].cls));
	fill_pointers(d, BLK, 1);
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_POINTERS, "a third of the words are Go arena pointers: POINTERS (%s)",
	   scan_block_class_name(bs->b[0].cls));
	for (size_t i = 0; i < BLK; i += 8) {             /* 1 word in 5: under 25 % */
		uint64_t v = (i / 8) % 5 == 0 ? 0x7f3a2c001230ULL : rng();
		memcpy(d + i, &v, 8);
	}
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_HIGH_ENTROPY, "20 %% pointers among random words: not POINTERS (%s)",
	   scan_block_class_name(bs->b[0].cls));

	fill_random(d, BLK);
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_HIGH_ENTROPY && bs->b[0].entropy > 7.99, "random: HIGH_ENTROPY (%.4f)",
	   bs->b[0].entropy);

	fill_mixed(d, BLK);
	run(d, BLK, 0, &r, bs);
	ok(bs->b[0].cls == SCAN_BLOCK_MIXED, "half random, half zeros: MIXED (%s, %.2f)",
	   scan_block_class_name(bs->b[0].cls), bs->b[0].entropy);
	is_u64(r.zero_pages, 7, "half random, half zeros (last byte 1): 7 zero pages of 16");
	free(d);
	free(bs);
}

/* Eight blocks of different classes, a partial last block: the same results whatever the
 * chunking. */
static void test_chunks(void)
{
	size_t n = 8 * BLK + 5000;
	unsigned char *d = calloc(1, n);
	static const size_t chunks[] = { 1, 7, 4096, 0, SIZE_MAX };
	struct scan_hist_result want, got;
	struct blocks *bw = calloc(1, sizeof(*bw)), *bg = calloc(1, sizeof(*bg));
	int all = 1;

	rng_state = 3;
	fill_text(d + BLK, BLK);
	fill_random(d + 2 * BLK, BLK);
	fill_pointers(d + 3 * BLK, BLK, 0);
	fill_pattern(d + 4 * BLK, BLK, "ABCD");
	fill_mixed(d + 5 * BLK, BLK);
	fill_text(d + 6 * BLK, BLK / 2);
	fill_pattern(d + 7 * BLK, BLK + 5000, "xyz");
	run(d, n, n, &want, bw);
	ok(bw->n == 9, "9 blocks for 8 blocks + 5000 bytes");
	{
		static const uint8_t cls[9] = { SCAN_BLOCK_ZEROS, SCAN_BLOCK_TEXT, SCAN_BLOCK_HIGH_ENTROPY,
			SCAN_BLOCK_POINTERS, SCAN_BLOCK_PATTERN, SCAN_BLOCK_MIXED, SCAN_BLOCK_MIXED,
			SCAN_BLOCK_PATTERN, SCAN_BLOCK_PATTERN };
		int good = 1;
		for (size_t i = 0; i < 9 && i < bw->n; i++) {
			if (bw->b[i].cls != cls[i] || bw->b[i].addr != BASE + i * BLK) {
				good = 0;
				printf("# block %zu: %s at %llx\n", i, scan_block_class_name(bw->b[i].cls),
				       (unsigned long long)bw->b[i].addr);
			}
		}
		ok(good, "block classes and addresses, in order");
		ok(bw->b[8].bytes == 5000 && bw->b[8].period == 3, "finish flushes the last partial block (5000 bytes, period 3)");
	}
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		size_t ch = chunks[c] == SIZE_MAX ? n : chunks[c];
		run(d, n, ch, &got, bg);
		if (memcmp(&got, &want, sizeof(got)) || bg->n != bw->n ||
		    memcmp(bg->b, bw->b, bw->n * sizeof(bw->b[0]))) {
			all = 0;
			printf("# chunks of %zu differ\n", ch);
		}
	}
	ok(all, "chunks of 1, 7, 4096, random, whole: identical results and blocks");
	{
		uint64_t sum = 0;
		for (int i = 0; i < 256; i++)
			sum += want.counts[i];
		ok(sum == n && want.bytes == n, "counts add up to the bytes read");
		is_u64(want.pages, (n / 4096), "pages fully read");
		is_u64(want.blocks[SCAN_BLOCK_PATTERN], 3, "blocks per class: 3 PATTERN");
	}
	free(d);
	free(bw);
	free(bg);
}

static void test_holes(void)
{
	unsigned char *d = calloc(1, 4 * BLK);
	struct blocks *bs = calloc(1, sizeof(*bs));
	struct scan_hist_opts o = { .base = BASE, .block = on_block, .ctx = bs };
	struct scan_hist *h;
	struct scan_hist_result r;

	rng_state = 9;
	fill_text(d, 4 * BLK);
	h = scan_hist_new(&o);
	/* block 0: two pages missing at the start; block 1: read; blocks 2-4 a hole; block 5:
	 * half read; blocks 6-7 not even fed: the hole at the end */
	scan_hist_hole(h, BASE, 8192);
	scan_hist_feed(h, BASE + 8192, d, 2 * BLK - 8192);
	scan_hist_hole(h, BASE + 2 * BLK, 3 * BLK);
	scan_hist_feed(h, BASE + 5 * BLK, d, BLK / 2 + 100);
	scan_hist_hole(h, BASE + 5 * BLK + BLK / 2 + 100, 3 * BLK / 2 - 100 + 10);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->n == 8, "every block reported, holes included (%zu)", bs->n);
	ok(bs->calls == 6, "... the 3 blocks inside the hole in one callback (%zu calls)", bs->calls);
	ok(bs->b[0].bytes == BLK - 8192 && bs->b[0].cls == SCAN_BLOCK_TEXT, "a block partly in a hole: classified on the bytes read");
	ok(bs->b[2].cls == SCAN_BLOCK_UNREAD && bs->b[3].cls == SCAN_BLOCK_UNREAD && bs->b[4].cls == SCAN_BLOCK_UNREAD &&
	   bs->b[4].bytes == 0 && bs->b[4].addr == BASE + 4 * BLK, "blocks inside a hole: UNREAD");
	ok(bs->b[5].bytes == BLK / 2 + 100, "half-read block: its bytes");
	ok(bs->b[6].cls == SCAN_BLOCK_UNREAD && bs->b[7].cls == SCAN_BLOCK_UNREAD, "a trailing hole gives UNREAD blocks too");
	is_u64(r.bytes, 2 * BLK - 8192 + BLK / 2 + 100, "holes are not counted");
	is_u64(r.pages, (2 * BLK - 8192) / 4096 + (BLK / 2) / 4096, "only pages fully read count");
	is_u64(r.blocks[SCAN_BLOCK_UNREAD], 5, "5 UNREAD blocks");

	/* A hole of 1 TiB costs a callback, not 2^24 of them (dump --region 0-0x7fffffffffff). */
	bs->n = bs->calls = 0;
	h = scan_hist_new(&o);
	scan_hist_feed(h, BASE, d, 100);
	scan_hist_hole(h, BASE + 100, (1ull << 40) - 100);
	scan_hist_feed(h, BASE + (1ull << 40), d, 100);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->calls == 3, "a 1 TiB hole: 3 callbacks (%zu)", bs->calls);
	is_u64(r.blocks[SCAN_BLOCK_UNREAD], (1ull << 40) / BLK - 1, "... and every block inside it counted UNREAD");

	/* zero pages: a zero page cut by a hole is not a zero page */
	memset(d, 0, 4 * BLK);
	bs->n = 0;
	h = scan_hist_new(&o);
	scan_hist_feed(h, BASE, d, 4096 + 2048);
	scan_hist_hole(h, BASE + 4096 + 2048, 2048);
	scan_hist_feed(h, BASE + 8192, d, 4096);
	scan_hist_feed(h, BASE + 8192 + 4096, d, 100);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	is_u64(r.zero_pages, 2, "zero pages: only those fully read");
	is_u64(r.pages, 2, "pages: a page cut by a hole or the end is not counted");

	/* first byte fed far from base: the blocks before are UNREAD, in order */
	bs->n = bs->calls = 0;
	h = scan_hist_new(&o);
	scan_hist_feed(h, BASE + 3 * BLK + 10, d, 10);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->n == 4 && bs->b[0].cls == SCAN_BLOCK_UNREAD && bs->b[3].cls == SCAN_BLOCK_ZEROS &&
	   bs->b[3].bytes == 10 && bs->b[3].addr == BASE + 3 * BLK, "blocks from base to the first byte are UNREAD");

	/* a pattern across a hole keeps its phase */
	fill_pattern(d, 2 * BLK, "ABC");
	bs->n = 0;
	h = scan_hist_new(&o);
	scan_hist_feed(h, BASE, d, 4096);
	scan_hist_hole(h, BASE + 4096, 4096);
	scan_hist_feed(h, BASE + 8192, d + 8192, BLK - 8192);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->n == 1 && bs->b[0].cls == SCAN_BLOCK_PATTERN && bs->b[0].period == 3, "a pattern across a hole (same phase)");
	bs->n = 0;
	h = scan_hist_new(&o);
	scan_hist_feed(h, BASE, d, 4096);
	scan_hist_hole(h, BASE + 4096, 4096);
	scan_hist_feed(h, BASE + 8192, d + 8193, BLK - 8192);  /* phase shifted by one */
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->n == 1 && bs->b[0].cls == SCAN_BLOCK_TEXT, "a pattern whose phase changes across a hole is not one (%s)",
	   scan_block_class_name(bs->b[0].cls));
	free(d);
	free(bs);
}

static void test_base(void)
{
	unsigned char d[100];
	struct blocks *bs = calloc(1, sizeof(*bs));
	struct scan_hist_opts o = { .base = 0x1000, .block = on_block, .ctx = bs };
	struct scan_hist *h = scan_hist_new(&o);
	struct scan_hist_result r;

	memset(d, 'x', sizeof(d));
	/* blocks aligned to base: 0x1000 + 64 KiB - 50 .. + 50 spans two blocks */
	scan_hist_feed(h, 0x1000 + BLK - 50, d, 100);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(bs->n == 2 && bs->b[0].addr == 0x1000 && bs->b[1].addr == 0x1000 + BLK &&
	   bs->b[0].bytes == 50 && bs->b[1].bytes == 50, "blocks are aligned to opts.base");
	ok(!strcmp(scan_block_class_name(SCAN_BLOCK_HIGH_ENTROPY), "high-entropy") &&
	   !strcmp(scan_block_class_name(SCAN_BLOCK_UNREAD), "unread"), "class names");
	free(bs);
	h = scan_hist_new(&o);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
	ok(r.bytes == 0 && r.entropy == 0 && r.blocks[SCAN_BLOCK_UNREAD] == 0, "nothing fed: nothing counted, no block");
}

/* Pieces counted apart (scan_hist_count, then scan_hist_feed_counted) give what
 * scan_hist_feed gives, to the bit, whatever the pieces' sizes and alignment, with holes
 * between them; a part of other bytes, or of another base, is ignored. */
static void test_counted(void)
{
	size_t n = 40 * BLK + 777;
	unsigned char *d = calloc(1, n);
	struct scan_hist_part *part = malloc(sizeof(*part)), *other = malloc(sizeof(*other));
	struct blocks *bw = calloc(1, sizeof(*bw)), *bg = calloc(1, sizeof(*bg));
	struct scan_hist_opts ow = { .base = BASE, .block = on_block, .ctx = bw };
	struct scan_hist_opts og = { .base = BASE, .block = on_block, .ctx = bg };
	struct scan_hist_result want, got;
	int same = 1;
	unsigned apart = 0, wrong = 0;

	rng_state = 21;
	for (size_t o = 0; o < n;) {                  /* stretches of every kind */
		size_t k = rng() & 1 ? (1 + (size_t)(rng() % 3)) * BLK - o % BLK   /* to a block end */
				     : 1 + (size_t)(rng() % (3 * BLK));
		if (k > n - o)
			k = n - o;
		switch (rng() % 6) {
		case 0: fill_text(d + o, k); break;
		case 1: fill_random(d + o, k); break;
		case 2:                                   /* words aligned to BASE */
			if (k > (8 - o % 8) % 8)
				fill_pointers(d + o + (8 - o % 8) % 8, k - (8 - o % 8) % 8, (int)(rng() & 1));
			break;
		case 3: fill_pattern(d + o, k, "abcabd"); break;
		case 4: break;                            /* zeros */
		default: fill_mixed(d + o, k); break;
		}
		o += k;
	}
	for (int round = 0; round < 24; round++) {
		struct scan_hist *hw = scan_hist_new(&ow), *hg = scan_hist_new(&og);
		bw->n = bg->n = 0;
		for (size_t off = (size_t)(rng() % 3000); off < n;) {
			size_t c = round == 0 ? SCAN_HIST_PART_MAX : 1 + (size_t)(rng() % (SCAN_HIST_PART_MAX + 1));
			if (rng() % 4 == 0)
				c = 1 + (size_t)(rng() % 9000);   /* small and odd */
			if (c > n - off)
				c = n - off;
			if (rng() % 7 == 0) {                 /* a hole instead */
				scan_hist_hole(hw, BASE + off, c);
				scan_hist_hole(hg, BASE + off, c);
				off += c;
				continue;
			}
			scan_hist_feed(hw, BASE + off, d + off, c);
			switch (rng() % 4) {
			case 0:
				scan_hist_feed(hg, BASE + off, d + off, c);
				break;
			case 1:                               /* a part of other bytes, or another base */
				if (rng() & 1)
					scan_hist_count(BASE, BASE + off + 8, d + off, c, other);
				else
					scan_hist_count(BASE + 8, BASE + off, d + off, c, other);
				scan_hist_feed_counted(hg, BASE + off, d + off, c, other);
				wrong++;
				break;
			default:
				scan_hist_count(BASE, BASE + off, d + off, c, part);
				scan_hist_feed_counted(hg, BASE + off, d + off, c, part);
				apart++;
				break;
			}
			off += c;
		}
		scan_hist_finish(hw, &want);
		scan_hist_finish(hg, &got);
		scan_hist_free(hw);
		scan_hist_free(hg);
		if (memcmp(&want, &got, sizeof(got)) || bw->n != bg->n ||
		    memcmp(bw->b, bg->b, (bw->n < 512 ? bw->n : 512) * sizeof(bw->b[0]))) {
			same = 0;
			printf("# round %d differs\n", round);
		}
	}
	ok(same, "pieces counted apart (%u), and parts that do not fit (%u): the same results and blocks",
	   apart, wrong);
	ok(bw->n >= 40, "... over every block (%zu)", bw->n);
	free(d);
	free(part);
	free(other);
	free(bw);
	free(bg);
}

int main(void)
{
	test_known();
	test_chunks();
	test_holes();
	test_base();
	test_counted();
	return done_testing();
}
