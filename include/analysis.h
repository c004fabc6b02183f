/* analysis: one pass of the requested analyzers over a stream of (addr, bytes) and holes,
 * shared by dump (live memory) and analyze (a file). Streams strings / hexdump text to a
 * FILE as it goes; keeps bounded summaries (top strings, histogram, matches) for the end. */
#ifndef RW_ANALYSIS_H
#define RW_ANALYSIS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include "memread.h"
#include "scan.h"
#include "util.h"

struct analysis_opts {
	int strings;                 /* list printable strings */
	int gnu;                     /* ... byte-identical to GNU strings (-a -n MIN [-t x] [-e l]) */
	int gnu_radix_hex;           /* -t x: file offset before each string */
	size_t min_len;              /* -n, default 4 */
	int encodings;               /* enum scan_enc bits; default ASCII */
	size_t top;                  /* --top N (0: off) */
	int hexdump;                 /* hexdump -C */
	int hexdump_file_offsets;    /* --offsets file: offsets from base, not addresses */
	int histogram;
	const char *grep;            /* pcre2 pattern or NULL */
	int json;                    /* collect for a JSON document instead of printing */
	uint64_t base, size;         /* the range analysed: [base, base+size) */
	FILE *out;
};

#define ANALYSIS_MAX_LISTED 100000   /* strings kept for JSON; runs and matches kept */
#define ANALYSIS_MAX_BLOCK_RUNS 512
#define ANALYSIS_OUTBUF (64u << 10)

struct analysis_string {
	uint64_t addr;
	char *text;
	uint8_t enc;
};

struct analysis_block_run {
	uint64_t start, end;
	uint8_t cls, period;
	double entropy_min, entropy_max;
	uint64_t blocks;
};

struct analysis_match {
	uint64_t addr;
	char *text;                  /* escaped, NUL-terminated */
};

struct analysis {
	struct analysis_opts o;
	struct scan_strings *strings;
	struct scan_top *top_strings, *top_shapes;
	struct scan_top_worker *top_worker; /* counts top_strings until analysis_finish */
	uintptr_t feed_lo;           /* the data being fed to the strings scan (feed_len 0: none) */
	size_t feed_len;
	struct scan_hexdump *hexdump;
	struct scan_hist *hist;
	struct scan_grep *grep;
	uint64_t hexdump_next;       /* next offset the hexdump expects */
	uint64_t string_end;         /* end of the last string piece emitted (continuations) */
	int string_enc, string_open; /* its encoding; a text line is still open */
	int string_any;              /* a string was seen (string_end is valid) */
	/* results */
	uint64_t strings_found;
	struct analysis_string *listed;
	size_t nlisted, listed_cap;
	int listed_truncated;
	struct scan_hist_result hist_result;
	struct analysis_block_run *runs;
	size_t nruns;
	uint64_t runs_dropped;
	struct analysis_match *matches;
	size_t nmatches, matches_cap;
	uint64_t bytes_seen, bytes_hole;
	int hist_early;              /* the histogram is fed by analysis_early_* */
	/* The histogram alone (analysis_split): memread's reading thread counts some of the
	 * pieces (scan_hist_count) into a ring that the delivering thread uses in order. */
	int hist_halves;
	struct scan_hist_part *parts;  /* ANALYSIS_HIST_PARTS */
	_Atomic uint64_t parts_made, parts_used;
	uint64_t early_seen, early_taken;  /* bytes the reading thread saw, and counted */
	char *obuf;                  /* the string listing, ANALYSIS_OUTBUF bytes */
	size_t olen;
};

/* NULL with err filled on a bad option (e.g. a regex that does not compile). */
struct analysis *analysis_new(const struct analysis_opts *o, struct rw_err *err);
/* memread_sink-compatible callbacks (ctx = the analysis). */
void analysis_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len);
void analysis_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why);
/* memread_sink mark/settle (ctx = the analysis).  --top's counting thread may go on
 * reading the bytes of a data call after it returns: a caller takes analysis_mark after
 * its calls for a buffer and calls analysis_settle with it before it writes to or frees
 * that buffer (memread does; analysis_finish settles everything). */
uint64_t analysis_mark(void *ctx);
void analysis_settle(void *ctx, uint64_t mark);
/* With --histogram and another analysis, the histogram can run on memread's reading
 * thread (memread_opts early_data/early_hole = analysis_early_*) while the others run on
 * the delivering one; with --histogram alone (no --top), the reading thread counts a share
 * of the pieces and the delivering one the rest.  analysis_split() says whether either is
 * worth it, and from then on analysis_data/hole expect analysis_early_data/hole to see
 * every piece first, with the same arguments, on one thread (memread does). */
int analysis_split(struct analysis *a);
void analysis_early_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len);
void analysis_early_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why);
/* End of the stream: flush analyzers; in text mode print the summaries to o.out. */
void analysis_finish(struct analysis *a);
void analysis_free(struct analysis *a);

/* Top entries after finish (borrowed from the analyzers). */
size_t analysis_top_strings(struct analysis *a, struct scan_top_entry *out, size_t n);
size_t analysis_top_shapes(struct analysis *a, struct scan_top_entry *out, size_t n);

#endif
