/* scan: streaming analyzers over the bytes of one region (design §3 scan_*).
 *
 * Every analyzer is fed the region in address order, as chunks (addr, data, len) of any
 * size, plus holes: address ranges that were not read (pages not present, unreadable).
 * A hole reads as zero bytes where a byte-exact view needs it (hexdump, GNU strings on a
 * sparse dump file), and as "nothing" for statistics (histogram counts only bytes read).
 * Analyzers keep bounded memory whatever the region size; none does I/O: results go
 * through callbacks or are read from the analyzer at the end. */
#ifndef RW_SCAN_H
#define RW_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- strings (scan_strings.c) ----------------------------------------------------- */

enum scan_enc { SCAN_ENC_ASCII = 1, SCAN_ENC_UTF16LE = 2, SCAN_ENC_BOTH = 3 };

struct scan_strings_opts {
	size_t min_len;             /* default 4, like strings(1) */
	int encodings;              /* enum scan_enc bits */
	/* GNU mode: byte-identical to `strings -a -n MIN` (-e s: 7-bit; tab counts as
	 * printable) and, for UTF-16LE, to `strings -a -e l`. */
	int gnu;
	/* Called for each string found; addr is the target address of its first byte; text is
	 * the decoded string (UTF-16LE decoded to its low bytes, as GNU strings prints it),
	 * NUL-terminated.  Bounded memory: a string longer than 1 MiB comes in pieces; a piece
	 * continues the previous one iff it has the same enc and starts where that one ended. */
	void (*emit)(void *ctx, uint64_t addr, const char *text, size_t len, enum scan_enc enc);
	void *ctx;
	/* The caller takes text by its length: an ASCII string that lies in one feed may then
	 * be passed where it is in the fed data, not copied, and is not NUL-terminated. */
	int borrowed;
};

struct scan_strings;
struct scan_strings *scan_strings_new(const struct scan_strings_opts *o);
void scan_strings_feed(struct scan_strings *s, uint64_t addr, const unsigned char *data, size_t len);
void scan_strings_hole(struct scan_strings *s, uint64_t addr, uint64_t len);
void scan_strings_finish(struct scan_strings *s);   /* flush the run in progress */
void scan_strings_free(struct scan_strings *s);

/* ---- repeated strings and shapes (scan_top.c) -------------------------------------- */

/* Counts strings and their shapes (digit runs, all-hex tokens with a digit, and all-hex
 * tokens of 8+ letters replaced by '#': "user_session id=# token=# role=viewer") in
 * bounded memory: exact while the table
 * has room, then the heavy-hitters algorithm of Metwally et al. ("Space-Saving"), whose
 * counts are upper bounds with a known maximum error, reported per entry. */
struct scan_top;
struct scan_top_entry {
	const char *text;            /* borrowed from the analyzer */
	size_t len;
	uint64_t count;
	uint64_t error;              /* count may exceed the truth by at most this (0 = exact) */
	uint64_t first_addr;         /* address of the first occurrence seen */
};
/* Strings longer than this are counted by their first SCAN_TOP_KEY_MAX bytes and "...". */
#define SCAN_TOP_KEY_MAX 256u
struct scan_top *scan_top_new(size_t capacity);     /* distinct strings tracked, e.g. 65536 */
void scan_top_add(struct scan_top *t, const char *text, size_t len, uint64_t addr);
/* The n most frequent, best first; returns how many were written. */
size_t scan_top_result(struct scan_top *t, struct scan_top_entry *out, size_t n);
uint64_t scan_top_total(const struct scan_top *t);  /* strings added */
uint64_t scan_top_rebuilds(const struct scan_top *t); /* hash groups rebuilt (tests) */
void scan_top_free(struct scan_top *t);
/* The same adds counted on a thread of its own (scan_top_worker.c), in the same order, so
 * every count is what scan_top_add gives.  NULL when no thread can be started (add to the
 * table directly then).  stays: text is kept by pointer, and must stay readable until
 * scan_top_worker_settle of a mark taken after it; otherwise it is copied at once.
 * scan_top_worker_mark hands over what was added and names it (without waiting; marks
 * grow); scan_top_worker_settle(w, m), which any one other thread may call, waits until
 * everything added before mark m is counted.  After scan_top_worker_finish (which frees w)
 * the table is complete and belongs to the caller again; it must not be touched before
 * that.  w may be NULL in mark and settle (mark gives 0). */
struct scan_top_worker;
struct scan_top_worker *scan_top_worker_new(struct scan_top *t);
void scan_top_worker_add(struct scan_top_worker *w, const char *text, size_t len, uint64_t addr,
			 int stays);
/* fn(ctx, addr, buf, len) on the counting thread, in order with the other calls, and
 * counted by marks and syncs as the strings are: buf must stay readable as a text kept
 * by pointer must (the --histogram, when --top has the thread: it would be a third busy
 * thread on two cores otherwise). */
typedef void scan_top_worker_fn(void *ctx, uint64_t addr, const unsigned char *buf, uint64_t len);
void scan_top_worker_call(struct scan_top_worker *w, scan_top_worker_fn *fn, void *ctx,
			  uint64_t addr, const unsigned char *buf, uint64_t len);
/* Whether the counter is behind (batches wait) and has no call left to run: then work
 * that scan_top_worker_call would hand over can be done by the caller instead, in order. */
int scan_top_worker_behind(struct scan_top_worker *w);
uint64_t scan_top_worker_mark(struct scan_top_worker *w);
void scan_top_worker_settle(struct scan_top_worker *w, uint64_t mark);
void scan_top_worker_finish(struct scan_top_worker *w);
/* Shape of a string into out (at most outlen-1 bytes + NUL); returns its length. */
size_t scan_shape(const char *text, size_t len, char *out, size_t outlen);
/* Whether scan_shape uses AVX-512 (BW and VBMI2) for texts up to 64 bytes: -1 until the
 * first call asks the processor, then 1 or 0; a test sets 0 for the SSE2 paths. */
extern int scan_shape_avx512;

/* ---- hexdump (scan_hexdump.c) ------------------------------------------------------ */

/* Output byte-identical to `hexdump -C` of the same bytes (with '*' squeezing of repeated
 * 16-byte lines and the final offset line), except that the offset column is
 * base + offset when base_is_address (printed with %08llx). */
struct scan_hexdump;
struct scan_hexdump *scan_hexdump_new(FILE *out, uint64_t base, int base_is_address);
/* Chunks must be contiguous from base; a hole is fed as zeros (efficiently). */
void scan_hexdump_feed(struct scan_hexdump *h, const unsigned char *data, size_t len);
void scan_hexdump_zeros(struct scan_hexdump *h, uint64_t len);
void scan_hexdump_finish(struct scan_hexdump *h);   /* last partial line + final offset */
void scan_hexdump_free(struct scan_hexdump *h);

/* ---- byte histogram and entropy (scan_hist.c) --------------------------------------- */

#define SCAN_BLOCK (64u * 1024)   /* entropy / classification block, aligned to the region start */

enum scan_block_class {
	SCAN_BLOCK_ZEROS, SCAN_BLOCK_TEXT, SCAN_BLOCK_POINTERS, SCAN_BLOCK_HIGH_ENTROPY,
	SCAN_BLOCK_PATTERN, SCAN_BLOCK_MIXED, SCAN_BLOCK_UNREAD
};

struct scan_block {
	uint64_t addr;               /* block start */
	uint32_t bytes;              /* bytes read in it (< SCAN_BLOCK when partly a hole) */
	uint8_t cls;                 /* enum scan_block_class */
	uint8_t period;              /* SCAN_BLOCK_PATTERN: repeat period in bytes (1..64) */
	float entropy;               /* bits per byte, 0..8 */
	uint64_t count;              /* blocks this entry stands for: 1, or a run of UNREAD
	                              * blocks reported at once (holes cost O(runs), not O(span)) */
};

struct scan_hist_opts {
	uint64_t base;               /* region start: blocks are aligned to it */
	/* Called once per finished block, in address order (bounded memory: no block list). */
	void (*block)(void *ctx, const struct scan_block *b);
	void *ctx;
};

struct scan_hist_result {
	uint64_t counts[256];
	uint64_t bytes;              /* bytes counted (holes excluded) */
	double entropy;              /* bits per byte over all bytes counted */
	uint64_t pages, zero_pages;  /* 4 KiB pages fully read, and those all zero */
	uint64_t blocks[SCAN_BLOCK_UNREAD + 1];  /* blocks per class */
};

struct scan_hist;
struct scan_hist *scan_hist_new(const struct scan_hist_opts *o);
void scan_hist_feed(struct scan_hist *h, uint64_t addr, const unsigned char *data, size_t len);

/* The heavy part of a feed, done apart (on another thread): scan_hist_count counts the
 * whole aligned words of [addr, addr + len) (len <= SCAN_HIST_PART_MAX) against blocks
 * aligned to base, with no scan_hist; scan_hist_feed_counted then feeds the same bytes
 * with those counts, and does the rest (the bytes around them, pages, patterns, blocks).
 * The result is scan_hist_feed's to the bit.  A part that is not of these bytes, or not of
 * the histogram's base, is ignored (the bytes are counted as scan_hist_feed would). */
#define SCAN_HIST_PART_MAX (1u << 20)
struct scan_hist_block_part {
	uint32_t cnt[256];
	uint32_t words, ptr_words, zero_words;
	uint16_t nonzero;            /* bit k: a nonzero word in page k of the block */
};
struct scan_hist_part {
	uint64_t base, addr, len;
	struct scan_hist_block_part blk[SCAN_HIST_PART_MAX / SCAN_BLOCK + 1];
};
void scan_hist_count(uint64_t base, uint64_t addr, const unsigned char *data, size_t len,
		     struct scan_hist_part *part);
void scan_hist_feed_counted(struct scan_hist *h, uint64_t addr, const unsigned char *data,
			    size_t len, const struct scan_hist_part *part);
void scan_hist_hole(struct scan_hist *h, uint64_t addr, uint64_t len);
void scan_hist_finish(struct scan_hist *h, struct scan_hist_result *out);
void scan_hist_free(struct scan_hist *h);
const char *scan_block_class_name(enum scan_block_class c);

/* ---- regex search (scan_grep.c, the only includer of pcre2) ------------------------ */

/* Matches that span chunk boundaries are found as long as they are shorter than
 * SCAN_GREP_WINDOW bytes: that many bytes of the previous chunk are kept and searched again
 * with the next one (documented limit). Holes break the stream (no match spans a hole). */
#define SCAN_GREP_WINDOW 4096u

struct scan_grep_opts {
	const char *pattern;
	int caseless;
	size_t max_matches;          /* stop reporting after this many (0 = 1000) */
	void (*match)(void *ctx, uint64_t addr, const unsigned char *text, size_t len);
	void *ctx;
};

struct scan_grep;
/* NULL with *errmsg (static or in errbuf) on a bad pattern. */
struct scan_grep *scan_grep_new(const struct scan_grep_opts *o, char *errbuf, size_t errlen);
void scan_grep_feed(struct scan_grep *g, uint64_t addr, const unsigned char *data, size_t len);
void scan_grep_hole(struct scan_grep *g, uint64_t addr, uint64_t len);
void scan_grep_finish(struct scan_grep *g);
uint64_t scan_grep_count(const struct scan_grep *g);   /* matches found (also past max) */
void scan_grep_free(struct scan_grep *g);

#endif
