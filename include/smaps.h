/* smaps: pure parser of smaps / maps / pmap -x / pmap -X / -XX text into a snapshot,
 * and the writer of our snapshot header. No I/O. */
#ifndef RW_SMAPS_H
#define RW_SMAPS_H

#include <stddef.h>
#include "region.h"
#include "util.h"

/* Parse [buf, buf+len) into s (which must be fresh from snapshot_new()).
 * The format is detected from the text. '#' lines before the first region are our header
 * (see smaps_format_header). A record that overlaps records before it (a torn /proc read:
 * design §5) replaces them; s->torn counts the replaced ones. A snapshot of ours from
 * format version 2 on must close with its end line (smaps_format_end): without it the file
 * was cut short. Returns 0, or -EINVAL with err->msg naming the line. */
int smaps_parse(const char *buf, size_t len, struct snapshot *s, struct rw_err *err);

/* The same parser for smaps or maps text (with or without our header) fed in pieces of any
 * size, so a reader never holds the whole text (41 MiB at 60,000 mappings): init, feed each
 * piece as it is read, finish. A line cut by the end of a piece is kept until its end comes
 * (its memory is one line). Errors name the line as smaps_parse would, and the first one is
 * returned again by every later feed and by finish. finish always frees the parser's memory.
 * s must be fresh from snapshot_new() or snapshot_reset(). */
typedef void (*smaps_region_fn)(void *ctx, const struct region *r);

struct smaps_parser {
	struct snapshot *s;
	int rc;                       /* the first error, sticky */
	int in_regions;               /* past our header */
	int any_fields;               /* a 'Key: value' line was seen (smaps, not maps) */
	size_t no;                    /* complete lines parsed so far */
	size_t hint;                  /* next expected key */
	const char *last_path;        /* shared by consecutive VMAs of one file */
	size_t last_path_len;
	char *carry;                  /* a line cut by the end of the last piece */
	size_t carry_len, carry_cap;
	/* stream mode (smaps_parser_stream) */
	smaps_region_fn emit;
	void *emit_ctx;
	size_t emitted;               /* regions handed out so far */
	struct region before;         /* the last one handed out: its neighbour, for kinds */
	struct smaps_sp *sps;         /* s->threads with a stack pointer, sorted by it */
	size_t nsps, sps_threads;     /* entries; s->nthreads when it was built */
};
void smaps_parser_init(struct smaps_parser *ps, struct snapshot *s);
int smaps_parser_feed(struct smaps_parser *ps, const char *buf, size_t len, struct rw_err *err);
int smaps_parser_finish(struct smaps_parser *ps, struct rw_err *err);

/* Stream mode, set after init and before the first feed: completed regions are handed to
 * fn, classified (kind, thread stacks named from '# thread' lines) and in address order, and
 * dropped; s keeps only the meta, the counts (torn, fields_present, format) and a window of
 * the last SMAPS_STREAM_WINDOW regions, so memory does not grow with the input. A region is
 * handed out once that many records follow it: a torn record replaces the earlier ones it
 * overlaps (smaps_parse), and one that would reach back past the window is refused (line N)
 * rather than resolved differently from smaps_parse; the kernel's torn records reach back a
 * few records (one read() page). The region passed to fn, and its strings, are borrowed for
 * the call. finish checks the '# end' line (format 2) before it hands out the last window,
 * so a cut-short snapshot fails before its last regions are seen. s->count is the window;
 * ps->emitted counts the regions after finish. */
#define SMAPS_STREAM_WINDOW 256
void smaps_parser_stream(struct smaps_parser *ps, smaps_region_fn fn, void *ctx);

/* Is [buf, buf+len) the start of smaps or maps text, which the incremental parser reads?
 * 1: the first line that is not blank or '#' is a region header; 0: it is something else
 * (pmap output, or not smaps: smaps_parse names the line); -1: no such complete line yet
 * (at the end of the input, pass final: the last line need not end in a newline). */
int smaps_sniff(const char *buf, size_t len, int final);

/* Format our snapshot header ('#' lines, newline-terminated) into out.
 * Returns the length it needed (like snprintf). */
size_t smaps_format_header(char *out, size_t outlen, const struct snapshot_meta *m);

/* The closing line of our snapshot, written after the smaps text:
 * "# end REGIONS regions, TORN torn". Returns the length it needed (like snprintf). */
size_t smaps_format_end(char *out, size_t outlen, size_t regions, size_t torn);

/* Counts regions and torn records of smaps text fed in pieces of any size, as smaps_parse
 * would resolve them, without parsing fields (snap streams the text it copies through it).
 * Its memory is 16 bytes per region. */
struct smaps_tally {
	uint64_t *spans;              /* [2 * n]: start, end of the regions kept so far */
	size_t n, cap;
	size_t torn;
	char head[40];                /* the start of a line cut by the end of a piece */
	size_t head_len;
	int in_line;                  /* the last piece ended inside a line */
};
void smaps_tally_feed(struct smaps_tally *t, const char *buf, size_t len);
/* Regions (after torn records are resolved); frees the tally's memory. */
size_t smaps_tally_finish(struct smaps_tally *t);

#define SMAPS_HEADER_MAGIC "# regionwatch-snapshot"
/* 2: the closing "# end" line. Version 1 files (no end line) are still read. */
#define SMAPS_FORMAT_VERSION 2

#endif
