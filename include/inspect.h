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

/* ---- the content of growth (watch --content) ----------------------------------------- */

#define INSPECT_GROWTH_ROWS 3                 /* rows whose new pages are read */
#define INSPECT_BASE_MAX_RUNS (1u << 18)      /* present runs kept at the baseline: 4 MiB */
#define INSPECT_BUDGET_DEFAULT (64ull << 20)  /* --content-budget */

/* Present pages of the candidate areas at the baseline, as runs (never a bit per page: a
 * 16 GiB Go reservation with 100 present pieces costs 100 runs). */
struct inspect_base_area {
	uint64_t id;
	size_t first, n;              /* its runs: runs[2*first .. 2*(first+n)) */
};
struct inspect_baseline {
	struct inspect_base_area *areas;  /* in the order added */
	size_t nareas, cap;
	uint64_t *runs;               /* [2 * INSPECT_BASE_MAX_RUNS] */
	size_t nruns;
	uint64_t areas_unrecorded;    /* candidates not recorded: the run budget ran out */
	uint64_t bytes_present;
	int unsorted;                 /* areas are not in id order (inspect_baseline_index) */
};

void inspect_baseline_init(struct inspect_baseline *b);
void inspect_baseline_free(struct inspect_baseline *b);
/* Record the present runs of the area [start, end) (pagemap only). Returns 0, -ENOSPC when
 * the run budget is spent (the area is not recorded), or -errno (ESRCH: gone). */
int inspect_baseline_add(struct inspect_baseline *b, const struct procfs *p, uint64_t id,
			 uint64_t start, uint64_t end, struct rw_err *err);
/* After the last inspect_baseline_add: sort the areas by id, so that finding a row's
 * members is a binary search (a pool of thousands of members against tens of thousands of
 * areas recorded). Lookups are right without it, only linear. */
void inspect_baseline_index(struct inspect_baseline *b);
/* Whether areas of this kind are recorded at the baseline: anon, heap, glibc-arena,
 * go-heap, stack (what a leak grows in). */
int inspect_growth_kind(int kind);

/* One area of a row: born_after says it appeared after the baseline (all of it is new). */
struct inspect_span {
	uint64_t id, start, end;
	int born_after;
};

/* Where an aligned 8-byte word of the new pages points (the row first, then the kind of the
 * mapping holding the address in the latest map). */
enum inspect_ptr {
	INSPECT_PTR_ROW, INSPECT_PTR_GO_HEAP, INSPECT_PTR_MALLOC, INSPECT_PTR_ANON,
	INSPECT_PTR_STACK, INSPECT_PTR_FILE, INSPECT_PTR_OTHER, INSPECT_PTR_NONE, INSPECT_PTR_COUNT
};
const char *inspect_ptr_name(enum inspect_ptr k);

struct inspect_shape {
	char *text;                   /* owned */
	uint64_t count;               /* in the new pages read */
	uint64_t old_count;           /* in the same number of old pages read */
	double new_per_mib, old_per_mib;
};

/* How a shape ranks among the new pages' top shapes: its count per MiB of new pages times
 * the share of its density that is new, n * n / (n + o) (n, o: per MiB of new and of old
 * pages). A string only in the new pages keeps its count; one as dense in the old pages
 * keeps half of it, so a record that grew outranks one that was always there. */
double inspect_shape_score(const struct inspect_shape *sh);

struct inspect_growth {
	uint64_t new_bytes;           /* present now, not at the baseline */
	uint64_t old_bytes;           /* present now and at the baseline */
	uint64_t read_bytes;          /* of the new pages, read (<= budget) */
	uint64_t old_read_bytes;      /* of the old pages, read for the comparison */
	int sampled;                  /* new_bytes > budget: pieces spread evenly were read */
	uint64_t areas_unrecorded;    /* areas of the row with no baseline record (not read) */
	uint64_t strings_found;
	struct inspect_top tops[INSPECT_TOPN];
	size_t ntops;
	/* the top shapes of the new pages, by inspect_shape_score */
	struct inspect_shape shapes[INSPECT_TOPN];
	size_t nshapes;
	struct scan_hist_result hist;     /* of the new pages read */
	struct analysis_match *matches;   /* owned (--grep) */
	size_t nmatches;
	uint64_t matches_total;
	int grep;
	uint64_t words, zero_words;       /* aligned 8-byte words read, and those 0 */
	uint64_t points_into[INSPECT_PTR_COUNT];  /* non-zero words by target */
	int exited;                       /* the process went away during the reads */
	/* One hop: when at least INSPECT_HOP_SHARE of the words read point into a mapping (a
	 * heuristic: the pages are mostly pointers, as a Python list's array is), a sample of
	 * those pointers, spread evenly, is followed and INSPECT_HOP_WINDOW bytes at each
	 * target are censused (present pages only; the pages read are at most the budget). */
	double ptr_share;                 /* words pointing into a mapping / words read */
	int hop;                          /* the pointers were followed */
	uint64_t hop_sampled;             /* pointers kept for following (evenly, at most
					   * INSPECT_HOP_TARGETS) */
	uint64_t hop_targets;             /* of those, followed: their pages fit the budget */
	uint64_t hop_read_bytes;          /* bytes of the targets' pages read */
	uint64_t hop_window_bytes;        /* of them, in the windows at the targets: censused */
	uint64_t hop_into[INSPECT_PTR_COUNT];  /* the targets followed, by where they live */
	uint64_t hop_map_start, hop_map_end;   /* the mapping holding most of them */
	int hop_map_kind;
	char *hop_map_path;               /* owned */
	uint64_t hop_map_targets;
	uint64_t hop_strings_found;
	struct inspect_top hop_tops[INSPECT_TOPN], hop_shapes[INSPECT_TOPN];
	size_t hop_ntops, hop_nshapes;
	/* wall time of the three reads and their analyses, in ms (for make bench) */
	double ms_new, ms_old, ms_hop;
};

#define INSPECT_HOP_SHARE 0.5
#define INSPECT_HOP_WINDOW 128u
#define INSPECT_HOP_TARGETS 4096u            /* even: the sample halves */

/* Read the pages of a row that became present since the baseline b (through memread:
 * present pages only), at most budget bytes of them (spread evenly beyond it), and as
 * many of its older pages, through the analyses of ao (top, encodings, grep; its json, out
 * and base are set here). s: the latest map (with VmFlags). Returns 0, -ESRCH, -errno. */
int inspect_growth(struct inspect_growth *g, const struct procfs *p, const struct snapshot *s,
		   const struct inspect_baseline *b, const struct inspect_span *spans,
		   size_t nspans, uint64_t budget, const struct analysis_opts *ao,
		   struct rw_err *err);
void inspect_growth_free(struct inspect_growth *g);

/* Where each of v[0..n) points, as the pointer census classifies a word: INSPECT_PTR_ROW
 * inside one of the spans, else by the kind of the region of s holding it (regions from
 * 2^47 up, i.e. [vsyscall], count as none), else INSPECT_PTR_NONE (exposed for the unit
 * tests; the census builds the table once and keeps it for every word). */
void inspect_ptr_classify(const struct snapshot *s, const struct inspect_span *spans, size_t nspans,
			  const uint64_t *v, size_t n, enum inspect_ptr *out);

/* ---- run arithmetic (exposed for the unit tests) -------------------------------------- */

/* Sorted, disjoint [start, end) pairs v[2k], v[2k+1]; bytes: their sum. */
struct inspect_runs {
	uint64_t *v;
	size_t n, cap;
	uint64_t bytes;
};
/* Append [s, e) (s at or after the last end; empty ranges ignored, a touching one merged). */
void inspect_runs_add(struct inspect_runs *r, uint64_t s, uint64_t e);
void inspect_runs_free(struct inspect_runs *r);
/* cur minus base appended to fresh, cur and base to old; both inputs sorted, disjoint. */
void inspect_runs_split(const uint64_t *cur, size_t ncur, const uint64_t *base, size_t nbase,
			struct inspect_runs *fresh, struct inspect_runs *old);
/* Pieces of r to read, appended to out: all of r within budget, else the budget in whole
 * pages (never more), as pieces of budget/16 (4 KiB..1 MiB) spread evenly over the runs laid
 * end to end; a piece crossing a run's end goes on in the next run. */
void inspect_runs_pick(const struct inspect_runs *r, uint64_t budget, struct inspect_runs *out);
/* The pages of a row that became present since the baseline b, as [start, end) pairs in
 * address order: all of them when they fit in budget, else pieces spread evenly, at most
 * budget bytes (as inspect_growth picks them). *runs is malloc'd (NULL when none);
 * *new_bytes counts every new byte, *unrecorded the spans without a baseline record (not
 * included). From pagemap only: nothing is read. Returns 0 or -ESRCH. */
int inspect_new_runs(const struct procfs *p, const struct inspect_baseline *b,
		     const struct inspect_span *spans, size_t nspans, uint64_t budget,
		     uint64_t **runs, size_t *nruns, uint64_t *new_bytes, uint64_t *unrecorded,
		     struct rw_err *err);

#endif
