/* inspect: the content of one area of a live process, gathered for a view to show: a hex
 * window of present pages, a capped census through the analyzers (top strings and shapes,
 * byte histogram, grep matches) and a resident-page map from pagemap. Reads through memread
 * (present pages only); never prints, never stops the target, knows nothing of curses. */
#ifndef RW_INSPECT_H
#define RW_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include "analysis.h"
#include "procfs.h"
#include "region.h"
#include "scan.h"
#include "util.h"

#define INSPECT_SAMPLE_CAP (16u << 20)   /* bytes read per census */
#define INSPECT_HEX_WINDOW (64u * 1024)  /* bytes of hex kept around the first line shown */
#define INSPECT_TOPN 20

struct inspect_top {
	char *text;                   /* owned */
	uint64_t count, error;
};

struct inspect {
	uint64_t start, end;          /* the area */
	/* hex window: INSPECT_HEX_WINDOW bytes at hex_base, and which 4 KiB pages were read */
	unsigned char *hex, *hex_present;
	uint64_t hex_base;
	int hex_valid;
	/* census (inspect_region) */
	int have_census;
	uint64_t read_bytes, read_present;
	int read_truncated;
	uint64_t read_from;           /* where the census read began (start, or the tail's start) */
	int read_tail;                /* the census read the newest (highest) resident pages */
	uint64_t strings_found;
	struct inspect_top tops[INSPECT_TOPN], shapes[INSPECT_TOPN];
	size_t ntops, nshapes;
	struct scan_hist_result hist;
	struct analysis_match *matches;   /* owned; the first ANALYSIS_MAX_LISTED */
	size_t nmatches;
	uint64_t matches_total;
	/* resident map: pages present / swapped in each of pmap_n equal cells */
	uint32_t *pmap_present, *pmap_swapped;
	size_t pmap_n;
};

void inspect_init(struct inspect *in);
void inspect_free(struct inspect *in);

/* One capped pass over [start, end): census (grep too when pattern is set) and a resident
 * map in map_cells cells. newest: the area grows upward, so read its last
 * INSPECT_SAMPLE_CAP of resident pages (the highest addresses) rather than its first.
 * Returns 0, -ESRCH (gone), or -errno with err filled (a pattern that does not compile:
 * -EINVAL); what was gathered stays valid. */
int inspect_region(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		   uint64_t start, uint64_t end, const char *pattern, size_t map_cells,
		   int newest, struct rw_err *err);

/* 1 when the hex window holds [top, top + bytes). */
int inspect_hex_covers(const struct inspect *in, uint64_t top, uint64_t bytes);

/* Read the hex window around top (present pages only; the rest is marked not read). */
int inspect_hex(struct inspect *in, const struct procfs *p, const struct snapshot *s,
		uint64_t top, struct rw_err *err);

#endif
