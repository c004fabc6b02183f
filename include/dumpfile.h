/* dumpfile: the sparse dump file and its manifest (design §5 "Dump file"), shared by
 * `dump -o` and the trigger action `dump`: a memread sink that writes each byte at
 * offset = address - base (pages not read stay holes), the runs read kept for the
 * manifest (bounded), and the commit: size set, fsync, link into place, then FILE.json.
 * Prints nothing. */
#ifndef RW_DUMPFILE_H
#define RW_DUMPFILE_H

#include <stddef.h>
#include <stdint.h>
#include "analysis.h"
#include "memread.h"
#include "out_json.h"
#include "region.h"
#include "util.h"

#define DUMPFILE_MANIFEST_MAX_RUNS 10000

struct dumpfile {
	struct analysis *an;             /* optional: fed the same bytes (NULL: none) */
	int fd;                          /* dump file, or -1 (analyses only) */
	uint64_t base;                   /* address of file offset 0 */
	int write_errno;
	uint64_t *runs;                  /* for the manifest, at most DUMPFILE_MANIFEST_MAX_RUNS */
	size_t nruns, runs_cap;
	uint64_t runs_total;
};

/* memread sink and run callbacks; ctx is a struct dumpfile. */
void dumpfile_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len);
void dumpfile_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why);
/* The analysis's mark and settle (analysis_mark), for a sink with an analysis. */
uint64_t dumpfile_mark(void *ctx);
void dumpfile_settle(void *ctx, uint64_t mark);
void dumpfile_run(void *ctx, uint64_t start, uint64_t end);

/* What the manifest and dump --json say about the read (the region is the one holding
 * start in snap). */
void dumpfile_info(struct dump_info *info, const struct snapshot *snap, const char *out,
		   uint64_t start, uint64_t end, const struct dumpfile *d,
		   const struct memread_stats *st);

/* PATH.json beside a dump, written to a temporary file and renamed. 0 or -errno. */
int dumpfile_write_manifest(const char *path, const struct dump_info *info, int force,
			    struct rw_err *err);

/* The dump's size set to info->end - info->start, synced, linked into place from tmp
 * (tmpfile_open), then its manifest: a dump without its manifest would be a file claimed
 * complete, so it is removed then. On success d->fd is closed (-1) and tmp emptied.
 * Returns 0 or -errno with err set: when d->fd is still open, nothing was kept (the
 * caller discards tmp); when it is -1, the manifest failed and the dump was removed. */
int dumpfile_commit(struct dumpfile *d, char *tmp, const char *out, const struct dump_info *info,
		    int force, struct rw_err *err);

/* What a dump reads: sorted, disjoint address ranges (touching or overlapping ones are
 * joined as they are added, which must be in address order). */
struct dumpfile_ranges {
	uint64_t (*r)[2];
	size_t n, cap;
};
void dumpfile_ranges_add(struct dumpfile_ranges *rs, uint64_t start, uint64_t end);
/* The area holding addr in snap, as `--region ADDR` resolves it (the touching pieces of one
 * reservation), added to rs. Returns 1, or 0 when it is gone from the map. */
int dumpfile_ranges_add_area(struct dumpfile_ranges *rs, const struct snapshot *snap, uint64_t addr);
void dumpfile_ranges_free(struct dumpfile_ranges *rs);

/* Read every range of rs into sink, in address order: the gaps between them are holes for
 * the analyses (MEMREAD_HOLE_UNMAPPED: a string does not run across them) but are not
 * counted as pages. st is the sum over the ranges. Stops at the first error (-errno). */
int dumpfile_read_ranges(const struct procfs *p, const struct snapshot *snap,
			 const struct dumpfile_ranges *rs, const struct memread_opts *mo,
			 const struct memread_sink *sink, struct memread_stats *st, struct rw_err *err);

#endif
