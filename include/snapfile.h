/* snapfile: load a snapshot from a file (ours, a raw smaps copy, or pmap output), and take
 * a snapshot of a live process into a file, atomically. */
#ifndef RW_SNAPFILE_H
#define RW_SNAPFILE_H

#include <stdio.h>
#include "region.h"
#include "procfs.h"
#include "util.h"

/* Largest snapshot file we load (a 60,000-mapping smaps is about 60 MiB). */
#define SNAPFILE_MAX_BYTES ((size_t)1 << 30)

/* Load and parse path ("-" is stdin). Errors name the file and line. */
int snapfile_load(const char *path, struct snapshot **out, struct rw_err *err);

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
