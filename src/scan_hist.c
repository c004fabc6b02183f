/* scan_hist: byte histogram, Shannon entropy, zero pages and 64 KiB block classes.
 *
 * Counting uses eight interleaved count tables (one per byte lane of a 64-bit load), so
 * runs of one byte value do not serialise on one counter, and whole zero words are
 * counted without touching a table.  Blocks, pages and pointer words are all aligned to
 * opts.base (a region start is page aligned, so they are also aligned in memory).
 *
 * Block classes, first that applies, on the bytes read in the block:
 *   UNREAD        no byte read;
 *   ZEROS         all bytes zero;
 *   PATTERN       every byte equals the byte p earlier, for the smallest p in 1..64.  The
 *                 candidate p is the smallest period of the first 128 bytes: by Fine and
 *                 Wilf, if the block has a period q <= 64, the prefix's smallest period
 *                 divides q and is then a period of the whole block, so one candidate and
 *                 one verification pass (memcmp) decide it.  Bytes after a hole are checked
 *                 against the pattern at their phase, so holes do not break a pattern;
 *                 fewer than 128 contiguous bytes read first never make a pattern;
 *   TEXT          >= 90 % printable ASCII or whitespace (\t \n \v \f \r);
 *   POINTERS      >= 25 % of the aligned 8-byte words read look like user-space
 *                 pointers (0x5500_0000_0000..0x7fff_ffff_ffff, the x86-64 mmap and PIE
 *                 range, or 0xc0_0000_0000..0xff_ffff_ffff, Go's arena hints);
 *   HIGH_ENTROPY  >= 7.2 bits per byte (compressed, encrypted, random);
 *   MIXED         anything else. */
#include "scan.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define PREFIX 128u
#define MAX_PERIOD 64u

enum { PAT_COLLECT, PAT_VERIFY, PAT_DEAD };

struct scan_hist {
	struct scan_hist_opts o;
	struct scan_hist_result r;
	int started;
	uint64_t next;                  /* address after the last byte fed or skipped */
	uint64_t cur;                   /* index of the block being filled (from base) */
	/* block being filled */
	uint32_t cnt[8][256];
	uint32_t zero_words;            /* whole zero words counted outside cnt */
	uint32_t blk_bytes;
	uint32_t words, ptr_words;
	int pat_state;
	unsigned char pre[PREFIX];
	unsigned prelen, period;
	uint64_t pre_addr;
	/* page being filled */
	uint64_t page;
	uint32_t page_bytes;
	int page_nonzero, have_page;
	/* a pointer-sized word split between feeds */
	unsigned char wbuf[8];
	unsigned wfill;
	uint64_t wnext;
};

static unsigned char textual[256];

static void init_tables(void)
{
	if (textual['A'])
		return;
	for (int c = 0x20; c < 0x7f; c++)
		textual[c] = 1;
	textual['\t'] = textual['\n'] = textual['\v'] = textual['\f'] = textual['\r'] = 1;
}

static inline unsigned looks_like_pointer(uint64_t w)
{
	return (w - 0x550000000000ULL <= 0x7fffffffffffULL - 0x550000000000ULL) |
	       (w - 0xc000000000ULL <= 0xffffffffffULL - 0xc000000000ULL);
}

/* Value v's count over the eight tables. */
static inline uint32_t sum8(uint32_t (*c)[256], int v)
{
	return c[0][v] + c[1][v] + c[2][v] + c[3][v] + c[4][v] + c[5][v] + c[6][v] + c[7][v];
}

static double entropy_of(const uint64_t *counts, uint64_t n)
{
	double sum = 0;

	if (!n)
		return 0;
	for (int c = 0; c < 256; c++)
		if (counts[c])
			sum += (double)counts[c] * log2((double)counts[c]);
	sum = log2((double)n) - sum / (double)n;
	return sum < 0 ? 0 : sum;               /* -0.0 and rounding below 0 */
}

static void flush_page(struct scan_hist *h)
{
	if (h->have_page && h->page_bytes == PAGE) {
		h->r.pages++;
		if (!h->page_nonzero)
			h->r.zero_pages++;
	}
	h->have_page = 0;
	h->page_bytes = 0;
	h->page_nonzero = 0;
}

/* ---- the block being filled ----------------------------------------------------------- */

static void block_reset(struct scan_hist *h)
{
	if (h->blk_bytes)
		memset(h->cnt, 0, sizeof(h->cnt));
	h->zero_words = 0;
	h->blk_bytes = 0;
	h->words = h->ptr_words = 0;
	h->pat_state = PAT_COLLECT;
	h->prelen = 0;
	h->period = 0;
}

static void block_flush(struct scan_hist *h)
{
	struct scan_block b = { .addr = h->o.base + h->cur * SCAN_BLOCK, .bytes = h->blk_bytes,
				.cls = SCAN_BLOCK_UNREAD, .count = 1 };

	if (h->blk_bytes) {
		uint64_t counts[256], text = 0;
		for (int c = 0; c < 256; c++) {
			counts[c] = sum8(h->cnt, c);
			text += textual[c] ? counts[c] : 0;
		}
		counts[0] += (uint64_t)h->zero_words * 8;
		for (int c = 0; c < 256; c++)
			h->r.counts[c] += counts[c];
		h->r.bytes += h->blk_bytes;
		b.entropy = (float)entropy_of(counts, h->blk_bytes);
		if (counts[0] == h->blk_bytes) {
			b.cls = SCAN_BLOCK_ZEROS;
		} else if (h->pat_state == PAT_VERIFY) {
			b.cls = SCAN_BLOCK_PATTERN;
			b.period = (uint8_t)h->period;
		} else if (text * 10 >= (uint64_t)h->blk_bytes * 9) {
			b.cls = SCAN_BLOCK_TEXT;
		} else if (h->words && (uint64_t)h->ptr_words * 4 >= h->words) {
			b.cls = SCAN_BLOCK_POINTERS;
		} else if (b.entropy >= 7.2f) {
			b.cls = SCAN_BLOCK_HIGH_ENTROPY;
		} else {
			b.cls = SCAN_BLOCK_MIXED;
		}
	}
	h->r.blocks[b.cls]++;
	if (h->o.block)
		h->o.block(h->o.ctx, &b);
	block_reset(h);
}

/* Finish every block before block index `to`. */
static void advance_to(struct scan_hist *h, uint64_t to)
{
	if (h->cur >= to)
		return;
	block_flush(h);
	h->cur++;
	if (h->cur < to) {
		/* Blocks with no byte read, up to the next data: one entry for the whole run, so
		 * a hole or an unmapped span costs O(1), not one step per 64 KiB of it. */
		struct scan_block b = { .addr = h->o.base + h->cur * SCAN_BLOCK,
					.cls = SCAN_BLOCK_UNREAD, .count = to - h->cur };
		h->r.blocks[SCAN_BLOCK_UNREAD] += b.count;
		if (h->o.block)
			h->o.block(h->o.ctx, &b);
		h->cur = to;
	}
}

/* ---- pattern ----------------------------------------------------------------------------- */

static void pattern_found(struct scan_hist *h)
{
	for (unsigned p = 1; p <= MAX_PERIOD; p++) {
		if (!memcmp(h->pre, h->pre + p, PREFIX - p)) {
			h->period = p;
			h->pat_state = PAT_VERIFY;
			return;
		}
	}
	h->pat_state = PAT_DEAD;
}

/* Contiguous bytes [addr, addr + n) of the current block. */
static void pattern_feed(struct scan_hist *h, uint64_t addr, const unsigned char *p, size_t n)
{
	if (h->pat_state == PAT_COLLECT) {
		size_t take;
		if (h->prelen == 0)
			h->pre_addr = addr;
		else if (h->pre_addr + h->prelen != addr) {
			h->pat_state = PAT_DEAD;
			return;
		}
		take = PREFIX - h->prelen < n ? PREFIX - h->prelen : n;
		memcpy(h->pre + h->prelen, p, take);
		h->prelen += (unsigned)take;
		if (h->prelen < PREFIX)
			return;
		pattern_found(h);
		addr += take;
		p += take;
		n -= take;
	}
	if (h->pat_state == PAT_VERIFY && n) {
		size_t per = h->period, head = n < per ? n : per;
		size_t phase = (size_t)((addr - h->pre_addr) % per);
		for (size_t i = 0; i < head; i++) {
			if (p[i] != h->pre[(phase + i) % per]) {
				h->pat_state = PAT_DEAD;
				return;
			}
		}
		if (n > per && memcmp(p + per, p, n - per))
			h->pat_state = PAT_DEAD;
	}
}

/* ---- counting ---------------------------------------------------------------------------- */

/* One stitched or head/tail byte, as part of the word that starts at an aligned address. */
static inline void word_byte(struct scan_hist *h, uint64_t addr, unsigned char b)
{
	if ((addr - h->o.base) % 8 == 0) {
		h->wfill = 0;
	} else if (!h->wfill || addr != h->wnext) {
		h->wfill = 0;                  /* the start of this word was not read */
		return;
	}
	h->wbuf[h->wfill++] = b;
	h->wnext = addr + 1;
	if (h->wfill == 8) {
		uint64_t w;
		memcpy(&w, h->wbuf, 8);
		h->words++;
		h->ptr_words += looks_like_pointer(w);
		h->wfill = 0;
	}
}

/* Whole words [p, p + 8 * nw) into the count tables c, with the words, pointer words and
 * zero words among them; returns nonzero if any byte is not zero. */
static inline uint64_t count_words(uint32_t (*c)[256], const unsigned char *p, size_t nw,
				   uint32_t *nwords, uint32_t *nptrs, uint32_t *nzeros)
{
	uint64_t any = 0, ptrs = 0, zeros = 0;

	for (size_t i = 0; i < nw; i++) {
		uint64_t w;
		memcpy(&w, p + 8 * i, 8);
		if (!w) {
			zeros++;
			continue;
		}
		any |= w;
		ptrs += looks_like_pointer(w);
		c[0][w & 0xff]++;
		c[1][(w >> 8) & 0xff]++;
		c[2][(w >> 16) & 0xff]++;
		c[3][(w >> 24) & 0xff]++;
		c[4][(w >> 32) & 0xff]++;
		c[5][(w >> 40) & 0xff]++;
		c[6][(w >> 48) & 0xff]++;
		c[7][w >> 56]++;
	}
	*nwords += (uint32_t)nw;
	*nptrs += (uint32_t)ptrs;
	*nzeros += (uint32_t)zeros;
	return any;
}

/* Bytes [addr, addr + n) inside one page of the current block; returns nonzero if any byte
 * is not zero.  counted >= 0: the whole words were counted apart (scan_hist_count), and
 * counted says whether one of them was not zero; only the bytes around them are left. */
static uint64_t count_piece(struct scan_hist *h, uint64_t addr, const unsigned char *p, size_t n,
			    int counted)
{
	uint32_t (*c)[256] = h->cnt;
	uint64_t any = 0;
	size_t i = 0, head = (size_t)((8 - (addr - h->o.base) % 8) % 8), nw;

	if (head > n)
		head = n;
	for (; i < head; i++) {
		c[0][p[i]]++;
		any |= p[i];
		word_byte(h, addr + i, p[i]);
	}
	nw = (n - i) / 8;
	if (counted >= 0)
		any |= (uint64_t)counted;
	else
		any |= count_words(c, p + i, nw, &h->words, &h->ptr_words, &h->zero_words);
	for (i += 8 * nw; i < n; i++) {
		c[0][p[i]]++;
		any |= p[i];
		word_byte(h, addr + i, p[i]);
	}
	h->blk_bytes += (uint32_t)n;
	return any;
}

/* A hole (or an unfed gap) over [addr, end): pages and stitched words break. */
static void skip_to(struct scan_hist *h, uint64_t end)
{
	flush_page(h);
	h->wfill = 0;
	if (h->pat_state == PAT_COLLECT && h->prelen)
		h->pat_state = PAT_DEAD;        /* the prefix must be contiguous */
	h->next = end;
}

static void start(struct scan_hist *h, uint64_t addr)
{
	if (h->started)
		return;
	h->started = 1;
	if (addr < h->o.base)                   /* blocks cannot start before the first byte */
		h->o.base = addr;
	h->cur = 0;
	h->next = addr;
}

struct scan_hist *scan_hist_new(const struct scan_hist_opts *o)
{
	struct scan_hist *h = xcalloc(1, sizeof(*h));

	init_tables();
	h->o = *o;
	h->pat_state = PAT_COLLECT;
	return h;
}

/* part: the whole words of [addr, addr + len) counted apart, or NULL. */
static void feed(struct scan_hist *h, uint64_t addr, const unsigned char *data, size_t len,
		 const struct scan_hist_part *part)
{
	uint64_t first = 0;

	if (!len)
		return;
	if (!h->started) {
		start(h, addr);
		/* blocks from base up to the first byte were not read: advance_to reports them */
	} else if (addr != h->next) {
		skip_to(h, addr);
	}
	if (part && part->base != h->o.base)
		part = NULL;                    /* counted against another alignment */
	if (part)
		first = (addr - h->o.base) / SCAN_BLOCK;
	while (len) {
		uint64_t off = addr - h->o.base;
		uint64_t blk = off / SCAN_BLOCK;
		size_t seg = SCAN_BLOCK - (size_t)(off % SCAN_BLOCK);
		const struct scan_hist_block_part *bp = part ? &part->blk[blk - first] : NULL;

		if (seg > len)
			seg = len;
		advance_to(h, blk);
		pattern_feed(h, addr, data, seg);
		for (size_t done = 0; done < seg;) {
			uint64_t a = addr + done, poff = a - h->o.base;
			uint64_t page = poff / PAGE;
			size_t piece = PAGE - (size_t)(poff % PAGE);
			int counted = -1;
			if (piece > seg - done)
				piece = seg - done;
			if (!h->have_page || h->page != page) {
				flush_page(h);
				h->have_page = 1;
				h->page = page;
			}
			if (bp)
				counted = bp->nonzero >> ((poff % SCAN_BLOCK) / PAGE) & 1;
			if (count_piece(h, a, data + done, piece, counted))
				h->page_nonzero = 1;
			h->page_bytes += (uint32_t)piece;
			done += piece;
		}
		if (bp) {
			for (int c = 0; c < 256; c++)
				h->cnt[0][c] += bp->cnt[c];
			h->words += bp->words;
			h->ptr_words += bp->ptr_words;
			h->zero_words += bp->zero_words;
		}
		addr += seg;
		data += seg;
		len -= seg;
	}
	h->next = addr;
}

void scan_hist_feed(struct scan_hist *h, uint64_t addr, const unsigned char *data, size_t len)
{
	feed(h, addr, data, len, NULL);
}

void scan_hist_count(uint64_t base, uint64_t addr, const unsigned char *data, size_t len,
		     struct scan_hist_part *part)
{
	uint32_t c[8][256];
	uint64_t first = (addr - base) / SCAN_BLOCK;

	part->base = base;
	part->addr = addr;
	part->len = len;
	if (len > SCAN_HIST_PART_MAX) {         /* too long for the part: one that fits nothing */
		part->len = 0;
		return;
	}
	while (len) {
		uint64_t off = addr - base;
		size_t seg = SCAN_BLOCK - (size_t)(off % SCAN_BLOCK);
		struct scan_hist_block_part *bp = &part->blk[off / SCAN_BLOCK - first];

		if (seg > len)
			seg = len;
		memset(c, 0, sizeof(c));
		bp->words = bp->ptr_words = bp->zero_words = 0;
		bp->nonzero = 0;
		for (size_t done = 0; done < seg;) {
			uint64_t poff = off + done;
			size_t piece = PAGE - (size_t)(poff % PAGE);
			size_t head = (size_t)((8 - poff % 8) % 8);
			if (piece > seg - done)
				piece = seg - done;
			if (head > piece)
				head = piece;
			if (count_words(c, data + done + head, (piece - head) / 8, &bp->words,
					&bp->ptr_words, &bp->zero_words))
				bp->nonzero |= (uint16_t)(1u << ((poff % SCAN_BLOCK) / PAGE));
			done += piece;
		}
		for (int v = 0; v < 256; v++)
			bp->cnt[v] = sum8(c, v);
		addr += seg;
		data += seg;
		len -= seg;
	}
}

void scan_hist_feed_counted(struct scan_hist *h, uint64_t addr, const unsigned char *data,
			    size_t len, const struct scan_hist_part *part)
{
	feed(h, addr, data, len, part && part->addr == addr && part->len == len ? part : NULL);
}

void scan_hist_hole(struct scan_hist *h, uint64_t addr, uint64_t len)
{
	if (!len)
		return;
	if (!h->started)
		start(h, addr);
	skip_to(h, addr + len);
}

void scan_hist_finish(struct scan_hist *h, struct scan_hist_result *out)
{
	if (h->started) {
		flush_page(h);
		/* every block up to the one holding the last byte fed or skipped */
		advance_to(h, (h->next - 1 - h->o.base) / SCAN_BLOCK);
		block_flush(h);
		h->cur++;
		h->started = 0;
	}
	h->r.entropy = entropy_of(h->r.counts, h->r.bytes);
	if (out)
		*out = h->r;
}

void scan_hist_free(struct scan_hist *h)
{
	free(h);
}

const char *scan_block_class_name(enum scan_block_class c)
{
	switch (c) {
	case SCAN_BLOCK_ZEROS: return "zeros";
	case SCAN_BLOCK_TEXT: return "text";
	case SCAN_BLOCK_POINTERS: return "pointers";
	case SCAN_BLOCK_HIGH_ENTROPY: return "high-entropy";
	case SCAN_BLOCK_PATTERN: return "pattern";
	case SCAN_BLOCK_MIXED: return "mixed";
	case SCAN_BLOCK_UNREAD: return "unread";
	}
	return "?";
}
