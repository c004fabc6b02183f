/* snapfile: load a snapshot from a file (ours, a raw smaps copy, or pmap output), and take
 * a snapshot of a live process into a file, atomically. */
#ifndef RW_SNAPFILE_H
#define RW_SNAPFILE_H

#include <stdio.h>
#include "region.h"
#include "procfs.h"
#include "smaps.h"
#include "util.h"

/* Largest snapshot file we load (a 60,000-mapping smaps is about 60 MiB). */
#define SNAPFILE_MAX_BYTES ((size_t)1 << 30)

/* A snapshot read as a stream of regions, for diff: its memory is bounded whatever the input
 * size. smaps and maps text go through the incremental parser in 256 KiB reads (any file
 * kind: pipes, fifos, devices, '-'); pmap text is parsed whole (its parser is not
 * incremental). Input past SNAPFILE_MAX_BYTES, or $REGIONWATCH_INPUT_LIMIT when set, is
 * refused as it is read. */
struct snapfile_stream {
	const char *path;
	int fd;                       /* -1 once closed */
	int regular;                  /* a regular file */
	int tail_ok;                  /* not a format-2 snapshot of ours, or its last line is
	                               * the closing '# end' (checked before any region is read) */
	int done;                     /* the parser finished */
	int rc;                       /* first error, sticky */
	struct rw_err err;
	size_t limit, bytes;          /* input bytes: the most taken, and read so far */
	struct snapshot *s;           /* meta and counts; the parser's window */
	struct snapshot *whole;       /* pmap text, parsed whole; NULL when streaming */
	struct smaps_parser ps;
	struct snapshot *queue;       /* regions the parser handed out, not yet taken */
	size_t next;                  /* first untaken region of queue (or whole) */
	char *buf;
};

int snapfile_stream_open(struct snapfile_stream *st, const char *path, struct rw_err *err);
/* *r: the next region in address order, kinds assigned, borrowed until the next pop; NULL at
 * the end. Errors name the file and line, and are returned again by every later call. */
int snapfile_stream_peek(struct snapfile_stream *st, const struct region **r, struct rw_err *err);
void snapfile_stream_pop(struct snapfile_stream *st);
/* Meta, format, torn records and fields of the input; complete at the end. */
const struct snapshot *snapfile_stream_snapshot(const struct snapfile_stream *st);
/* Regions read so far (all of them at the end). */
size_t snapfile_stream_regions(const struct snapfile_stream *st);
void snapfile_stream_close(struct snapfile_stream *st);

/* Parse the live smaps of an opened process (one read() pass). */
int snapfile_capture(const struct procfs *p, struct snapshot **out, struct rw_err *err);

/* SNAPFILE_ESCAPE: standard output is a terminal: the smaps text goes through escape_term
 * (mapping names are the target's bytes); files and pipes get it verbatim. */
enum snapfile_flags { SNAPFILE_FORCE = 1, SNAPFILE_ESCAPE = 2 };

/* Write our header + the kernel's smaps text verbatim + our closing '# end' line (regions
 * and torn records counted on the way) to path, through a temporary file in the same
 * directory and rename(2); mode 0644; refuses to replace an existing file unless
 * SNAPFILE_FORCE. path NULL or "-" writes to stdout. *bytes_out gets the smaps byte count,
 * *torn_out (if not NULL) the torn records. */
int snapfile_write(const struct procfs *p, const char *path, int flags, size_t *bytes_out,
		   size_t *torn_out, struct rw_err *err);

#endif
