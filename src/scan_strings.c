/* scan_strings: printable runs, like strings(1), over chunks of any size and holes.
 *
 * What counts as a string (GNU binutils 2.40 strings.c, print_strings()/get_char()):
 *   -e s (ASCII): a maximal run of bytes that are TAB or 0x20..0x7e, at least min_len long.
 *   -e l (UTF-16LE): GNU reads two bytes per character and keeps a character when the pair
 *     is (printable byte, 0x00).  When a pair is not a character, it pushes back all but its
 *     first byte (unget_part_char), so a string may start at any byte offset, odd or even.
 *     Measured on 2.40: "\x01A\0B\0C\0D\0" gives "ABCD" at offset 1, and after a string
 *     ending in a bad pair at offset e the search resumes at e + 1.  Two runs of valid pairs
 *     cannot overlap (the 0x00 of one is never a printable first byte of the other), so
 *     this is the same as: the maximal runs of valid pairs in each byte-parity "lane".
 *     A last byte without its partner (EOF) is not a character.
 *
 * Implementation: each lane (ASCII; UTF-16 pairs at even addresses; at odd addresses) sees
 * its data as a bit mask per 64-byte block (bit = "this character is printable"), built
 * with SSE2 where available; runs of at least min_len ones inside a block are found with
 * shift-and doubling, runs touching a block edge are carried in the lane.  A run's text is
 * copied only when it is emitted or when it crosses a feed boundary.  Events of the lanes
 * of one block are merged by end address, so UTF-16 strings come out in address order as
 * GNU prints them (for SCAN_ENC_BOTH, ASCII and UTF-16 strings are interleaved in the
 * order they end).
 *
 * Holes read as zero bytes (the view of a sparse dump file): a hole ends every run, and a
 * UTF-16 character whose 0x00 byte is the first byte of a hole still counts, as GNU strings
 * finds it in the sparse file.
 *
 * Non-GNU mode (gnu == 0) additionally accepts well-formed UTF-8 multibyte sequences
 * (code points U+00A0 and up: no C1 controls, overlongs, surrogates or values past
 * U+10FFFF) inside ASCII strings; min_len then counts bytes, so "né" is 3 long.  Without
 * bytes >= 0x80 both modes give identical output.
 *
 * Strings longer than the piece size (1 MiB, or min_len if larger) are delivered in pieces
 * so memory stays bounded: a piece that continues the previous one has the same encoding
 * and starts exactly where the previous one ended (a new string never can: strings are
 * maximal).  emit's text is NUL-terminated, unless opts.borrowed lets it point into the fed
 * data. */
#include "scan.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define PIECE_BYTES (1u << 20)

enum { LANE_ASCII, LANE_U16_EVEN, LANE_U16_ODD, NLANES };

struct lane {
	enum scan_enc enc;
	unsigned stride;                 /* bytes per character */
	int open;                        /* a run reaches the end of what was processed */
	int emitted;                     /* a piece of the open run was delivered */
	uint64_t run_len;                /* characters in the open run */
	uint64_t piece_addr;             /* address of the first character not yet delivered */
	const unsigned char *seg;        /* run text still in the caller's memory (NULL: from next base) */
	const unsigned char *seg_end;
	char *buf;                       /* run text carried across feeds, piece + 1 bytes */
	size_t blen;
};

struct scan_strings {
	struct scan_strings_opts o;
	size_t min, piece;
	int do_ascii, do_u16, utf8;
	struct lane lane[NLANES];
	int started;
	uint64_t next;                   /* address the next contiguous feed starts at */
	/* UTF-16: the last byte fed, whose character needs the next byte */
	int pend_valid;
	unsigned char pend;
	uint64_t pend_addr;
	/* UTF-8 (non-GNU): an incomplete sequence at the end of the last feed, and how many
	 * continuation bytes of an accepted sequence are still to come */
	unsigned char held[4];
	unsigned held_len;
	uint64_t held_addr;
	unsigned u8skip;
};

/* One lane's view of one block, and the events (string ends) it produced. */
struct blk_lane {
	struct lane *ln;
	uint64_t mask;
	unsigned nbits;
	const unsigned char *base;       /* character 0 of this block in this lane */
	uint64_t addr0;
	unsigned off;                    /* byte offset of character 0 in the block */
	unsigned trail;                  /* first bit of the run left open at the end (nbits: none) */
	int all;                         /* every bit set: the run just continues */
};

struct ev {
	uint16_t key;                    /* byte offset in the block where the string ends */
	uint8_t lane, close;             /* close: ends the run carried into this block */
	uint8_t start, end;              /* bit range [start, end) */
};

static unsigned char printable[256];

static void init_tables(void)
{
	if (printable['A'])
		return;
	for (int c = 0x20; c < 0x7f; c++)
		printable[c] = 1;
	printable['\t'] = 1;
}

/* ---- masks --------------------------------------------------------------------------- */

/* Bit i of *print: byte i is TAB or 0x20..0x7e; *zero: byte i is 0; *high: byte i >= 0x80.
 * Exactly 64 bytes are read. */
static inline void masks64(const unsigned char *p, uint64_t *print, uint64_t *zero, uint64_t *high)
{
#if defined(__SSE2__)
	const __m128i lo = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
	const __m128i tab = _mm_set1_epi8(9), zv = _mm_setzero_si128();
	uint64_t mp = 0, mz = 0, mh = 0;

	for (int i = 0; i < 4; i++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		/* signed compare: 0x80..0xff are negative, so only 0x20..0x7f pass the first test */
		__m128i pr = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, del), _mm_cmpgt_epi8(x, lo)),
					  _mm_cmpeq_epi8(x, tab));
		mp |= (uint64_t)(unsigned)_mm_movemask_epi8(pr) << (16 * i);
		mz |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, zv)) << (16 * i);
		mh |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << (16 * i);
	}
	*print = mp;
	*zero = mz;
	*high = mh;
#else
	uint64_t mp = 0, mz = 0, mh = 0;

	for (int i = 0; i < 64; i++) {
		mp |= (uint64_t)printable[p[i]] << i;
		mz |= (uint64_t)(p[i] == 0) << i;
		mh |= (uint64_t)(p[i] >> 7) << i;
	}
	*print = mp;
	*zero = mz;
	*high = mh;
#endif
}

/* Bits i where m[i .. i+k-1] are all set. */
static inline uint64_t runs_at_least(uint64_t m, size_t k)
{
	unsigned have = 1;

	if (k > 64)
		return 0;
	while (have * 2 <= k) {
		m &= m >> have;
		have *= 2;
	}
	if (have < k)
		m &= m >> (k - have);
	return m;
}

/* Even bits of x packed into the low 32 bits. */
static inline uint64_t even_bits(uint64_t x)
{
	x &= 0x5555555555555555ULL;
	x = (x | (x >> 1)) & 0x3333333333333333ULL;
	x = (x | (x >> 2)) & 0x0f0f0f0f0f0f0f0fULL;
	x = (x | (x >> 4)) & 0x00ff00ff00ff00ffULL;
	x = (x | (x >> 8)) & 0x0000ffff0000ffffULL;
	x = (x | (x >> 16)) & 0x00000000ffffffffULL;
	return x;
}

/* Length of the UTF-8 sequence at p if it is a well-formed character >= U+00A0 (Unicode
 * Table 3-7, minus the C1 controls), 0 if it is not, -1 if avail ends before it does. */
static int utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xbf;
	int len;

	if (b == 0xc2)
		len = 2, lo = 0xa0;
	else if (b >= 0xc3 && b <= 0xdf)
		len = 2;
	else if (b == 0xe0)
		len = 3, lo = 0xa0;
	else if (b == 0xed)
		len = 3, hi = 0x9f;
	else if (b >= 0xe1 && b <= 0xef)
		len = 3;
	else if (b == 0xf0)
		len = 4, lo = 0x90;
	else if (b == 0xf4)
		len = 4, hi = 0x8f;
	else if (b >= 0xf1 && b <= 0xf3)
		len = 4;
	else
		return 0;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= avail)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* ---- lanes ----------------------------------------------------------------------------- */

static void lane_reset(struct lane *ln)
{
	ln->open = 0;
	ln->emitted = 0;
	ln->run_len = 0;
	ln->blen = 0;
	ln->seg = NULL;
	ln->seg_end = NULL;
}

static void deliver(struct scan_strings *s, struct lane *ln, size_t len)
{
	ln->buf[len] = '\0';
	if (s->o.emit)
		s->o.emit(s->o.ctx, ln->piece_addr, ln->buf, len, ln->enc);
	ln->piece_addr += (uint64_t)len * ln->stride;
}

/* A full buffer of a run that goes on: deliver it as a piece.  In UTF-8 mode the piece
 * stops before a multibyte character it would cut. */
static void deliver_piece(struct scan_strings *s, struct lane *ln)
{
	size_t cut = ln->blen;

	if (s->utf8 && ln->stride == 1) {
		for (size_t back = 1; back <= 3 && back <= cut; back++) {
			unsigned char b = (unsigned char)ln->buf[cut - back];
			if (b < 0x80)
				break;
			if (b >= 0xc0) {        /* a lead byte: is its sequence complete? */
				size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
				if (need > back)
					cut -= back;
				break;
			}
		}
	}
	if (cut == 0)
		cut = ln->blen;
	{
		char keep[4];
		size_t rest = ln->blen - cut;
		memcpy(keep, ln->buf + cut, rest);
		deliver(s, ln, cut);
		memcpy(ln->buf, keep, rest);
		ln->blen = rest;
	}
	ln->emitted = 1;
}

/* Append count characters from src (every stride-th byte) to the lane's text. */
static void lane_put(struct scan_strings *s, struct lane *ln, const unsigned char *src, size_t count)
{
	while (count) {
		size_t room = s->piece - ln->blen;
		size_t take = count < room ? count : room;
		char *dst = ln->buf + ln->blen;

		if (ln->stride == 1) {
			memcpy(dst, src, take);
		} else {
			for (size_t i = 0; i < take; i++)
				dst[i] = (char)src[2 * i];
		}
		ln->blen += take;
		src += take * ln->stride;
		count -= take;
		if (ln->blen == s->piece)    /* run_len >= piece >= min: it is a string */
			deliver_piece(s, ln);
	}
}

/* The run is complete: deliver what is left of it, if it is long enough. */
static void lane_finish_run(struct scan_strings *s, struct lane *ln)
{
	if (ln->run_len >= s->min && (ln->blen || !ln->emitted))
		deliver(s, ln, ln->blen);
	lane_reset(ln);
}

/* Move the open run's text out of the caller's memory (end of a feed, or a stitch buffer). */
static void lane_flush(struct scan_strings *s, struct lane *ln)
{
	if (ln->open && ln->seg) {
		lane_put(s, ln, ln->seg, (size_t)(ln->seg_end - ln->seg) / ln->stride);
		ln->seg = NULL;
	}
}

/* Find the events of one lane in one block; returns the new event count. */
static unsigned lane_scan(const struct scan_strings *s, struct blk_lane *bl, uint8_t li,
			  struct ev *ev, unsigned nev)
{
	unsigned nbits = bl->nbits, j = 0, stride = bl->ln->stride;
	uint64_t full = nbits == 64 ? ~0ULL : (1ULL << nbits) - 1;
	uint64_t m = bl->mask & full, rest, inner, starts;

	bl->trail = nbits;
	bl->all = 0;
	if (nbits == 0)
		return nev;
	if (m == full) {
		bl->all = 1;
		return nev;
	}
	if (bl->ln->open) {
		unsigned lead = (unsigned)__builtin_ctzll(~m);
		ev[nev++] = (struct ev){ (uint16_t)(bl->off + lead * stride), li, 1, 0, (uint8_t)lead };
		j = lead + 1;
	}
	rest = j >= 64 ? 0 : m & (~0ULL << j);
	inner = rest;
	if (rest >> (nbits - 1) & 1) {
		uint64_t inv = ~rest & full;        /* not 0: some bit below the top is clear */
		bl->trail = 64 - (unsigned)__builtin_clzll(inv);
		inner = rest & ((1ULL << bl->trail) - 1);
	}
	starts = runs_at_least(inner, s->min);
	while (starts) {
		unsigned st = (unsigned)__builtin_ctzll(starts);
		unsigned en = st + (unsigned)__builtin_ctzll(~(inner >> st));
		ev[nev++] = (struct ev){ (uint16_t)(bl->off + en * stride), li, 0, (uint8_t)st, (uint8_t)en };
		starts = en >= 64 ? 0 : starts & (~0ULL << en);
	}
	return nev;
}

/* opts.borrowed: a complete ASCII string, delivered from where it is (no copy, no NUL:
 * at 20 million strings a GiB the copy and its calls were a sixth of --strings, perf). */
static void emit_borrowed(struct scan_strings *s, struct lane *ln, const unsigned char *text, size_t len)
{
	if (s->o.emit)
		s->o.emit(s->o.ctx, ln->piece_addr, (const char *)text, len, ln->enc);
	lane_reset(ln);
}

static void lane_exec(struct scan_strings *s, const struct blk_lane *bl, const struct ev *e)
{
	struct lane *ln = bl->ln;
	unsigned stride = ln->stride;

	if (e->close) {
		const unsigned char *seg = ln->seg ? ln->seg : bl->base;
		const unsigned char *end = bl->base + (size_t)e->end * stride;
		ln->run_len += e->end;
		if (ln->run_len >= s->min) {
			/* the whole run still in the fed data, none of it delivered: pass it there */
			if (s->o.borrowed && stride == 1 && !ln->blen && !ln->emitted &&
			    ln->run_len <= s->piece && (uint64_t)(end - seg) == ln->run_len) {
				emit_borrowed(s, ln, seg, (size_t)ln->run_len);
				return;
			}
			lane_put(s, ln, seg, (size_t)(end - seg) / stride);
		}
		lane_finish_run(s, ln);
	} else if (s->o.borrowed && stride == 1) {
		/* a run inside the block (at least min long: lane_scan's starts) */
		ln->piece_addr = bl->addr0 + e->start;
		emit_borrowed(s, ln, bl->base + e->start, (size_t)(e->end - e->start));
	} else {
		lane_reset(ln);
		ln->run_len = (uint64_t)(e->end - e->start);
		ln->piece_addr = bl->addr0 + (uint64_t)e->start * stride;
		lane_put(s, ln, bl->base + (size_t)e->start * stride, e->end - e->start);
		lane_finish_run(s, ln);
	}
}

/* After the events: the run that continues past the block. */
static void lane_tail(struct blk_lane *bl)
{
	struct lane *ln = bl->ln;
	unsigned stride = ln->stride;

	if (bl->nbits == 0)
		return;
	if (bl->all) {
		if (!ln->open) {
			ln->open = 1;
			ln->run_len = 0;
			ln->piece_addr = bl->addr0;
		}
		if (!ln->seg)
			ln->seg = bl->base;
		ln->run_len += bl->nbits;
	} else if (bl->trail < bl->nbits) {
		ln->open = 1;
		ln->emitted = 0;
		ln->blen = 0;
		ln->run_len = bl->nbits - bl->trail;
		ln->piece_addr = bl->addr0 + (uint64_t)bl->trail * stride;
		ln->seg = bl->base + (size_t)bl->trail * stride;
	}
	if (ln->open)
		ln->seg_end = bl->base + (size_t)bl->nbits * stride;
}

/* The ASCII lane alone over one block (no UTF-16; UTF-8 already in the mask): what
 * lane_scan, lane_exec and lane_tail do, with the strings found from bits instead of
 * events.  Runs start where a printable byte follows a non-printable one (or the start of
 * the block, when no run is open), and end at the first byte after them; a run inside the
 * block that is min long is found from runs_at_least, and its end from adding its start bit
 * to the mask (the carry stops at the first clear bit).  At 20 million strings a GiB, the
 * event array, its dispatch and the sort were a third of --strings (perf). */
static void ascii_block(struct scan_strings *s, struct lane *ln, const unsigned char *bp,
			uint64_t addr0, uint64_t m, unsigned k)
{
	uint64_t full = k == 64 ? ~0ULL : (1ULL << k) - 1, begins, inner, keep;
	unsigned top = 0;
	int trailing;

	if (k == 0)                              /* all of it held back (UTF-8) */
		return;
	m &= full;
	if (m == full) {                        /* the run goes on through the block */
		if (!ln->open) {
			ln->open = 1;
			ln->run_len = 0;
			ln->piece_addr = addr0;
		}
		if (!ln->seg)
			ln->seg = bp;
		ln->run_len += k;
		ln->seg_end = bp + k;
		return;
	}
	begins = m & ~((m << 1) | (uint64_t)ln->open);
	if (ln->open) {                          /* the first end closes the open run */
		unsigned x = (unsigned)__builtin_ctzll(~m);   /* m != full: a clear bit */
		if (s->o.borrowed && ln->seg && !ln->blen && !ln->emitted &&
		    ln->run_len + x >= s->min && ln->run_len + x <= s->piece &&
		    (uint64_t)(bp + x - ln->seg) == ln->run_len + x) {
			/* lane_exec's borrowed case: all of it is still in the fed data */
			if (s->o.emit)
				s->o.emit(s->o.ctx, ln->piece_addr, (const char *)ln->seg,
					  (size_t)(ln->run_len + x), SCAN_ENC_ASCII);
			lane_reset(ln);
		} else {
			struct blk_lane bl = { .ln = ln, .base = bp, .addr0 = addr0 };
			struct ev e = { .close = 1, .end = (uint8_t)x };
			lane_exec(s, &bl, &e);
		}
	}
	trailing = (int)(m >> (k - 1) & 1);
	if (trailing) {                         /* the last run continues past the block */
		top = 63 - (unsigned)__builtin_clzll(begins);
		begins &= ~(1ULL << top);
	}
	inner = m & ~(trailing ? ~0ULL << top : 0);
	keep = begins & runs_at_least(inner, s->min);
	if (keep) {
		uint64_t kend = (inner + keep) & ~inner;   /* the end of each kept run */
		do {
			unsigned st = (unsigned)__builtin_ctzll(keep);
			unsigned en = (unsigned)__builtin_ctzll(kend);
			if (s->o.borrowed) {
				if (s->o.emit)
					s->o.emit(s->o.ctx, addr0 + st, (const char *)bp + st, en - st,
						  SCAN_ENC_ASCII);
			} else {
				lane_reset(ln);
				ln->run_len = en - st;
				ln->piece_addr = addr0 + st;
				lane_put(s, ln, bp + st, en - st);
				lane_finish_run(s, ln);
			}
			keep &= keep - 1;
			kend &= kend - 1;
		} while (keep);
	}
	if (trailing) {
		ln->open = 1;
		ln->emitted = 0;
		ln->blen = 0;
		ln->run_len = k - top;
		ln->piece_addr = addr0 + top;
		ln->seg = bp + top;
		ln->seg_end = bp + k;
	}
}

/* Process one lane alone (stitch buffers, pending bytes). */
static void lane_one(struct scan_strings *s, struct blk_lane *bl)
{
	struct ev ev[40];
	unsigned nev = lane_scan(s, bl, 0, ev, 0);

	for (unsigned i = 0; i < nev; i++)
		lane_exec(s, bl, &ev[i]);
	lane_tail(bl);
}

/* ---- feeding ----------------------------------------------------------------------------- */

/* UTF-16: the pending last byte gets its partner (next: the byte after it; -1 at the end). */
static void resolve_pending(struct scan_strings *s, int next)
{
	struct blk_lane bl;
	unsigned char keep;

	if (!s->pend_valid)
		return;
	s->pend_valid = 0;
	keep = s->pend;
	bl = (struct blk_lane){ .ln = &s->lane[LANE_U16_EVEN + (s->pend_addr & 1)],
		.mask = (uint64_t)(printable[keep] && next == 0), .nbits = 1,
		.base = &keep, .addr0 = s->pend_addr };
	lane_one(s, &bl);
	lane_flush(s, bl.ln);
}

/* UTF-8: the held incomplete sequence meets the next bytes (p, n); n == 0: end of data.
 * Returns 1 when the bytes of p were all taken into the held sequence. */
static int resolve_held(struct scan_strings *s, const unsigned char *p, size_t n)
{
	unsigned char st[8];
	unsigned hl = s->held_len;
	size_t extra = n < 4 ? n : 4;
	struct blk_lane bl;
	int r;

	if (!hl)
		return 0;
	memcpy(st, s->held, hl);
	if (extra)
		memcpy(st + hl, p, extra);
	r = n ? utf8_seq(st, hl + extra) : 0;
	if (r < 0) {                             /* still incomplete: keep all of it */
		memcpy(s->held + hl, p, n);
		s->held_len += (unsigned)n;
		return 1;
	}
	s->held_len = 0;
	bl = (struct blk_lane){ .ln = &s->lane[LANE_ASCII], .mask = r > 0 ? ~0ULL : 0,
		.nbits = hl, .base = st, .addr0 = s->held_addr };
	lane_one(s, &bl);
	lane_flush(s, bl.ln);
	if (r > 0)
		s->u8skip = (unsigned)r - hl;
	return 0;
}

/* Bit i of *lead: byte i is 0xc2..0xf4 (may start a character we accept); *cont: byte i
 * is 0x80..0xbf.  Exactly 64 bytes are read. */
static inline void masks64_utf8(const unsigned char *p, uint64_t *lead, uint64_t *cont)
{
#if defined(__SSE2__)
	const __m128i c0 = _mm_set1_epi8((char)0xc0), l0 = _mm_set1_epi8((char)0xc1);
	const __m128i l1 = _mm_set1_epi8((char)0xf5);
	uint64_t ml = 0, mc = 0;

	for (int i = 0; i < 4; i++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		/* signed: 0x80..0xbf are -128..-65, 0xc2..0xf4 are -62..-12 */
		ml |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(x, l0),
							 _mm_cmplt_epi8(x, l1))) << (16 * i);
		mc |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, c0)) << (16 * i);
	}
	*lead = ml;
	*cont = mc;
#else
	uint64_t ml = 0, mc = 0;

	for (int i = 0; i < 64; i++) {
		ml |= (uint64_t)(p[i] >= 0xc2 && p[i] <= 0xf4) << i;
		mc |= (uint64_t)(p[i] >= 0x80 && p[i] <= 0xbf) << i;
	}
	*lead = ml;
	*cont = mc;
#endif
}

/* ASCII-lane mask of one block in UTF-8 mode: the printable ASCII bytes plus the bytes of
 * accepted multibyte characters.  Only a lead byte followed by a continuation byte is
 * checked; the end of a character may fall in the next block (u8skip), and a character cut
 * by the end of the data is held back (then *nbits is shortened). */
static uint64_t utf8_mask(struct scan_strings *s, const unsigned char *p, const unsigned char *mp64,
			  size_t k, size_t avail, uint64_t addr, uint64_t ascii, unsigned *nbits)
{
	uint64_t m = ascii, lead, cont, cand, full = k == 64 ? ~0ULL : (1ULL << k) - 1;
	unsigned first = 0;

	*nbits = (unsigned)k;
	if (s->u8skip) {                        /* the rest of a character begun before */
		first = s->u8skip < k ? s->u8skip : (unsigned)k;
		m |= first == 64 ? ~0ULL : (1ULL << first) - 1;
		s->u8skip -= first;
	}
	masks64_utf8(mp64, &lead, &cont);
	lead &= full;
	cont &= full;
	cand = lead & ((cont >> 1) | (uint64_t)(avail > 64 && p[64] >= 0x80 && p[64] <= 0xbf) << 63);
	if (avail == k)                         /* a lead as the very last byte: maybe incomplete */
		cand |= lead & (1ULL << (k - 1));
	if (first)
		cand &= first >= 64 ? 0 : ~0ULL << first;
	while (cand) {
		unsigned i = (unsigned)__builtin_ctzll(cand);
		int r = utf8_seq(p + i, avail - i);
		cand &= cand - 1;
		if (r > 0) {
			unsigned end = i + (unsigned)r;
			if (end > k) {
				s->u8skip = end - (unsigned)k;
				end = (unsigned)k;
			}
			m |= (end == 64 ? ~0ULL : (1ULL << end) - 1) & (~0ULL << i);
		} else if (r < 0) {
			s->held_len = (unsigned)(avail - i);
			memcpy(s->held, p + i, s->held_len);
			s->held_addr = addr + i;
			*nbits = i;
			return m & ((1ULL << i) - 1);
		}
	}
	return m;
}

static void feed_contig(struct scan_strings *s, uint64_t addr, const unsigned char *p, size_t n)
{
	int ascii_done = 0;

	if (!n)
		return;
	if (s->do_u16)
		resolve_pending(s, s->pend_addr + 1 == addr ? p[0] : 0);
	if (s->do_ascii && s->utf8)
		ascii_done = resolve_held(s, p, n);

	for (size_t blk = 0; blk < n; blk += 64) {
		size_t k = n - blk < 64 ? n - blk : 64;
		const unsigned char *bp = p + blk, *mbase = bp;
		unsigned char pad[64];
		uint64_t mp, mz, mh;
		struct blk_lane bl[3];
		struct ev ev[80];
		unsigned nev = 0, nl = 0;
		int last = blk + k == n;

		if (k < 64) {
			memcpy(pad, bp, k);
			memset(pad + k, 0, 64 - k);
			mbase = pad;
		}
		masks64(mbase, &mp, &mz, &mh);
		if (!s->do_u16 && s->do_ascii && !ascii_done) {
			unsigned nb = (unsigned)k;
			uint64_t m = mp;
			if (s->utf8 && (mh || s->u8skip)) {
				m = utf8_mask(s, bp, mbase, k, n - blk, addr + blk, mp, &nb);
				ascii_done = s->held_len != 0;  /* the rest waits for the next feed */
			}
			ascii_block(s, &s->lane[LANE_ASCII], bp, addr + blk, m, nb);
			continue;
		}
		if (s->do_ascii && !ascii_done) {
			unsigned nb = (unsigned)k;
			uint64_t m = mp;
			if (s->utf8 && (mh || s->u8skip)) {
				m = utf8_mask(s, bp, mbase, k, n - blk, addr + blk, mp, &nb);
				ascii_done = s->held_len != 0;  /* the rest waits for the next feed */
			}
			bl[nl] = (struct blk_lane){ .ln = &s->lane[LANE_ASCII], .mask = m, .nbits = nb,
				.base = bp, .addr0 = addr + blk, .off = 0 };
			nev = lane_scan(s, &bl[nl], (uint8_t)nl, ev, nev);
			nl++;
		}
		if (s->do_u16) {
			/* pair i valid: byte i printable and byte i+1 zero; the last byte of the
			 * data waits for its partner */
			unsigned mbits = last ? (unsigned)k - 1 : 64;
			uint64_t znext = last ? 0 : (uint64_t)(bp[64] == 0);
			uint64_t v = mp & ((mz >> 1) | (znext << 63));
			unsigned par = (unsigned)((addr + blk) & 1);
			bl[nl] = (struct blk_lane){ .ln = &s->lane[LANE_U16_EVEN + par], .mask = even_bits(v),
				.nbits = (mbits + 1) / 2, .base = bp, .addr0 = addr + blk, .off = 0 };
			nev = lane_scan(s, &bl[nl], (uint8_t)nl, ev, nev);
			nl++;
			bl[nl] = (struct blk_lane){ .ln = &s->lane[LANE_U16_EVEN + (par ^ 1)],
				.mask = even_bits(v >> 1), .nbits = mbits / 2, .base = bp + 1,
				.addr0 = addr + blk + 1, .off = 1 };
			nev = lane_scan(s, &bl[nl], (uint8_t)nl, ev, nev);
			nl++;
		}
		if (nev > 1 && nl > 1) {             /* several lanes: in order of end address */
			for (unsigned i = 1; i < nev; i++) {
				struct ev e = ev[i];
				unsigned j = i;
				while (j > 0 && (ev[j - 1].key > e.key ||
						 (ev[j - 1].key == e.key && ev[j - 1].lane > e.lane))) {
					ev[j] = ev[j - 1];
					j--;
				}
				ev[j] = e;
			}
		}
		for (unsigned i = 0; i < nev; i++)
			lane_exec(s, &bl[ev[i].lane], &ev[i]);
		for (unsigned i = 0; i < nl; i++)
			lane_tail(&bl[i]);
	}
	if (s->do_u16) {
		s->pend_valid = 1;
		s->pend = p[n - 1];
		s->pend_addr = addr + n - 1;
	}
	for (int i = 0; i < NLANES; i++)
		lane_flush(s, &s->lane[i]);
	s->next = addr + n;
}

/* End of a contiguous stretch: everything open is complete. */
static void end_stream(struct scan_strings *s)
{
	resolve_pending(s, -1);
	resolve_held(s, NULL, 0);
	s->u8skip = 0;
	for (int i = 0; i < NLANES; i++) {
		struct lane *ln = &s->lane[i];
		if (ln->open) {
			lane_flush(s, ln);
			lane_finish_run(s, ln);
		}
	}
}

/* Bytes that were not fed between the last feed and addr read as zeros: two zero bytes end
 * every run, whatever the hole's length. */
static void gap_to(struct scan_strings *s, uint64_t addr)
{
	static const unsigned char zeros[2];

	if (!s->started) {
		s->started = 1;
		s->next = addr;
		return;
	}
	if (addr == s->next)
		return;
	if (addr < s->next) {                    /* not in address order: a new stream */
		end_stream(s);
		s->next = addr;
		return;
	}
	feed_contig(s, s->next, zeros, addr - s->next < 2 ? (size_t)(addr - s->next) : 2);
	s->next = addr;
}

struct scan_strings *scan_strings_new(const struct scan_strings_opts *o)
{
	struct scan_strings *s = xcalloc(1, sizeof(*s));

	init_tables();
	s->o = *o;
	s->min = o->min_len ? o->min_len : 4;
	s->piece = s->min > PIECE_BYTES ? s->min : PIECE_BYTES;
	s->do_ascii = !o->encodings || (o->encodings & SCAN_ENC_ASCII);
	s->do_u16 = (o->encodings & SCAN_ENC_UTF16LE) != 0;
	s->utf8 = !o->gnu;
	for (int i = 0; i < NLANES; i++) {
		struct lane *ln = &s->lane[i];
		ln->enc = i == LANE_ASCII ? SCAN_ENC_ASCII : SCAN_ENC_UTF16LE;
		ln->stride = i == LANE_ASCII ? 1 : 2;
		if ((i == LANE_ASCII && s->do_ascii) || (i != LANE_ASCII && s->do_u16))
			ln->buf = xmalloc(s->piece + 1);
		lane_reset(ln);
	}
	return s;
}

void scan_strings_feed(struct scan_strings *s, uint64_t addr, const unsigned char *data, size_t len)
{
	if (!len)
		return;
	gap_to(s, addr);
	feed_contig(s, addr, data, len);
}

void scan_strings_hole(struct scan_strings *s, uint64_t addr, uint64_t len)
{
	if (!len)
		return;
	gap_to(s, addr);
	gap_to(s, addr + len);
}

void scan_strings_finish(struct scan_strings *s)
{
	end_stream(s);
	s->started = 0;
}

void scan_strings_free(struct scan_strings *s)
{
	if (!s)
		return;
	for (int i = 0; i < NLANES; i++)
		free(s->lane[i].buf);
	free(s);
}
