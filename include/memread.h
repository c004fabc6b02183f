/* memread: read the present pages of a range of a live process (design §4 "Present pages").
 * Never reads a page that /proc/PID/pagemap does not report present: reading a
 * never-touched anonymous page would allocate it in the target. Never writes, never stops. */
#ifndef RW_MEMREAD_H
#define RW_MEMREAD_H

#include <stddef.h>
#include <stdint.h>
#include "procfs.h"
#include "region.h"
#include "util.h"

enum memread_hole {
	MEMREAD_HOLE_NOT_PRESENT,   /* pagemap: not present (never touched, or freed) */
	MEMREAD_HOLE_SWAPPED,       /* pagemap: swapped out; reading would swap it in */
	MEMREAD_HOLE_UNMAPPED,      /* no mapping there (gap, or unmapped during the read) */
	MEMREAD_HOLE_SKIPPED,       /* VmFlags io/pf/um/uw/dd, [vvar]: not read on purpose */
	MEMREAD_HOLE_UNREADABLE,    /* the kernel refused the read (EFAULT/EIO) */
	MEMREAD_HOLE_COUNT
};

struct memread_sink {
	/* Bytes read, in address order. */
	void (*data)(void *ctx, uint64_t addr, const unsigned char *buf, size_t len);
	/* A range not read, in address order between data calls. */
	void (*hole)(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why);
	void *ctx;
	/* Optional, both or neither: the sink may go on reading the bytes of a data call after
	 * it returns.  mark, called after the calls of one buffer on the thread that made them,
	 * names everything delivered so far (marks never decrease); settle(m), called on the
	 * reading thread before that buffer is filled again and before memread returns,
	 * returns once the sink reads nothing delivered up to mark m. */
	uint64_t (*mark)(void *ctx);
	void (*settle)(void *ctx, uint64_t mark);
};

struct memread_stats {
	uint64_t bytes_read;
	uint64_t pages_present;          /* pages pagemap reported present in the range */
	uint64_t pages[MEMREAD_HOLE_COUNT]; /* pages not read, by reason */
	uint64_t runs;                   /* runs of present pages */
	uint64_t syscalls;               /* process_vm_readv / pread calls */
	int used_pagemap_scan;           /* PAGEMAP_SCAN ioctl (Linux >= 6.7) instead of reads */
	int used_proc_mem;               /* /proc/PID/mem fallback */
	int exited;                      /* the target exited during the read */
	int truncated;                   /* stopped at memread_opts.max_bytes */
	uint64_t stopped_at;             /* address where a truncated read stopped */
};

struct memread_opts {
	int include_dontdump;            /* read VmFlags dd regions too */
	uint64_t max_bytes;              /* stop within 1 MiB past this many bytes (0: no limit) */
	/* Record of runs read (for the dump manifest): called per run, bounded by the caller. */
	void (*run)(void *ctx, uint64_t start, uint64_t end);
	void *run_ctx;
	/* Optional: the sink's calls made once more on the thread that reads, each just before
	 * the sink's own call is made or recorded for the delivering thread (memread.c). For
	 * work that is cheap next to the sink's, so that both threads stay busy. */
	void (*early_data)(void *ctx, uint64_t addr, const unsigned char *buf, size_t len);
	void (*early_hole)(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why);
	void *early_ctx;
};

/* Read [start, end) of the process, region by region as the snapshot describes it (gaps
 * between regions are UNMAPPED holes). Returns 0 (see stats for partial reads), -ESRCH if
 * the target exited (stats->exited; what was read was delivered), or -errno. */
int memread_range(const struct procfs *p, const struct snapshot *s, uint64_t start,
		  uint64_t end, const struct memread_opts *o, const struct memread_sink *sink,
		  struct memread_stats *st, struct rw_err *err);

/* A reader kept across reads of one process: 1 MiB bounce buffers (one; two for a threaded
 * read, four when its sink keeps buffers; allocated on first need, so their pages are
 * faulted in once),
 * /proc/PID/pagemap and /proc/PID/mem open.
 * Single-threaded: one read at a time. p must outlive it. */
struct memread_reader;
struct memread_reader *memread_reader_new(const struct procfs *p);
void memread_reader_free(struct memread_reader *mr);

/* Read the ranges [runs[2k], runs[2k+1]) for k < nruns, sorted and disjoint, as one stream
 * in address order, each as memread_range reads one (present pages only: pagemap is
 * consulted for every range before any of it is read; the same holes, clipped to it). The
 * present pages of small ranges share the bounce buffer and one process_vm_readv per 1024
 * runs. When gap_hole > 0, between two ranges that do not touch the sink (and early_hole)
 * gets one hole from the end of the first, of the gap or of gap_hole bytes whichever is
 * less, why MEMREAD_HOLE_SKIPPED, not counted in st (so an analysis ends its strings
 * there). st sums every range; the liveness check is made once, at the end. Returns as
 * memread_range does; empty ranges are skipped. */
int memread_read(struct memread_reader *mr, const struct snapshot *s, const uint64_t *runs,
		 size_t nruns, uint64_t gap_hole, const struct memread_opts *o,
		 const struct memread_sink *sink, struct memread_stats *st, struct rw_err *err);

/* Whether a region is skipped by rule, and why (a static string), or NULL. */
const char *memread_skip_reason(const struct region *r, int include_dontdump);

const char *memread_hole_name(enum memread_hole h);

/* Resident map of [start, end) in nbuckets equal buckets: pages present and swapped per
 * bucket, from pagemap only (no memory is read). Returns 0 or -errno. */
int memread_page_map(const struct procfs *p, uint64_t start, uint64_t end, size_t nbuckets,
		     uint32_t *present, uint32_t *swapped, struct rw_err *err);

/* Rss, Anonymous and Swap of every region of s (sorted, as parsed) from the PAGEMAP_SCAN
 * ioctl (Linux >= 6.7) on an open /proc/PID/pagemap: page-table state only, no memory is
 * read. Counted as smaps counts them: present pages but the shared zero page (a huge page
 * counts its whole size), present pages that are not file-backed as Anonymous, swap entries
 * but guard markers as Swap; hugetlb regions (VmFlags ht) 0. Sets those bits in
 * s->fields_present. Returns 0, or -errno: ENOTTY/EINVAL (no PAGEMAP_SCAN here), EPERM,
 * ESRCH (the process exited). Not counted: shmem pages swapped out of the page cache, which
 * smaps finds in the file's mapping, not in the page table. */
int memread_resident_counts(int pagemap_fd, struct snapshot *s, struct rw_err *err);

/* Resolve a --region spec against a snapshot: "0xADDR"/"ADDR" (the area, i.e. the touching
 * pieces of one reservation, containing it), "START-END" (exact), or a name such as "[heap]"
 * or a path (must name exactly one area). On success fills [*start, *end) and *first (index
 * of the first region). On failure returns -EINVAL/-ENOENT with err->msg listing candidates. */
int memread_resolve(const struct snapshot *s, const char *spec, uint64_t *start, uint64_t *end,
		    size_t *first, struct rw_err *err);

/* Runs of present pages of [start, end) as [start, end) pairs (runs[2k], runs[2k+1]), in
 * address order, touching runs merged, into the caller's runs[2 * max_runs]; *nruns says how
 * many. From pagemap only (PAGEMAP_SCAN where it works): no memory is read. Returns 0,
 * -ENOSPC when more runs exist than fit (the first *nruns are valid), or -errno (ESRCH: the
 * process is gone). */
int memread_present_runs(const struct procfs *p, uint64_t start, uint64_t end, uint64_t *runs,
			 size_t max_runs, size_t *nruns, struct rw_err *err);

#endif
