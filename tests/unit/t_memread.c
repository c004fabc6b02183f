/* memread against a real child process: only present pages are read, holes are reported in
 * order, the child's RSS does not change, PAGEMAP_SCAN and pagemap reads agree. */
#include "tap.h"
#include "memread.h"
#include "snapfile.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ULL

struct child_addrs {
	uint64_t big;       /* 64 MiB MAP_NORESERVE, pages 0, 100, 16383 touched */
	uint64_t guard;     /* 16 pages, page 8 PROT_NONE, the others filled */
	uint64_t pat;       /* PAT_SIZE bytes, every 8-byte word holding its own address */
};

#define PAT_SIZE (24ULL << 20)

static pid_t start_child(struct child_addrs *ca)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct child_addrs c;
		unsigned char *big, *g;
		uint64_t *pat;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		big = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		g = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(big, 'A', PG);
		memset(big + 100 * PG, 'B', PG);
		memcpy(big + 100 * PG + 4090, "edge", 4);
		memset(big + 16383 * PG, 'C', PG);
		memset(g, 'G', 16 * PG);
		mprotect(g + 8 * PG, PG, PROT_NONE);
		pat = mmap(NULL, PAT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (size_t i = 0; i < PAT_SIZE / 8; i++)
			pat[i] = (uint64_t)(uintptr_t)&pat[i];
		c.pat = (uint64_t)(uintptr_t)pat;
		c.big = (uint64_t)(uintptr_t)big;
		c.guard = (uint64_t)(uintptr_t)g;
		if (write(pfd[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], ca, sizeof(*ca)) != sizeof(*ca)) {
		printf("Bail out! child did not start\n");
		exit(1);
	}
	close(pfd[0]);
	return pid;
}

struct rec {
	uint64_t next;          /* next address expected */
	int ordered;
	uint64_t data_bytes, hole_bytes[MEMREAD_HOLE_COUNT];
	unsigned char *copy;    /* copy of the range, holes left as '.' */
	uint64_t base, size;
};

static void on_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct rec *r = ctx;
	if (addr != r->next)
		r->ordered = 0;
	r->next = addr + len;
	r->data_bytes += len;
	if (r->copy && addr >= r->base && addr + len <= r->base + r->size)
		memcpy(r->copy + (addr - r->base), buf, len);
}

static void on_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct rec *r = ctx;
	if (addr != r->next)
		r->ordered = 0;
	r->next = addr + len;
	r->hole_bytes[why] += len;
}

static uint64_t region_rss(pid_t pid, uint64_t addr)
{
	struct procfs p;
	struct snapshot *s;
	uint64_t rss = 0;
	long i;

	if (procfs_open(pid, &p, NULL) || snapfile_capture(&p, &s, NULL))
		return UINT64_MAX;
	i = snapshot_find(s, addr);
	if (i >= 0)
		rss = s->regions[i].f[RF_RSS];
	snapshot_free(s);
	procfs_close(&p);
	return rss;
}

static void read_range(pid_t pid, const char *spec, struct rec *r, struct memread_stats *st,
		       uint64_t *start, uint64_t *end)
{
	struct procfs p;
	struct snapshot *s;
	struct rw_err err;
	size_t first;
	struct memread_sink sink = { .data = on_data, .hole = on_hole, .ctx = r };
	int rc;

	procfs_open(pid, &p, NULL);
	snapfile_capture(&p, &s, NULL);
	rc = memread_resolve(s, spec, start, end, &first, &err);
	ok(rc == 0, "resolve %s%s%s", spec, rc ? ": " : "", rc ? err.msg : "");
	r->next = *start;
	r->ordered = 1;
	r->base = *start;
	r->size = *end - *start;
	r->copy = malloc(r->size);
	memset(r->copy, '.', r->size);
	rc = memread_range(&p, s, *start, *end, NULL, &sink, st, &err);
	ok(rc == 0, "read %s%s%s", spec, rc ? ": " : "", rc ? err.msg : "");
	snapshot_free(s);
	procfs_close(&p);
}

static void test_sparse(pid_t pid, const struct child_addrs *ca, int use_scan)
{
	struct rec r;
	struct memread_stats st;
	uint64_t start, end, rss0, rss1;
	char spec[64];

	memset(&r, 0, sizeof(r));
	if (use_scan)
		unsetenv("RW_NO_PAGEMAP_SCAN");
	else
		setenv("RW_NO_PAGEMAP_SCAN", "1", 1);
	snprintf(spec, sizeof(spec), "0x%llx", (unsigned long long)ca->big + 5 * PG);
	rss0 = region_rss(pid, ca->big);
	read_range(pid, spec, &r, &st, &start, &end);
	rss1 = region_rss(pid, ca->big);
	printf("# %s: pagemap_scan=%d syscalls=%llu\n", use_scan ? "PAGEMAP_SCAN" : "pagemap reads",
	       st.used_pagemap_scan, (unsigned long long)st.syscalls);
	ok(st.used_pagemap_scan == use_scan, "%s used", use_scan ? "PAGEMAP_SCAN" : "pagemap reads");
	is_u64(start, ca->big, "an inner address resolves to the whole mapping");
	is_u64(end - start, 64ULL << 20, "64 MiB");
	is_u64(st.pages_present, 3, "3 pages present");
	is_u64(st.bytes_read, 3 * PG, "only the 3 present pages were read");
	is_u64(r.data_bytes + r.hole_bytes[MEMREAD_HOLE_NOT_PRESENT], 64ULL << 20,
	       "data + not-present holes cover the range");
	ok(r.ordered && r.next == end, "data and holes arrive in address order, contiguous");
	ok(r.copy[0] == 'A' && r.copy[100 * PG] == 'B' && r.copy[16383 * PG + 5] == 'C' &&
	   !memcmp(r.copy + 100 * PG + 4090, "edge", 4) && r.copy[PG] == '.',
	   "bytes land at their addresses");
	is_u64(rss1, rss0, "the target's RSS did not change (%llu KiB)", (unsigned long long)rss1 / 1024);
	is_u64(st.runs, 3, "three runs");
	free(r.copy);
}

static void test_guard(pid_t pid, const struct child_addrs *ca)
{
	struct rec r;
	struct memread_stats st;
	uint64_t start, end;
	char spec[80];

	memset(&r, 0, sizeof(r));
	unsetenv("RW_NO_PAGEMAP_SCAN");
	snprintf(spec, sizeof(spec), "%llx-%llx", (unsigned long long)ca->guard,
		 (unsigned long long)ca->guard + 16 * PG);
	read_range(pid, spec, &r, &st, &start, &end);
	is_u64(st.bytes_read, 15 * PG, "guard page in the middle: 15 pages read");
	is_u64(r.hole_bytes[MEMREAD_HOLE_SKIPPED], PG, "the PROT_NONE page is skipped");
	ok(r.copy[7 * PG + 4095] == 'G' && r.copy[8 * PG] == '.' && r.copy[9 * PG] == 'G',
	   "bytes on both sides of the guard");
	ok(r.ordered, "ordered across the guard");
	free(r.copy);
	/* A range that runs past the mapping into unmapped space. */
	memset(&r, 0, sizeof(r));
	snprintf(spec, sizeof(spec), "%llx-%llx", (unsigned long long)ca->guard + 15 * PG,
		 (unsigned long long)ca->guard + 15 * PG + 0x100000000ULL);
	read_range(pid, spec, &r, &st, &start, &end);
	ok(r.ordered && r.next == end, "a range past the mapping: holes to the end");
	ok(r.hole_bytes[MEMREAD_HOLE_UNMAPPED] > 0, "unmapped space reported as unmapped");
	free(r.copy);
}

static void test_resolve_errors(pid_t pid)
{
	struct procfs p;
	struct snapshot *s;
	struct rw_err err;
	uint64_t a, b;
	size_t first;

	procfs_open(pid, &p, NULL);
	snapfile_capture(&p, &s, NULL);
	ok(memread_resolve(s, "[stack]", &a, &b, &first, &err) == 0, "[stack] by name");
	ok(memread_resolve(s, "libc.so.6", &a, &b, &first, &err) < 0 && strstr(err.msg, "ambiguous"),
	   "libc.so.6 is ambiguous and says so (%s)", err.msg);
	ok(memread_resolve(s, "[nothing]", &a, &b, &first, &err) == -ENOENT, "unknown name");
	ok(memread_resolve(s, "0x10", &a, &b, &first, &err) == -ENOENT, "unmapped address");
	ok(memread_resolve(s, "2000-1000", &a, &b, &first, &err) == -EINVAL, "end below start");
	snapshot_free(s);
	procfs_close(&p);
}

/* memread_read: many ranges through one reader, as one stream. */
struct ev_log {
	uint64_t addr[64], len[64];
	int why[64];                /* -1: data */
	size_t n;
	uint64_t data_bytes;
	unsigned char *copy;        /* [copy_base, copy_base + copy_size) */
	uint64_t copy_base, copy_size;
};

static void log_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct ev_log *l = ctx;
	if (l->n < 64) {
		l->addr[l->n] = addr;
		l->len[l->n] = len;
		l->why[l->n++] = -1;
	}
	l->data_bytes += len;
	if (l->copy && addr >= l->copy_base && addr + len <= l->copy_base + l->copy_size)
		memcpy(l->copy + (addr - l->copy_base), buf, len);
}

static void log_hole(void *ctx, uint64_t addr, uint64_t len, enum memread_hole why)
{
	struct ev_log *l = ctx;
	if (l->n < 64) {
		l->addr[l->n] = addr;
		l->len[l->n] = len;
		l->why[l->n++] = (int)why;
	}
}

/* Events in order, not overlapping, each inside one of the runs or a gap hole right after
 * one (at most gap bytes, SKIPPED). */
static int log_fits(const struct ev_log *l, const uint64_t *runs, size_t nruns, uint64_t gap)
{
	uint64_t at = 0;

	for (size_t i = 0; i < l->n; i++) {
		int inside = 0;
		if (l->addr[i] < at || !l->len[i])
			return 0;
		for (size_t k = 0; k < nruns; k++) {
			if (l->addr[i] >= runs[2 * k] && l->addr[i] + l->len[i] <= runs[2 * k + 1])
				inside = 1;
			if (k + 1 < nruns && l->why[i] == MEMREAD_HOLE_SKIPPED && l->addr[i] == runs[2 * k + 1] &&
			    l->len[i] <= gap && l->addr[i] + l->len[i] <= runs[2 * k + 2])
				inside = 1;
		}
		if (!inside)
			return 0;
		at = l->addr[i] + l->len[i];
	}
	return 1;
}

static void test_reader(pid_t pid, const struct child_addrs *ca)
{
	struct procfs p;
	struct snapshot *s;
	struct rw_err err;
	struct memread_reader *mr;
	struct memread_stats st, st1;
	struct ev_log l;
	struct memread_sink sink = { .data = log_data, .hole = log_hole, .ctx = &l };
	uint64_t a[8], b[8], runs[8];
	int rc;

	unsetenv("RW_NO_PAGEMAP_SCAN");
	procfs_open(pid, &p, NULL);
	snapfile_capture(&p, &s, NULL);
	/* big: page 0 and the next (not present); from inside page 99 to the end of page 100
	 * (99 not present, 100 'B' with "edge" at its end); guard: pages 7..10 (8 PROT_NONE, 3 read) */
	a[0] = ca->big; a[1] = ca->big + 2 * PG;
	a[2] = ca->big + 99 * PG + 100; a[3] = ca->big + 101 * PG;
	b[0] = ca->guard + 7 * PG; b[1] = ca->guard + 11 * PG;
	if (ca->big < ca->guard) {
		memcpy(runs, a, 4 * sizeof(*a));
		memcpy(runs + 4, b, 2 * sizeof(*b));
	} else {
		memcpy(runs, b, 2 * sizeof(*b));
		memcpy(runs + 2, a, 4 * sizeof(*a));
	}
	mr = memread_reader_new(&p);
	for (int pass = 0; pass < 2; pass++) {
		memset(&l, 0, sizeof(l));
		l.copy_base = ca->big + 100 * PG;
		l.copy_size = PG;
		l.copy = malloc(PG);
		memset(l.copy, '.', PG);
		rc = memread_read(mr, s, runs, 3, PG, NULL, &sink, &st, &err);
		ok(rc == 0, "reader pass %d: three ranges read", pass);
		is_u64(st.bytes_read, 2 * PG + 3 * PG, "pass %d: the present pages only (2 of big, 3 of guard)", pass);
		is_u64(l.data_bytes, PG + PG + 3 * PG, "pass %d: data delivered within the ranges", pass);
		is_u64(st.pages[MEMREAD_HOLE_SKIPPED], 1, "pass %d: the PROT_NONE page is the one skipped page counted (gaps between ranges are not)", pass);
		is_u64(st.pages[MEMREAD_HOLE_NOT_PRESENT], 2, "pass %d: pages 1 and 99 not present", pass);
		ok(log_fits(&l, runs, 3, PG), "pass %d: events in order, inside the ranges or a gap hole after one", pass);
		ok(l.copy[0] == 'B' && !memcmp(l.copy + 4090, "edge", 4), "pass %d: bytes land at their addresses", pass);
		free(l.copy);
	}
	/* the same ranges one by one through memread_range: the same bytes and pages */
	{
		uint64_t bytes = 0, skipped = 0;
		for (int k = 0; k < 3; k++) {
			memset(&l, 0, sizeof(l));
			memread_range(&p, s, runs[2 * k], runs[2 * k + 1], NULL, &sink, &st1, &err);
			bytes += st1.bytes_read;
			skipped += st1.pages[MEMREAD_HOLE_SKIPPED];
		}
		is_u64(bytes, st.bytes_read, "memread_range one by one reads the same bytes");
		is_u64(skipped, st.pages[MEMREAD_HOLE_SKIPPED], "... and skips the same pages");
	}
	/* past one bounce buffer (the delivering thread), and without it */
	for (int thr = 0; thr < 2; thr++) {
		uint64_t r2[4] = { ca->big, ca->big + (64ULL << 20), 0, 0 };
		if (thr)
			setenv("RW_NO_READER_THREAD", "1", 1);
		r2[2] = ca->guard;
		r2[3] = ca->guard + 16 * PG;
		if (ca->guard < ca->big) {
			uint64_t t0 = r2[0], t1 = r2[1];
			r2[0] = r2[2]; r2[1] = r2[3]; r2[2] = t0; r2[3] = t1;
		}
		memset(&l, 0, sizeof(l));
		rc = memread_read(mr, s, r2, 2, 0, NULL, &sink, &st, &err);
		ok(rc == 0 && st.bytes_read == 3 * PG + 15 * PG && l.data_bytes == 18 * PG,
		   "64 MiB and the guard mapping in one read%s: 18 pages", thr ? " (no reader thread)" : "");
		ok(log_fits(&l, r2, 2, 0), "... in order, no gap holes when gap_hole is 0");
	}
	unsetenv("RW_NO_READER_THREAD");
	memread_reader_free(mr);
	snapshot_free(s);
	procfs_close(&p);
}

/* A sink that keeps every buffer (memread_sink mark/settle) and checks, when it is
 * settled, that its bytes are still the ones delivered: memread must not fill a buffer
 * again before that, and must settle everything before it returns. */
struct kept {
	struct { const unsigned char *buf; uint64_t addr; size_t len; } call[4096];
	size_t n, settled;       /* calls; calls checked at a settle */
	uint64_t marks, settles, bytes;
	int intact, in_order;
};

static void kept_data(void *ctx, uint64_t addr, const unsigned char *buf, size_t len)
{
	struct kept *k = ctx;
	if (k->n == sizeof(k->call) / sizeof(k->call[0])) {
		k->intact = 0;
		return;
	}
	k->call[k->n].buf = buf;
	k->call[k->n].addr = addr;
	k->call[k->n].len = len;
	k->n++;
	k->bytes += len;
}

static uint64_t kept_mark(void *ctx)
{
	struct kept *k = ctx;
	k->marks++;
	return k->n;
}

static void kept_settle(void *ctx, uint64_t m)
{
	struct kept *k = ctx;
	k->settles++;
	if (m < k->settled)
		k->in_order = 0;
	for (; k->settled < m; k->settled++) {
		uint64_t a = k->call[k->settled].addr;
		const unsigned char *b = k->call[k->settled].buf;
		for (size_t off = 0; off + 8 <= k->call[k->settled].len; off += 8) {
			uint64_t w;
			memcpy(&w, b + off, 8);
			if (w != a + off) {
				k->intact = 0;
				break;
			}
		}
	}
}

static void test_kept(pid_t pid, const struct child_addrs *ca, int threaded)
{
	struct procfs p;
	struct snapshot *s;
	struct rw_err err;
	struct memread_stats st;
	static struct kept k;
	struct memread_sink sink = { .data = kept_data, .ctx = &k, .mark = kept_mark,
				     .settle = kept_settle };
	int rc;

	memset(&k, 0, sizeof(k));
	k.intact = k.in_order = 1;
	if (!threaded)
		setenv("RW_NO_READER_THREAD", "1", 1);
	procfs_open(pid, &p, NULL);
	snapfile_capture(&p, &s, NULL);
	rc = memread_range(&p, s, ca->pat, ca->pat + PAT_SIZE, NULL, &sink, &st, &err);
	ok(rc == 0 && k.bytes == PAT_SIZE, "%s, kept buffers: the %llu MiB read (%llu bytes delivered)",
	   threaded ? "threaded" : "one thread", PAT_SIZE >> 20, (unsigned long long)k.bytes);
	ok(k.intact && k.in_order, "%s, kept buffers: every byte as delivered when settled",
	   threaded ? "threaded" : "one thread");
	ok(k.settled == k.n && k.marks >= PAT_SIZE >> 20 && k.settles >= 1,
	   "%s, kept buffers: all %zu calls settled before the read returned (%llu marks, %llu settles)",
	   threaded ? "threaded" : "one thread", k.n, (unsigned long long)k.marks,
	   (unsigned long long)k.settles);
	unsetenv("RW_NO_READER_THREAD");
	snapshot_free(s);
	procfs_close(&p);
}

int main(void)
{
	struct child_addrs ca;
	pid_t pid = start_child(&ca);

	test_sparse(pid, &ca, 1);
	test_sparse(pid, &ca, 0);
	test_guard(pid, &ca);
	test_resolve_errors(pid);
	test_reader(pid, &ca);
	test_kept(pid, &ca, 1);
	test_kept(pid, &ca, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return done_testing();
}
