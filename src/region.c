/* region: snapshots own their regions and a string pool; kinds are assigned here. */
#include "region.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pool_block {
	struct pool_block *next;
	size_t used, cap;
	char data[];
};

#define POOL_BLOCK 65536

struct snapshot *snapshot_new(void)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	s->meta.comm = s->meta.cmdline = s->meta.kernel = "";
	return s;
}

void snapshot_free(struct snapshot *s)
{
	struct pool_block *b, *next;

	if (!s)
		return;
	for (b = s->pool; b; b = next) {
		next = b->next;
		free(b);
	}
	for (b = s->spare; b; b = next) {
		next = b->next;
		free(b);
	}
	free(s->regions);
	free(s->threads);
	free(s);
}

void snapshot_reset(struct snapshot *s)
{
	while (s->pool) {
		struct pool_block *b = s->pool;
		s->pool = b->next;
		b->used = 0;
		b->next = s->spare;
		s->spare = b;
	}
	s->count = 0;
	s->torn = 0;
	s->nthreads = 0;
	s->fields_present = 0;
	s->format = SNAP_FMT_SMAPS;
	memset(&s->meta, 0, sizeof(s->meta));
	s->meta.comm = s->meta.cmdline = s->meta.kernel = "";
}

const char *snapshot_strdup(struct snapshot *s, const char *str, size_t len)
{
	struct pool_block *b = s->pool;
	char *p;

	if (!len)
		return "";
	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > POOL_BLOCK ? len + 1 : POOL_BLOCK;
		if (s->spare && s->spare->cap >= len + 1) {
			b = s->spare;
			s->spare = b->next;
		} else {
			b = xmalloc(sizeof(*b) + cap);
			b->cap = cap;
		}
		b->used = 0;
		b->next = s->pool;
		s->pool = b;
	}
	p = b->data + b->used;
	memcpy(p, str, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

/* The region array of a 60,000-mapping process is ~17 MiB; faulting it in 4 KiB pages costs
 * 12-16 us a page on this VM kind (design §4), so big arrays ask for transparent huge pages
 * (THP is "madvise" here). */
static void grow_regions(struct snapshot *s, size_t cap)
{
	s->regions = xreallocarray(s->regions, cap, sizeof(*s->regions));
	if (cap * sizeof(*s->regions) >= (4u << 20)) {
		uintptr_t a = ((uintptr_t)s->regions + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
		uintptr_t e = ((uintptr_t)s->regions + cap * sizeof(*s->regions)) & ~(uintptr_t)((2u << 20) - 1);
		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	s->cap = cap;
}

void snapshot_reserve(struct snapshot *s, size_t n)
{
	if (n > s->cap)
		grow_regions(s, n);
}

struct region *snapshot_add(struct snapshot *s)
{
	struct region *r;

	if (s->count == s->cap)
		grow_regions(s, s->cap ? s->cap * 2 : 256);
	r = &s->regions[s->count++];
	memset(r, 0, sizeof(*r));
	r->path = r->vmflags = "";
	r->thp_eligible = -1;
	return r;
}

size_t snapshot_pool_blocks(const struct snapshot *s)
{
	size_t n = 0;

	for (const struct pool_block *b = s->pool; b; b = b->next)
		n++;
	return n;
}

static const char *redup(struct snapshot *s, const char *str)
{
	return snapshot_strdup(s, str, strlen(str));
}

void snapshot_repool(struct snapshot *s)
{
	struct pool_block *old = s->pool;

	s->pool = NULL;
	s->meta.comm = redup(s, s->meta.comm);
	s->meta.cmdline = redup(s, s->meta.cmdline);
	s->meta.kernel = redup(s, s->meta.kernel);
	for (size_t i = 0; i < s->nthreads; i++)
		s->threads[i].comm = redup(s, s->threads[i].comm);
	for (size_t i = 0; i < s->count; i++) {
		s->regions[i].path = redup(s, s->regions[i].path);
		s->regions[i].vmflags = redup(s, s->regions[i].vmflags);
	}
	/* The old blocks are free now: keep a few for reuse, release the rest. */
	for (size_t kept = 0; old; kept++) {
		struct pool_block *b = old;
		old = b->next;
		if (kept < 4) {
			b->used = 0;
			b->next = s->spare;
			s->spare = b;
		} else {
			free(b);
		}
	}
}

int snapshot_has_field(const struct snapshot *s, enum region_field f)
{
	return (s->fields_present >> f) & 1u;
}

long snapshot_find(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct region *r = &s->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static const char *const kind_names[KIND_COUNT] = {
	[KIND_ANON] = "anon", [KIND_FILE] = "file", [KIND_HEAP] = "heap",
	[KIND_STACK] = "stack", [KIND_GO_HEAP] = "go-heap", [KIND_GLIBC_ARENA] = "glibc-arena",
	[KIND_GUARD] = "guard", [KIND_SHMEM] = "shmem", [KIND_MEMFD] = "memfd",
	[KIND_SPECIAL] = "special",
};

const char *region_kind_name(enum region_kind k)
{
	return (unsigned)k < KIND_COUNT ? kind_names[k] : "?";
}

static const char *const field_names[RF_COUNT][2] = {
	[RF_SIZE] = { "Size", "size" },
	[RF_KERNEL_PAGE_SIZE] = { "KernelPageSize", "kernel_page_size" },
	[RF_MMU_PAGE_SIZE] = { "MMUPageSize", "mmu_page_size" },
	[RF_RSS] = { "Rss", "rss" },
	[RF_PSS] = { "Pss", "pss" },
	[RF_PSS_ANON] = { "Pss_Anon", "pss_anon" },
	[RF_PSS_FILE] = { "Pss_File", "pss_file" },
	[RF_PSS_SHMEM] = { "Pss_Shmem", "pss_shmem" },
	[RF_PSS_DIRTY] = { "Pss_Dirty", "pss_dirty" },
	[RF_SHARED_CLEAN] = { "Shared_Clean", "shared_clean" },
	[RF_SHARED_DIRTY] = { "Shared_Dirty", "shared_dirty" },
	[RF_PRIVATE_CLEAN] = { "Private_Clean", "private_clean" },
	[RF_PRIVATE_DIRTY] = { "Private_Dirty", "private_dirty" },
	[RF_REFERENCED] = { "Referenced", "referenced" },
	[RF_ANONYMOUS] = { "Anonymous", "anonymous" },
	[RF_KSM] = { "KSM", "ksm" },
	[RF_LAZYFREE] = { "LazyFree", "lazyfree" },
	[RF_ANON_HUGE] = { "AnonHugePages", "anon_huge_pages" },
	[RF_SHMEM_PMD] = { "ShmemPmdMapped", "shmem_pmd_mapped" },
	[RF_FILE_PMD] = { "FilePmdMapped", "file_pmd_mapped" },
	[RF_SHARED_HUGETLB] = { "Shared_Hugetlb", "shared_hugetlb" },
	[RF_PRIVATE_HUGETLB] = { "Private_Hugetlb", "private_hugetlb" },
	[RF_SWAP] = { "Swap", "swap" },
	[RF_SWAP_PSS] = { "SwapPss", "swap_pss" },
	[RF_LOCKED] = { "Locked", "locked" },
	[RF_DIRTY] = { "Dirty", "dirty" },  /* pmap -x only: Shared_Dirty + Private_Dirty */
};

const char *region_field_name(enum region_field f)
{
	return (unsigned)f < RF_COUNT ? field_names[f][0] : "?";
}

const char *region_field_json(enum region_field f)
{
	return (unsigned)f < RF_COUNT ? field_names[f][1] : "?";
}

/* Two-letter codes from proc(5) / fs/proc/task_mmu.c show_smap_vma_flags(). */
static const char vmflag_codes[][3] = {
	"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "dw", "lo", "io", "sr",
	"rr", "dc", "de", "ac", "nr", "ht", "sf", "nl", "ar", "wf", "dd", "sd", "mm", "hg",
	"nh", "mg", "um", "uw", "ss", "sl", "bt", "mt", "lf", "gu", "ui", "cl",
};

uint64_t region_vmflag_bit(const char *code2)
{
	for (size_t i = 0; i < sizeof(vmflag_codes) / sizeof(vmflag_codes[0]); i++)
		if (vmflag_codes[i][0] == code2[0] && vmflag_codes[i][1] == code2[1])
			return 1ULL << i;
	return 0;
}

int region_has_vmflag(const struct region *r, const char *code2)
{
	uint64_t bit = region_vmflag_bit(code2);
	return bit && (r->vmflags_mask & bit);
}

#define MIB64 (64ULL << 20)
/* Go's amd64 arena hints start at 0x00c000000000 (runtime/malloc.go mallocinit); the
 * first hint is where a Go heap lives in practice. */
#define GO_ARENA_LO 0xc000000000ULL
#define GO_ARENA_HI 0x10000000000ULL

static int is_anon_path(const char *path)
{
	return path[0] == '\0' || strncmp(path, "[anon:", 6) == 0;
}

enum region_kind region_classify(const struct region *r, const struct region *prev,
				 const struct region *next)
{
	const char *p = r->path;
	int shared = r->perms[3] == 's';
	int noaccess = r->perms[0] == '-' && r->perms[1] == '-' && r->perms[2] == '-';

	if (r->start >= 0xffff800000000000ULL)
		return KIND_SPECIAL;          /* kernel half: [vsyscall], also as pmap's "[ anon ]" */
	if (p[0] == '[') {
		if (!strcmp(p, "[vdso]") || !strcmp(p, "[vvar]") || !strcmp(p, "[vsyscall]") ||
		    !strncmp(p, "[vvar_", 6) || !strcmp(p, "[uprobes]"))
			return KIND_SPECIAL;
		if (!strcmp(p, "[heap]"))
			return KIND_HEAP;
		if (!strcmp(p, "[stack]") || !strncmp(p, "[stack:", 7) || !strncmp(p, "[anon:stack", 11))
			return KIND_STACK;
		if (!strncmp(p, "[anon_shmem:", 12))
			return KIND_SHMEM;
		if (!strncmp(p, "[anon: Go:", 10) || !strncmp(p, "[anon:Go:", 9))
			return KIND_GO_HEAP;
	} else if (p[0]) {
		if (!strncmp(p, "/memfd:", 7) || !strncmp(p, "memfd:", 6))
			return KIND_MEMFD;
		if (!strncmp(p, "/SYSV", 5) || !strncmp(p, "/dev/shm/", 9) || !strncmp(p, "/dev/zero", 9))
			return KIND_SHMEM;
	}
	if (shared && is_anon_path(p))
		return KIND_SHMEM;
	if (!is_anon_path(p))
		return KIND_FILE;
	if (r->start >= GO_ARENA_LO && r->start < GO_ARENA_HI)
		return KIND_GO_HEAP;
	/* A non-main glibc arena is a 64 MiB-aligned reservation (HEAP_MAX_SIZE, malloc/arena.c):
	 * an rw prefix and a ---p tail, both inside the same aligned 64 MiB block. */
	{
		uint64_t base = r->start & ~(MIB64 - 1);
		int in_block = r->end <= base + MIB64;
		if (in_block && !shared) {
			if (r->start == base && !noaccess) {
				if (r->end == base + MIB64)
					return KIND_GLIBC_ARENA;
				if (next && next->start == r->end && next->end == base + MIB64 &&
				    next->perms[0] == '-' && next->perms[1] == '-')
					return KIND_GLIBC_ARENA;
			}
			if (noaccess && r->end == base + MIB64 && prev && prev->end == r->start &&
			    prev->start == base)
				return KIND_GLIBC_ARENA;
		}
	}
	if (noaccess && r->f[RF_RSS] == 0)
		return KIND_GUARD;
	return KIND_ANON;
}

/* Regions that touch (no gap) are one area when they are pieces of one growing
 * reservation: a Go arena is dozens of adjacent rw-p VMAs differing only in THP flags plus
 * a ---p tail; a glibc arena is an rw prefix and a ---p tail in one 64 MiB block; [heap]
 * pieces. Other anonymous neighbours are not joined: the kernel merges compatible adjacent
 * anonymous mappings itself, so neighbours it kept apart are usually separate allocations
 * (a thread stack beside a buffer). */
int region_joinable(const struct region *tail, const struct region *r)
{
	if (!tail || tail->end != r->start)
		return 0;
	if (tail->kind == KIND_HEAP && r->kind == KIND_HEAP)
		return 1;
	if (tail->path[0] || r->path[0])
		return 0;
	if (tail->kind == KIND_GO_HEAP && r->kind == KIND_GO_HEAP)
		return 1;
	if (tail->kind == KIND_GLIBC_ARENA && r->kind == KIND_GLIBC_ARENA)
		return (tail->start >> 26) == (r->start >> 26);
	return 0;
}

int region_better_rep(const struct region *r, const struct region *cur)
{
	if (!cur)
		return 1;
	if (r->f[RF_RSS] != cur->f[RF_RSS])
		return r->f[RF_RSS] > cur->f[RF_RSS];
	if ((r->kind == KIND_GUARD) != (cur->kind == KIND_GUARD))
		return cur->kind == KIND_GUARD;
	return r->end - r->start > cur->end - cur->start;
}

void snapshot_label_stack(struct snapshot *s, int tid, uint64_t sp, const char *comm)
{
	long r = sp ? snapshot_find(s, sp) : -1;

	if (r >= 0)
		region_label_stack(s, &s->regions[r], tid, comm);
}

void region_label_stack(struct snapshot *s, struct region *reg, int tid, const char *comm)
{
	char label[128], esc[80];

	/* Only plain anonymous mappings: Go keeps goroutine stacks in its heap arena, and a
	 * heap is not made a stack by holding one. */
	if (reg->kind != KIND_ANON && reg->kind != KIND_STACK)
		return;
	if (reg->path[0] && strcmp(reg->path, "[stack]"))
		return;
	reg->kind = KIND_STACK;
	if (!reg->path[0]) {
		escape_ctl(comm, esc, sizeof(esc));
		snprintf(label, sizeof(label), "[stack tid %d %s]", tid, esc);
		reg->path = snapshot_strdup(s, label, strlen(label));
	}
}

void snapshot_classify(struct snapshot *s)
{
	for (size_t i = 0; i < s->count; i++)
		s->regions[i].kind = (uint8_t)region_classify(&s->regions[i],
							      i ? &s->regions[i - 1] : NULL,
							      i + 1 < s->count ? &s->regions[i + 1] : NULL);
	for (size_t i = 0; i < s->nthreads; i++)
		snapshot_label_stack(s, s->threads[i].tid, s->threads[i].sp, s->threads[i].comm);
}
