/* region: one mapping of a process (one smaps entry) and a snapshot of all of them. */
#ifndef RW_REGION_H
#define RW_REGION_H

#include <stdint.h>
#include <stddef.h>

/* Numeric smaps fields, all kept in bytes (the kernel prints kB). */
enum region_field {
	RF_SIZE, RF_KERNEL_PAGE_SIZE, RF_MMU_PAGE_SIZE, RF_RSS, RF_PSS, RF_PSS_ANON,
	RF_PSS_FILE, RF_PSS_SHMEM, RF_PSS_DIRTY, RF_SHARED_CLEAN, RF_SHARED_DIRTY,
	RF_PRIVATE_CLEAN, RF_PRIVATE_DIRTY, RF_REFERENCED, RF_ANONYMOUS, RF_KSM,
	RF_LAZYFREE, RF_ANON_HUGE, RF_SHMEM_PMD, RF_FILE_PMD, RF_SHARED_HUGETLB,
	RF_PRIVATE_HUGETLB, RF_SWAP, RF_SWAP_PSS, RF_LOCKED, RF_DIRTY,
	RF_COUNT
};

/* Best-effort labels shown to a person (design §4); they are hints, not facts. */
enum region_kind {
	KIND_ANON, KIND_FILE, KIND_HEAP, KIND_STACK, KIND_GO_HEAP, KIND_GLIBC_ARENA,
	KIND_GUARD, KIND_SHMEM, KIND_MEMFD, KIND_SPECIAL,
	KIND_COUNT
};

struct region {
	uint64_t start, end;          /* [start, end) */
	uint64_t offset;              /* file offset */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	char perms[5];                /* "rw-p" */
	uint8_t kind;                 /* enum region_kind */
	int8_t thp_eligible;          /* -1 unknown */
	const char *path;             /* "" when none; owned by the snapshot */
	const char *vmflags;          /* "rd wr mr ..." as the kernel wrote it, or "" */
	uint64_t vmflags_mask;        /* bits from region_vmflag_bit() */
	uint64_t f[RF_COUNT];         /* bytes; valid where snapshot->fields_present says so */
};

enum snapshot_format {
	SNAP_FMT_SMAPS,       /* /proc/PID/smaps text, with or without our '#' header */
	SNAP_FMT_MAPS,        /* /proc/PID/maps: regions without numbers */
	SNAP_FMT_PMAP_X,      /* pmap -x */
	SNAP_FMT_PMAP_XX,     /* pmap -X or -XX */
};

struct snapshot_meta {
	int version;                  /* our header's format version, 0 if no header */
	int pid;                      /* 0 if unknown */
	double time;                  /* unix seconds, 0 if unknown */
	unsigned long long start_ticks; /* /proc/PID/stat field 22, 0 if unknown */
	const char *comm, *cmdline, *kernel; /* "" if unknown */
	int end_seen;                 /* our closing "# end" line was read */
	size_t end_regions, end_torn; /* what it says */
};

struct pool_block;

/* A thread's stack pointer, from a snapshot header ("# thread TID SP COMM"). */
struct snapshot_thread {
	int tid;
	uint64_t sp;
	const char *comm;
};

struct snapshot {
	struct region *regions;
	size_t count, cap;
	enum snapshot_format format;
	uint32_t fields_present;      /* bit (1u << RF_x) when any region carried field x */
	size_t torn;                  /* records replaced by a later, overlapping record of the
	                               * same read (a torn /proc read; smaps_parse) */
	struct snapshot_meta meta;
	struct pool_block *pool;      /* owns every string above */
	struct pool_block *spare;     /* blocks kept by snapshot_reset for reuse */
	struct snapshot_thread *threads;   /* from our header; names thread stacks */
	size_t nthreads, threads_cap;
};

struct snapshot *snapshot_new(void);
void snapshot_free(struct snapshot *s);
/* Empty s for the next parse, keeping its memory (no allocation per sample). */
void snapshot_reset(struct snapshot *s);
/* Copy a string into the snapshot's pool; the result lives as long as the snapshot. */
const char *snapshot_strdup(struct snapshot *s, const char *str, size_t len);
struct region *snapshot_add(struct snapshot *s);
/* Make room for n regions up front (a hint; snapshot_add grows as needed). */
void snapshot_reserve(struct snapshot *s, size_t n);
int snapshot_has_field(const struct snapshot *s, enum region_field f);

/* Assign region->kind to every region (needs neighbours: arenas and guards). Anonymous
 * regions holding a thread's stack pointer (s->threads) become kind stack, path
 * "[stack tid N comm]". */
void snapshot_classify(struct snapshot *s);
/* The kind of r from r alone and its neighbours in address order (NULL: none); what
 * snapshot_classify assigns, for a reader that does not keep every region. */
enum region_kind region_classify(const struct region *r, const struct region *prev,
				 const struct region *next);
/* Name r (a region of s, or one whose strings s's pool may hold) as thread tid's stack when
 * it is plain anonymous memory (kind anon or stack); the rule of snapshot_label_stack. */
void region_label_stack(struct snapshot *s, struct region *r, int tid, const char *comm);
/* Copy every string the snapshot refers to (meta, threads, regions) into a fresh pool and
 * recycle the old one: a stream reader that drops regions keeps its pool bounded. */
void snapshot_repool(struct snapshot *s);
/* Blocks in the snapshot's string pool (64 KiB each, or one large string). */
size_t snapshot_pool_blocks(const struct snapshot *s);
/* Name the anonymous region holding sp as thread tid's stack (kind stack). */
void snapshot_label_stack(struct snapshot *s, int tid, uint64_t sp, const char *comm);

/* r starts where tail ends and both are pieces of one growing reservation (Go arena VMAs,
 * a glibc arena's rw prefix and ---p tail, [heap] pieces). Kinds must be classified.
 * A heuristic used by diff and timeline. */
int region_joinable(const struct region *tail, const struct region *r);

/* r names a group of regions better than cur (NULL: yes): most RSS, then not a guard,
 * then the larger. Used by diff rows and timeline areas. */
int region_better_rep(const struct region *r, const struct region *cur);

const char *region_kind_name(enum region_kind k);
const char *region_field_name(enum region_field f);    /* smaps key, e.g. "Rss" */
const char *region_field_json(enum region_field f);    /* json key, e.g. "rss" */

/* In vmflags_mask: the region's VmFlags are not known (a sample read from /proc/PID/maps
 * found a mapping the last smaps read did not have); readers treat it as unsafe to read. */
#define REGION_VMFLAGS_UNKNOWN (1ULL << 63)

/* Bit for a two-letter VmFlags code, or 0 when unknown. */
uint64_t region_vmflag_bit(const char *code2);
int region_has_vmflag(const struct region *r, const char *code2);

/* Index of the region containing addr, or -1 (binary search; regions are sorted). */
long snapshot_find(const struct snapshot *s, uint64_t addr);

#endif
