/* memread: pagemap-guided reads of present pages only.
 *
 * Present pages come from the PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux >= 6.7, one call
 * returns runs of present pages) or, where that is refused, from reading the pagemap's 64-bit
 * entries (Documentation/admin-guide/mm/pagemap.rst: bit 63 present, bit 62 swapped). Runs are
 * read with process_vm_readv(2), many remote iovecs per call, into one reused 1 MiB bounce
 * buffer (design §4; it was 4 MiB: the same GiB read in 0.24 s of process_vm_readv into
 * 1 MiB buffers against 0.79 s into 4 MiB ones, strace -c; a bare one-iovec loop does not
 * gain from 1 MiB chunks, and why memread does is not known). A partial transfer stops at
 * the failing page: that page becomes a hole and reading resumes after it. ESRCH means the target exited. /proc/PID/mem is used only
 * where process_vm_readv is refused (EPERM/ENOSYS).
 *
 * Reading overlaps delivery: for ranges over one bounce buffer, a second thread calls the
 * sink while this one reads the next buffers (NBUF 1 MiB buffers in a ring), so a slow
 * analysis and the copy out of the target use two cores.  A sink with mark/settle may keep
 * reading a buffer after its calls return (the --top counting thread does): the buffer is
 * filled again only after settle says the sink is done with it, so the delivering thread
 * goes on to the next buffer instead of waiting. Everything the sink
 * sees, and its order, is what one thread would deliver: the reading thread records each
 * data and hole call of a buffer in order and hands the list over with the buffer. The
 * delivering thread blocks every signal, so signals (and the release of a frozen target)
 * stay with the main thread.
 *
 * A reader (memread_reader_new) keeps the bounce buffers, /proc/PID/pagemap and
 * /proc/PID/mem across reads, and memread_read takes many ranges at once: their present
 * pages share the bounce buffer and one process_vm_readv per MAX_IOV runs, so a census of
 * hundreds of small pieces costs a few system calls per piece (its pagemap walk), not a
 * buffer allocation, two opens and a liveness check each. memread_range is one range
 * through a reader of its own. */
#include "memread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096ULL
#define BOUNCE (1u << 20)
/* Buffers of a threaded read: one being filled, the others delivered or still kept by the
 * sink (mark/settle).  With two, the delivering thread waited for the counting thread at
 * the end of every buffer while the reader had nothing to fill.  A sink that keeps
 * nothing gets two, as before. */
#define NBUF 4
#define NBUF_PLAIN 2
#define MAX_IOV 1024
#define WINDOW (64ULL << 20)          /* pagemap is consulted 64 MiB at a time */

/* PAGEMAP_SCAN, from <linux/fs.h> of Linux 6.7 (Debian 12's headers predate it). */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8)        /* Linux 6.14: MADV_GUARD_INSTALL markers */
#endif

const char *memread_hole_name(enum memread_hole h)
{
	static const char *const names[] = { "not present", "swapped out", "unmapped",
					     "skipped", "unreadable" };
	return (unsigned)h < MEMREAD_HOLE_COUNT ? names[h] : "?";
}

const char *memread_skip_reason(const struct region *r, int include_dontdump)
{
	if (!strcmp(r->path, "[vvar]") || !strncmp(r->path, "[vvar_", 6))
		return "[vvar] (reading it can fault)";
	if (r->vmflags_mask & REGION_VMFLAGS_UNKNOWN)
		return "VmFlags unknown (a mapping new since the last smaps read)";
	if (region_has_vmflag(r, "io"))
		return "VmFlags io (device memory)";
	if (region_has_vmflag(r, "pf"))
		return "VmFlags pf (raw PFN mapping)";
	if (region_has_vmflag(r, "um") || region_has_vmflag(r, "uw"))
		return "VmFlags um/uw (userfaultfd: a read could block on the target's handler)";
	if (!include_dontdump && region_has_vmflag(r, "dd"))
		return "VmFlags dd (MADV_DONTDUMP; --include-dontdump reads it)";
	if (r->perms[0] != 'r')
		return "not readable (no r permission)";
	return NULL;
}

/* ---- ordered delivery: data and holes leave in address order -------------------------- */

struct item {
	uint64_t addr, len;
	size_t off;                      /* data: offset in the bounce buffer */
	int is_hole;                     /* 0 data, 1 hole, ITEM_GAP: between two ranges */
	enum memread_hole why;
	uint64_t lo, hi;                 /* the range it belongs to: deliveries are clipped */
};
#define ITEM_GAP 2                       /* a hole between ranges: delivered, not counted */

/* One sink call, recorded for the delivering thread. */
struct event {
	uint64_t addr, len;
	const unsigned char *data;       /* NULL: a hole */
	enum memread_hole why;
};

/* The delivering thread and the ring of buffers it shares with the reader. */
struct deliverer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	const struct memread_sink *sink;
	unsigned char *buf[NBUF];
	struct event *ev[NBUF];
	size_t nev[NBUF], cap[NBUF];
	int full[NBUF];                  /* handed over, not yet delivered */
	int kept[NBUF];                  /* delivered, and the sink may still read it */
	uint64_t mark[NBUF];             /* the sink's mark after its calls (kept) */
	uint64_t last_mark;              /* the latest mark (any_mark: there is one) */
	int any_mark;
	int nbuf;                        /* NBUF, or NBUF_PLAIN for a sink without mark */
	int fill;                        /* buffer the reader fills */
	int done;                        /* no more buffers will come */
};

/* Kept across reads (memread_reader_new). */
struct memread_reader {
	const struct procfs *p;
	unsigned char *buf[NBUF];        /* bounce buffers; the others for the thread */
	int pm_fd;                       /* /proc/PID/pagemap, opened on first need */
	int mem_fd;                      /* /proc/PID/mem, opened on first need */
	int use_mem;                     /* process_vm_readv was refused: /proc/PID/mem */
};

struct reader {
	const struct procfs *p;
	struct memread_reader *mr;
	const struct memread_sink *sink;
	const struct memread_opts *opts;
	struct memread_stats *st;
	unsigned char *buf;
	size_t used;                     /* bytes of the bounce buffer taken by queued data */
	struct item items[2 * MAX_IOV + 2];
	size_t nitems, ndata;
	int exited;
	int error;                       /* errno of a failure that stops the read */
	uint64_t lo, hi;                 /* the range being queued: its items are clipped to it */
	struct deliverer *dl;            /* NULL: the sink is called from this thread */
};

static void *deliver_main(void *arg)
{
	struct deliverer *dl = arg;
	int k = 0;
	uint64_t m;

	pthread_mutex_lock(&dl->lock);
	for (;;) {
		while (!dl->full[k] && !dl->done)
			pthread_cond_wait(&dl->changed, &dl->lock);
		if (!dl->full[k])
			break;                   /* done, and everything delivered */
		pthread_mutex_unlock(&dl->lock);
		m = 0;
		for (size_t i = 0; i < dl->nev[k]; i++) {
			const struct event *e = &dl->ev[k][i];
			if (e->data)
				dl->sink->data(dl->sink->ctx, e->addr, e->data, (size_t)e->len);
			else
				dl->sink->hole(dl->sink->ctx, e->addr, e->len, e->why);
		}
		if (dl->sink->mark)
			m = dl->sink->mark(dl->sink->ctx);
		pthread_mutex_lock(&dl->lock);
		if (dl->sink->mark) {
			dl->kept[k] = 1;
			dl->mark[k] = dl->last_mark = m;
			dl->any_mark = 1;
		}
		dl->nev[k] = 0;
		dl->full[k] = 0;
		pthread_cond_broadcast(&dl->changed);
		k = (k + 1) % dl->nbuf;
	}
	pthread_mutex_unlock(&dl->lock);
	return NULL;
}

/* Start the delivering thread with every signal blocked; NULL if it cannot start (the
 * read then delivers from this thread, as before). */
static struct deliverer *deliverer_start(const struct memread_sink *sink,
					 struct memread_reader *mr)
{
	struct deliverer *dl = xcalloc(1, sizeof(*dl));

	dl->sink = sink;
	dl->nbuf = sink->mark ? NBUF : NBUF_PLAIN;
	for (int k = 0; k < dl->nbuf; k++) {
		if (!mr->buf[k])
			mr->buf[k] = xmalloc(BOUNCE);
		dl->buf[k] = mr->buf[k];
	}
	pthread_mutex_init(&dl->lock, NULL);
	pthread_cond_init(&dl->changed, NULL);
	if (thread_start_quiet(&dl->thread, deliver_main, dl)) {
		pthread_mutex_destroy(&dl->lock);
		pthread_cond_destroy(&dl->changed);
		free(dl);
		return NULL;
	}
	return dl;
}

static void record(struct reader *rd, uint64_t addr, uint64_t len, const unsigned char *data,
		   enum memread_hole why)
{
	struct deliverer *dl = rd->dl;
	int k = dl->fill;

	if (dl->nev[k] == dl->cap[k]) {
		dl->cap[k] = dl->cap[k] ? 2 * dl->cap[k] : 256;
		dl->ev[k] = xreallocarray(dl->ev[k], dl->cap[k], sizeof(*dl->ev[k]));
	}
	dl->ev[k][dl->nev[k]++] = (struct event){ addr, len, data, why };
}

/* Hand the buffer just filled (and its calls) over; continue in the next one once its
 * calls are delivered and the sink has settled what it kept of it. */
static void hand_over(struct reader *rd)
{
	struct deliverer *dl = rd->dl;
	int k = dl->fill, next = (k + 1) % dl->nbuf, kept;
	uint64_t m;

	if (!dl->nev[k])
		return;
	pthread_mutex_lock(&dl->lock);
	dl->full[k] = 1;
	pthread_cond_broadcast(&dl->changed);
	while (dl->full[next])
		pthread_cond_wait(&dl->changed, &dl->lock);
	kept = dl->kept[next];
	m = dl->mark[next];
	dl->kept[next] = 0;
	pthread_mutex_unlock(&dl->lock);
	if (kept)
		dl->sink->settle(dl->sink->ctx, m);
	dl->fill = next;
	rd->buf = dl->buf[next];
}

/* Deliver what is left, wait for the thread; the buffers stay with the reader. */
static void deliverer_finish(struct reader *rd)
{
	struct deliverer *dl = rd->dl;

	hand_over(rd);
	pthread_mutex_lock(&dl->lock);
	dl->done = 1;
	pthread_cond_broadcast(&dl->changed);
	pthread_mutex_unlock(&dl->lock);
	pthread_join(dl->thread, NULL);
	/* marks grow: settling the latest settles every buffer the sink still keeps */
	if (dl->any_mark)
		dl->sink->settle(dl->sink->ctx, dl->last_mark);
	pthread_mutex_destroy(&dl->lock);
	pthread_cond_destroy(&dl->changed);
	for (int k = 0; k < NBUF; k++)
		free(dl->ev[k]);
	free(dl);
	rd->dl = NULL;
	rd->buf = rd->mr->buf[0];
}

/* Reads are whole pages; the caller asked for [lo, hi): deliver only that. */
static void give_data(struct reader *rd, uint64_t lo, uint64_t hi, uint64_t addr,
		      const unsigned char *buf, size_t len)
{
	uint64_t end = addr + len;

	if (addr < lo) {
		if (end <= lo)
			return;
		buf += lo - addr;
		addr = lo;
	}
	if (end > hi)
		end = hi;
	if (end > addr && rd->opts && rd->opts->early_data)
		rd->opts->early_data(rd->opts->early_ctx, addr, buf, (size_t)(end - addr));
	if (end > addr && rd->sink->data) {
		if (rd->dl)
			record(rd, addr, end - addr, buf, 0);
		else
			rd->sink->data(rd->sink->ctx, addr, buf, (size_t)(end - addr));
	}
}

/* counted: 0 for a hole between two ranges (not a page of either) */
static void emit_hole(struct reader *rd, uint64_t lo, uint64_t hi, uint64_t addr, uint64_t len,
		      enum memread_hole why, int counted)
{
	if (!len)
		return;
	if (counted)
		rd->st->pages[why] += (len + PAGE - 1) / PAGE;
	{
		uint64_t end = addr + len;
		if (addr < lo)
			addr = lo;
		if (end > hi)
			end = hi;
		if (end > addr && rd->opts && rd->opts->early_hole)
			rd->opts->early_hole(rd->opts->early_ctx, addr, end - addr, why);
		if (end > addr && rd->sink->hole) {
			if (rd->dl)
				record(rd, addr, end - addr, NULL, why);
			else
				rd->sink->hole(rd->sink->ctx, addr, end - addr, why);
		}
	}
}

static int read_mem_fd(struct reader *rd, unsigned char *dst, uint64_t addr, size_t len)
{
	ssize_t n;

	if (rd->mr->mem_fd < 0) {
		rd->mr->mem_fd = procfs_openat(rd->p, "mem", NULL);
		if (rd->mr->mem_fd < 0)
			return -1;
	}
	rd->st->syscalls++;
	do
		n = pread(rd->mr->mem_fd, dst, len, (off_t)addr);
	while (n < 0 && errno == EINTR);
	return (int)n;
}

/* Read queued data items into the buffer and deliver everything queued, in order. */
static void flush(struct reader *rd)
{
	struct iovec local[MAX_IOV], remote[MAX_IOV];
	size_t first = 0;                /* first item not yet delivered */

	while (first < rd->nitems) {
		size_t n = 0, total = 0, i;
		ssize_t got;

		/* Deliver leading holes. */
		while (first < rd->nitems && rd->items[first].is_hole) {
			struct item *it = &rd->items[first++];
			emit_hole(rd, it->lo, it->hi, it->addr, it->len, it->why, it->is_hole != ITEM_GAP);
		}
		if (first == rd->nitems)
			break;
		for (i = first; i < rd->nitems && n < MAX_IOV; i++) {
			if (rd->items[i].is_hole)
				continue;
			local[n].iov_base = rd->buf + rd->items[i].off;
			local[n].iov_len = rd->items[i].len;
			remote[n].iov_base = (void *)(uintptr_t)rd->items[i].addr;
			remote[n].iov_len = rd->items[i].len;
			total += rd->items[i].len;
			n++;
		}
		if (rd->exited || rd->error) {
			got = 0;
		} else if (!rd->mr->use_mem) {
			rd->st->syscalls++;
			got = process_vm_readv(rd->p->pid, local, n, remote, n, 0);
			if (got < 0 && (errno == EPERM || errno == ENOSYS)) {
				rd->mr->use_mem = 1;
				rd->st->used_proc_mem = 1;
				continue;
			}
			if (got < 0 && errno == ESRCH)
				rd->exited = 1;
			if (got < 0)
				got = 0;
		} else {
			/* /proc/PID/mem: one pread per item until one falls short. */
			got = 0;
			for (i = 0; i < n; i++) {
				int r = read_mem_fd(rd, local[i].iov_base, (uint64_t)(uintptr_t)remote[i].iov_base,
						    local[i].iov_len);
				if (r < 0 && errno == ESRCH)
					rd->exited = 1;
				if (r > 0)
					got += r;
				if (r != (int)local[i].iov_len)
					break;
			}
		}
		/* Deliver, in order, everything covered by the `got` bytes read. */
		for (i = first; i < rd->nitems; i++) {
			struct item *it = &rd->items[i];
			if (it->is_hole) {
				emit_hole(rd, it->lo, it->hi, it->addr, it->len, it->why,
					  it->is_hole != ITEM_GAP);
				continue;
			}
			if ((uint64_t)got >= it->len) {
				give_data(rd, it->lo, it->hi, it->addr, rd->buf + it->off, it->len);
				rd->st->bytes_read += it->len;
				got -= (ssize_t)it->len;
				continue;
			}
			/* The transfer stopped inside this item. */
			if (got > 0) {
				give_data(rd, it->lo, it->hi, it->addr, rd->buf + it->off, (size_t)got);
				rd->st->bytes_read += (uint64_t)got;
				it->addr += (uint64_t)got;
				it->off += (size_t)got;
				it->len -= (uint64_t)got;
				got = 0;
			}
			if (rd->exited || rd->error) {
				emit_hole(rd, it->lo, it->hi, it->addr, it->len, MEMREAD_HOLE_UNREADABLE, 1);
				continue;
			}
			/* The page at it->addr failed: probe it alone to learn why. */
			{
				struct iovec l1 = { rd->buf + it->off, (size_t)(PAGE - (it->addr % PAGE)) };
				struct iovec r1 = { (void *)(uintptr_t)it->addr, l1.iov_len };
				ssize_t one;
				if (l1.iov_len > it->len)
					l1.iov_len = r1.iov_len = (size_t)it->len;
				rd->st->syscalls++;
				one = rd->mr->use_mem ? read_mem_fd(rd, l1.iov_base, it->addr, l1.iov_len)
						  : process_vm_readv(rd->p->pid, &l1, 1, &r1, 1, 0);
				if (one < 0 && errno == ESRCH) {
					rd->exited = 1;
					emit_hole(rd, it->lo, it->hi, it->addr, it->len,
						  MEMREAD_HOLE_UNREADABLE, 1);
					continue;
				}
				if (one == (ssize_t)l1.iov_len) {
					/* It reads now (a transient failure): deliver it. */
					give_data(rd, it->lo, it->hi, it->addr, l1.iov_base, l1.iov_len);
					rd->st->bytes_read += l1.iov_len;
				} else {
					emit_hole(rd, it->lo, it->hi, it->addr, l1.iov_len,
						  one < 0 && errno == EFAULT ? MEMREAD_HOLE_UNMAPPED
									     : MEMREAD_HOLE_UNREADABLE, 1);
				}
				it->addr += l1.iov_len;
				it->off += l1.iov_len;
				it->len -= l1.iov_len;
				if (it->len) {
					first = i;   /* retry the rest of this item and what follows */
					goto again;
				}
			}
		}
		first = rd->nitems;
again:;
	}
	rd->nitems = rd->ndata = 0;
	rd->used = 0;
	if (rd->dl)
		hand_over(rd);
	else if (rd->sink->mark)        /* the buffer is filled again next */
		rd->sink->settle(rd->sink->ctx, rd->sink->mark(rd->sink->ctx));
}

/* kind: 1 a hole of the range being queued, ITEM_GAP one between two ranges */
static void queue_hole_kind(struct reader *rd, uint64_t addr, uint64_t len, enum memread_hole why,
			    int kind)
{
	struct item *last;

	if (!len)
		return;
	if (!rd->nitems) {
		emit_hole(rd, rd->lo, rd->hi, addr, len, why, kind != ITEM_GAP);
		return;
	}
	last = &rd->items[rd->nitems - 1];
	if (last->is_hole == kind && last->why == why && last->addr + last->len == addr &&
	    last->lo == rd->lo && last->hi == rd->hi) {
		last->len += len;
		return;
	}
	if (rd->nitems == sizeof(rd->items) / sizeof(rd->items[0]))
		flush(rd);
	if (!rd->nitems) {
		emit_hole(rd, rd->lo, rd->hi, addr, len, why, kind != ITEM_GAP);
		return;
	}
	rd->items[rd->nitems++] = (struct item){ addr, len, 0, kind, why, rd->lo, rd->hi };
}

static void queue_hole(struct reader *rd, uint64_t addr, uint64_t len, enum memread_hole why)
{
	queue_hole_kind(rd, addr, len, why, 1);
}

static void queue_run(struct reader *rd, uint64_t addr, uint64_t len)
{
	rd->st->runs++;
	if (rd->opts && rd->opts->run)
		rd->opts->run(rd->opts->run_ctx, addr, addr + len);
	while (len) {
		uint64_t take;
		if (rd->used == BOUNCE || rd->ndata == MAX_IOV ||
		    rd->nitems >= sizeof(rd->items) / sizeof(rd->items[0]) - 1)
			flush(rd);
		take = BOUNCE - rd->used;
		if (take > len)
			take = len;
		rd->items[rd->nitems++] = (struct item){ addr, take, rd->used, 0, 0, rd->lo, rd->hi };
		rd->ndata++;
		rd->used += (size_t)take;
		addr += take;
		len -= take;
	}
}

/* ---- present pages ------------------------------------------------------------------ */

static int scan_supported = -1;      /* PAGEMAP_SCAN: -1 unknown, 0 no, 1 yes */

/* Queue runs and holes for [ws, we) from pagemap. Returns 0 or -errno. */
static int walk_window(struct reader *rd, int pm_fd, uint64_t ws, uint64_t we)
{
	uint64_t cursor = ws;

	if (scan_supported != 0 && !getenv("RW_NO_PAGEMAP_SCAN")) {
		struct page_region vec[256];
		struct pm_scan_arg arg;
		uint64_t at = ws;

		while (at < we) {
			long n;
			memset(&arg, 0, sizeof(arg));
			arg.size = sizeof(arg);
			arg.start = at;
			arg.end = we;
			arg.vec = (uint64_t)(uintptr_t)vec;
			arg.vec_len = sizeof(vec) / sizeof(vec[0]);
			arg.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
			arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
			n = ioctl(pm_fd, PAGEMAP_SCAN, &arg);
			if (n < 0) {
				if (errno == ESRCH)
					return -ESRCH;
				if (scan_supported == 1 && errno != ENOTTY && errno != EINVAL)
					return -errno;
				scan_supported = 0;
				break;
			}
			scan_supported = 1;
			rd->st->used_pagemap_scan = 1;
			for (long i = 0; i < n; i++) {
				if (vec[i].start > cursor)
					queue_hole(rd, cursor, vec[i].start - cursor, MEMREAD_HOLE_NOT_PRESENT);
				if (vec[i].categories & PAGE_IS_PRESENT) {
					rd->st->pages_present += (vec[i].end - vec[i].start) / PAGE;
					queue_run(rd, vec[i].start, vec[i].end - vec[i].start);
				} else {
					queue_hole(rd, vec[i].start, vec[i].end - vec[i].start,
						   MEMREAD_HOLE_SWAPPED);
				}
				cursor = vec[i].end;
			}
			if (arg.walk_end <= at)
				break;
			at = arg.walk_end;
		}
		if (scan_supported == 1) {
			queue_hole(rd, cursor, we - cursor, MEMREAD_HOLE_NOT_PRESENT);
			return 0;
		}
	}
	/* Fallback: the 64-bit pagemap entries, one per page. */
	{
		static uint64_t ent[WINDOW / PAGE];
		uint64_t npages = (we - ws) / PAGE, run_start = 0;
		ssize_t n;
		int in_run = 0;

		do
			n = pread(pm_fd, ent, npages * 8, (off_t)(ws / PAGE * 8));
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == ESRCH ? -ESRCH : -errno;
		npages = (uint64_t)n / 8;
		for (uint64_t i = 0; i <= npages; i++) {
			uint64_t addr = ws + i * PAGE;
			int present = i < npages && (ent[i] >> 63) & 1;
			if (present && !in_run) {
				if (addr > cursor)
					queue_hole(rd, cursor, addr - cursor, MEMREAD_HOLE_NOT_PRESENT);
				run_start = addr;
				in_run = 1;
			} else if (!present && in_run) {
				rd->st->pages_present += (addr - run_start) / PAGE;
				queue_run(rd, run_start, addr - run_start);
				cursor = addr;
				in_run = 0;
			}
			if (i < npages && !present && (ent[i] >> 62) & 1) {
				if (addr > cursor)
					queue_hole(rd, cursor, addr - cursor, MEMREAD_HOLE_NOT_PRESENT);
				queue_hole(rd, addr, PAGE, MEMREAD_HOLE_SWAPPED);
				cursor = addr + PAGE;
			}
		}
		queue_hole(rd, cursor, we - cursor, MEMREAD_HOLE_NOT_PRESENT);
	}
	return 0;
}

struct memread_reader *memread_reader_new(const struct procfs *p)
{
	struct memread_reader *mr = xcalloc(1, sizeof(*mr));

	mr->p = p;
	mr->pm_fd = -1;
	mr->mem_fd = -1;
	return mr;
}

void memread_reader_free(struct memread_reader *mr)
{
	if (!mr)
		return;
	if (mr->pm_fd >= 0)
		close(mr->pm_fd);
	if (mr->mem_fd >= 0)
		close(mr->mem_fd);
	for (int k = 0; k < NBUF; k++)
		free(mr->buf[k]);
	free(mr);
}

/* First region that ends above addr (s is sorted and disjoint). */
static size_t first_region(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Queue [start, end) (start page-aligned, end rounded up; clipped to rd->lo/hi), region by
 * region. Returns 0, or -errno of a pagemap failure (err set, rd->error set). */
static int queue_range(struct reader *rd, const struct snapshot *s, uint64_t start, uint64_t end,
		       const struct memread_opts *o, struct rw_err *err)
{
	struct memread_stats *st = rd->st;
	uint64_t cursor = start;
	int rc = 0;

	for (size_t i = first_region(s, start); i < s->count && cursor < end && !rd->exited; i++) {
		const struct region *r = &s->regions[i];
		uint64_t rs, re;
		const char *why;

		if (r->end <= cursor)
			continue;
		if (r->start >= end)
			break;
		rs = r->start > cursor ? r->start : cursor;
		re = r->end < end ? r->end : end;
		queue_hole(rd, cursor, rs - cursor, MEMREAD_HOLE_UNMAPPED);
		why = memread_skip_reason(r, o && o->include_dontdump);
		if (why) {
			queue_hole(rd, rs, re - rs, MEMREAD_HOLE_SKIPPED);
		} else {
			/* With a byte cap, 1 MiB windows: the read stops within 1 MiB of the cap. */
			uint64_t win = o && o->max_bytes ? (1ULL << 20) : WINDOW;
			for (uint64_t ws = rs; ws < re && !rd->exited; ws += win) {
				uint64_t we = ws + win < re ? ws + win : re;
				if (o && o->max_bytes && st->bytes_read + rd->used >= o->max_bytes) {
					st->truncated = 1;
					st->stopped_at = ws;
					re = ws;
					break;
				}
				rc = walk_window(rd, rd->mr->pm_fd, ws, we);
				if (rc == -ESRCH) {
					rd->exited = 1;
					rc = 0;
				} else if (rc) {
					rw_err_set(err, -rc, "reading /proc/%d/pagemap: %s", (int)rd->p->pid,
						   strerror(-rc));
					rd->error = -rc;
					break;
				}
			}
		}
		cursor = re;
		if (rc || st->truncated)
			break;
	}
	if (st->truncated)
		cursor = end;            /* what was not read is not reported as holes */
	if (!rc && !rd->exited)
		queue_hole(rd, cursor, end - cursor, MEMREAD_HOLE_UNMAPPED);
	return rc;
}

int memread_read(struct memread_reader *mr, const struct snapshot *s, const uint64_t *runs,
		 size_t nruns, uint64_t gap_hole, const struct memread_opts *o,
		 const struct memread_sink *sink, struct memread_stats *st, struct rw_err *err)
{
	struct reader *rd;
	const struct procfs *p = mr->p;
	uint64_t total = 0, prev_end = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (mr->pm_fd < 0) {
		mr->pm_fd = procfs_openat(p, "pagemap", err);
		if (mr->pm_fd == -ESRCH) {
			mr->pm_fd = -1;
			st->exited = 1;
			return rw_err_set(err, ESRCH, "process %d exited during the read", (int)p->pid);
		}
		if (mr->pm_fd < 0) {
			rc = mr->pm_fd;
			mr->pm_fd = -1;
			return rc;
		}
	}
	if (!mr->buf[0])
		mr->buf[0] = xmalloc(BOUNCE);
	rd = xcalloc(1, sizeof(*rd));
	rd->p = p;
	rd->mr = mr;
	rd->sink = sink;
	rd->opts = o;
	rd->st = st;
	rd->buf = mr->buf[0];
	for (size_t k = 0; k < nruns; k++)
		if (runs[2 * k + 1] > runs[2 * k])
			total += runs[2 * k + 1] - runs[2 * k];
	if (total > BOUNCE && (sink->data || sink->hole) && !getenv("RW_NO_READER_THREAD"))
		rd->dl = deliverer_start(sink, mr);
	for (size_t k = 0; k < nruns && !rd->exited && !rc && !st->truncated; k++) {
		uint64_t lo = runs[2 * k], hi = runs[2 * k + 1], start, end;

		if (hi <= lo)
			continue;
		/* Pieces apart are not one stream: a hole between them (clipped to gap_hole) ends
		 * strings and grep windows without making an analysis walk a wide gap. */
		if (k && gap_hole && lo > prev_end) {
			rd->lo = prev_end;
			rd->hi = prev_end + (lo - prev_end < gap_hole ? lo - prev_end : gap_hole);
			queue_hole_kind(rd, rd->lo, rd->hi - rd->lo, MEMREAD_HOLE_SKIPPED, ITEM_GAP);
		}
		prev_end = hi;
		start = lo & ~(PAGE - 1);
		/* Rounding up must not wrap: no user mapping reaches the last page below 2^64
		 * (x86_64 user space ends at 2^47, [vsyscall] below 2^64 - 2^22). */
		end = hi > UINT64_MAX - (PAGE - 1) ? UINT64_MAX & ~(PAGE - 1)
						   : (hi + PAGE - 1) & ~(PAGE - 1);
		rd->lo = lo;
		rd->hi = hi;
		rc = queue_range(rd, s, start, end, o, err);
	}
	flush(rd);
	if (rd->dl)
		deliverer_finish(rd);
	if (rd->exited || (!rc && procfs_check_alive(p, NULL))) {
		st->exited = 1;
		rc = rw_err_set(err, ESRCH, "process %d exited during the read", (int)p->pid);
	}
	free(rd);
	return rc;
}

int memread_range(const struct procfs *p, const struct snapshot *s, uint64_t start,
		  uint64_t end, const struct memread_opts *o, const struct memread_sink *sink,
		  struct memread_stats *st, struct rw_err *err)
{
	struct memread_reader *mr;
	uint64_t run[2] = { start, end };
	int rc;

	if (end <= start) {
		memset(st, 0, sizeof(*st));
		return rw_err_set(err, EINVAL, "empty range");
	}
	mr = memread_reader_new(p);
	rc = memread_read(mr, s, run, 1, 0, o, sink, st, err);
	memread_reader_free(mr);
	return rc;
}

/* The area around region i: touching pieces of one reservation (region_joinable). */
static void area_of(const struct snapshot *s, size_t i, size_t *lo, size_t *hi)
{
	*lo = *hi = i;
	while (*lo > 0 && region_joinable(&s->regions[*lo - 1], &s->regions[*lo]))
		(*lo)--;
	while (*hi + 1 < s->count && region_joinable(&s->regions[*hi], &s->regions[*hi + 1]))
		(*hi)++;
}

static int is_addr_spec(const char *spec)
{
	uint64_t a;
	return parse_addr(spec, &a) == 0;
}

int memread_resolve(const struct snapshot *s, const char *spec, uint64_t *start, uint64_t *end,
		    size_t *first, struct rw_err *err)
{
	const char *dash = strchr(spec, '-');
	uint64_t a, b;
	size_t lo, hi;
	long i;

	if (dash && dash != spec) {
		char left[64];
		size_t n = (size_t)(dash - spec);
		if (n < sizeof(left)) {
			memcpy(left, spec, n);
			left[n] = '\0';
			if (!parse_addr(left, &a) && !parse_addr(dash + 1, &b)) {
				if (b <= a)
					return rw_err_set(err, EINVAL, "region %s: end is not above start", spec);
				for (size_t k = 0; k < s->count; k++)
					if (s->regions[k].end > a && s->regions[k].start < b) {
						*start = a;
						*end = b;
						*first = k;
						return 0;
					}
				return rw_err_set(err, ENOENT, "region %s: nothing is mapped there", spec);
			}
		}
	}
	if (is_addr_spec(spec)) {
		parse_addr(spec, &a);
		i = snapshot_find(s, a);
		if (i < 0)
			return rw_err_set(err, ENOENT, "region %s: no mapping contains this address", spec);
		area_of(s, (size_t)i, &lo, &hi);
		*start = s->regions[lo].start;
		*end = s->regions[hi].end;
		*first = lo;
		return 0;
	}
	/* A name: "[heap]", a path, or a path's basename; it must name one area. */
	{
		char cands[400];
		size_t nc = 0, o = 0, found_lo = 0, found_hi = 0;
		const char *base;
		for (size_t k = 0; k < s->count; k++) {
			const char *path = s->regions[k].path;
			base = strrchr(path, '/');
			if (strcmp(path, spec) && !(base && !strcmp(base + 1, spec)))
				continue;
			area_of(s, k, &lo, &hi);
			if (nc && lo == found_lo)
				continue;
			if (nc < 8 && o < sizeof(cands) - 48)
				o += (size_t)snprintf(cands + o, sizeof(cands) - o, "%s%llx-%llx",
						      nc ? ", " : "", (unsigned long long)s->regions[lo].start,
						      (unsigned long long)s->regions[hi].end);
			if (!nc) {
				found_lo = lo;
				found_hi = hi;
			}
			nc++;
			k = hi;
		}
		if (nc == 1) {
			*start = s->regions[found_lo].start;
			*end = s->regions[found_hi].end;
			*first = found_lo;
			return 0;
		}
		if (nc > 1)
			return rw_err_set(err, EINVAL, "region %s is ambiguous: %zu mappings match (%s%s); "
					  "give an address or START-END", spec, nc, cands, nc > 8 ? ", ..." : "");
		return rw_err_set(err, ENOENT, "region %s: no mapping has this name (give an address, "
				  "START-END, or a name such as [heap])", spec);
	}
}

int memread_page_map(const struct procfs *p, uint64_t start, uint64_t end, size_t nbuckets,
		     uint32_t *present, uint32_t *swapped, struct rw_err *err)
{
	static uint64_t ent[WINDOW / PAGE];
	uint64_t span = end - start;
	int fd;

	memset(present, 0, nbuckets * sizeof(*present));
	memset(swapped, 0, nbuckets * sizeof(*swapped));
	if (!nbuckets || end <= start)
		return 0;
	fd = procfs_openat(p, "pagemap", err);
	if (fd < 0)
		return fd;
	for (uint64_t ws = start & ~(PAGE - 1); ws < end; ws += WINDOW) {
		uint64_t we = ws + WINDOW < end ? ws + WINDOW : end;
		ssize_t n = pread(fd, ent, (we - ws + PAGE - 1) / PAGE * 8, (off_t)(ws / PAGE * 8));
		if (n < 0) {
			int e = errno;
			close(fd);
			return rw_err_set(err, e, "reading /proc/%d/pagemap: %s", (int)p->pid, strerror(e));
		}
		for (ssize_t i = 0; i < n / 8; i++) {
			uint64_t addr = ws + (uint64_t)i * PAGE;
			size_t b;
			if (addr < start)
				continue;
			b = (size_t)((double)(addr - start) / (double)span * (double)nbuckets);
			if (b >= nbuckets)
				b = nbuckets - 1;
			if ((ent[i] >> 63) & 1)
				present[b]++;
			else if ((ent[i] >> 62) & 1)
				swapped[b]++;
		}
	}
	close(fd);
	return 0;
}

/* ---- resident counts ---------------------------------------------------------------- */

/* Above every user address of x86-64 (47 or 56 bits) and arm64 (48 or 52 bits). */
#define USER_SPACE_END (1ULL << 57)

#define CLUSTER_GAP (256ULL << 20)   /* 128 steps of 2 MiB */

static struct page_region count_vec[4096];   /* 96 KiB: bounded output, the walk resumes */
static int guard_known = -1;                 /* PAGE_IS_GUARD accepted: -1 unknown, 0, 1 */

/* Add the pages of one returned run to the regions it covers (the kernel merges runs of
 * equal categories across VMA boundaries). *ri only moves forward: runs come in order. */
static void count_run(struct snapshot *s, size_t *ri, const struct page_region *pr, int all_anon)
{
	uint64_t cat = pr->categories;

	if (!(cat & PAGE_IS_PRESENT) && !((cat & PAGE_IS_SWAPPED) && !(cat & PAGE_IS_GUARD)))
		return;
	if ((cat & PAGE_IS_PRESENT) && (cat & PAGE_IS_PFNZERO))
		return;        /* the shared zero page: smaps does not count it (vm_normal_page) */
	while (*ri < s->count && s->regions[*ri].end <= pr->start)
		(*ri)++;
	for (size_t i = *ri; i < s->count && s->regions[i].start < pr->end; i++) {
		struct region *r = &s->regions[i];
		uint64_t a = r->start > pr->start ? r->start : pr->start;
		uint64_t b = r->end < pr->end ? r->end : pr->end;
		if (b <= a)
			continue;
		if (cat & PAGE_IS_PRESENT) {
			r->f[RF_RSS] += b - a;
			if (all_anon || !(cat & PAGE_IS_FILE))
				r->f[RF_ANONYMOUS] += b - a;
		} else {
			r->f[RF_SWAP] += b - a;
		}
	}
}

/* One PAGEMAP_SCAN walk of [at, end), resuming at walk_end while the output fills. */
static int scan_counts(int pagemap_fd, struct snapshot *s, size_t *ri, uint64_t at,
		       uint64_t end, int all_anon, struct rw_err *err)
{
	struct pm_scan_arg arg;

	while (at < end) {
		long n;
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = at;
		arg.end = end;
		arg.vec = (uint64_t)(uintptr_t)count_vec;
		arg.vec_len = sizeof(count_vec) / sizeof(count_vec[0]);
		arg.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
		arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO |
				  (all_anon ? 0 : PAGE_IS_FILE) |
				  (guard_known != 0 ? PAGE_IS_GUARD : 0);
		n = ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
		if (n < 0) {
			int e = errno;
			if (e == EINVAL && guard_known == -1) {
				guard_known = 0;        /* before Linux 6.14: no PAGE_IS_GUARD */
				continue;
			}
			if (e == EINTR)
				continue;
			return rw_err_set(err, e, "PAGEMAP_SCAN on /proc/PID/pagemap: %s", strerror(e));
		}
		if (guard_known == -1)
			guard_known = 1;
		/* Only what lies below walk_end counts: on 6.18 a call that stops early (its
		 * 2 MiB steps fill an internal buffer) can return runs above walk_end as well,
		 * which the next call, starting at walk_end, returns again. */
		for (long i = 0; i < n; i++) {
			struct page_region pr = count_vec[i];
			if (pr.end > arg.walk_end)
				pr.end = arg.walk_end;
			if (pr.start < pr.end)
				count_run(s, ri, &pr, all_anon);
		}
		if (arg.walk_end <= at)
			break;
		at = arg.walk_end;
	}
	return 0;
}

/* A private anonymous mapping holds anonymous pages only (or the zero page, not counted), so
 * its Anonymous is its Rss: the walk need not ask the kernel which pages are file pages
 * (PAGE_IS_FILE looks each page's folio up: a quarter of the walk's cost). */
static int private_anon(const struct region *r)
{
	return r->inode == 0 && r->perms[3] == 'p' &&
	       (!r->path[0] || !strcmp(r->path, "[heap]") || !strcmp(r->path, "[stack]") ||
		!strncmp(r->path, "[anon:", 6));
}

int memread_resident_counts(int pagemap_fd, struct snapshot *s, struct rw_err *err)
{
	uint64_t ht = region_vmflag_bit("ht");
	size_t ri = 0, i = 0;

	for (size_t k = 0; k < s->count; k++)
		s->regions[k].f[RF_RSS] = s->regions[k].f[RF_ANONYMOUS] = s->regions[k].f[RF_SWAP] = 0;
	s->fields_present |= (1u << RF_RSS) | (1u << RF_ANONYMOUS) | (1u << RF_SWAP);
	/* The kernel walks a range 2 MiB at a time, taking the mmap lock and looking the VMA up
	 * for each step, holes included (do_pagemap_scan, PAGEMAP_WALK_SIZE): one call over the
	 * ~40 TiB between a program and its stack would take 20 million steps. So one call per
	 * cluster of regions less than CLUSTER_GAP apart, all private anonymous or not. Inside a call only VMAs are visited;
	 * VM_PFNMAP ones such as [vvar] are skipped (pagemap_scan_test_walk), and smaps gives
	 * them no Rss either. The range must hold user addresses (access_ok, else EFAULT):
	 * [vsyscall] at 0xffffffffff600000 does not, and has no Rss in smaps. */
	while (i < s->count && s->regions[i].end <= USER_SPACE_END) {
		uint64_t at = s->regions[i].start, end = s->regions[i].end;
		int anon = private_anon(&s->regions[i]), rc;
		while (++i < s->count && s->regions[i].end <= USER_SPACE_END &&
		       s->regions[i].start - end <= CLUSTER_GAP && private_anon(&s->regions[i]) == anon)
			end = s->regions[i].end;
		rc = scan_counts(pagemap_fd, s, &ri, at, end, anon, err);
		if (rc)
			return rc;
	}
	/* hugetlb pages are counted by smaps in Shared/Private_Hugetlb, not in Rss (smaps_hugetlb_range). */
	for (size_t k = 0; k < s->count; k++)
		if (s->regions[k].vmflags_mask & ht)
			s->regions[k].f[RF_RSS] = s->regions[k].f[RF_ANONYMOUS] = s->regions[k].f[RF_SWAP] = 0;
	return 0;
}

/* ---- present runs ------------------------------------------------------------------- */

/* Append [s, e) to the caller's runs, merging with the last one when they touch. */
static int add_present_run(uint64_t *runs, size_t max_runs, size_t *n, uint64_t s, uint64_t e)
{
	if (*n && runs[2 * *n - 1] == s) {
		runs[2 * *n - 1] = e;
		return 0;
	}
	if (*n >= max_runs)
		return -ENOSPC;
	runs[2 * *n] = s;
	runs[2 * *n + 1] = e;
	(*n)++;
	return 0;
}

int memread_present_runs(const struct procfs *p, uint64_t start, uint64_t end, uint64_t *runs,
			 size_t max_runs, size_t *nruns, struct rw_err *err)
{
	static uint64_t ent[WINDOW / PAGE];
	int fd, rc = 0;

	*nruns = 0;
	start &= ~(PAGE - 1);
	end = (end + PAGE - 1) & ~(PAGE - 1);
	if (end <= start)
		return 0;
	fd = procfs_openat(p, "pagemap", err);
	if (fd < 0)
		return fd;
	if (scan_supported != 0 && !getenv("RW_NO_PAGEMAP_SCAN")) {
		struct page_region vec[256];
		struct pm_scan_arg arg;
		uint64_t at = start;

		while (at < end && !rc) {
			long n;
			memset(&arg, 0, sizeof(arg));
			arg.size = sizeof(arg);
			arg.start = at;
			arg.end = end;
			arg.vec = (uint64_t)(uintptr_t)vec;
			arg.vec_len = sizeof(vec) / sizeof(vec[0]);
			arg.category_mask = PAGE_IS_PRESENT;
			arg.return_mask = PAGE_IS_PRESENT;
			n = ioctl(fd, PAGEMAP_SCAN, &arg);
			if (n < 0) {
				int e = errno;
				if (e == EINTR)
					continue;
				if (scan_supported == 1 || (e != ENOTTY && e != EINVAL)) {
					close(fd);
					return rw_err_set(err, e, "PAGEMAP_SCAN on /proc/%d/pagemap: %s",
							  (int)p->pid, strerror(e));
				}
				scan_supported = 0;
				break;
			}
			scan_supported = 1;
			/* As in scan_counts: only what lies below walk_end counts. */
			for (long i = 0; i < n && !rc; i++) {
				uint64_t e = vec[i].end < arg.walk_end ? vec[i].end : arg.walk_end;
				if (vec[i].start < e)
					rc = add_present_run(runs, max_runs, nruns, vec[i].start, e);
			}
			if (arg.walk_end <= at)
				break;
			at = arg.walk_end;
		}
		if (scan_supported == 1) {
			close(fd);
			return rc;
		}
	}
	/* Fallback: the 64-bit entries, one per page (bit 63: present). */
	for (uint64_t ws = start; ws < end && !rc; ws += WINDOW) {
		uint64_t we = ws + WINDOW < end ? ws + WINDOW : end;
		ssize_t n;
		do
			n = pread(fd, ent, (we - ws) / PAGE * 8, (off_t)(ws / PAGE * 8));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno;
			close(fd);
			return rw_err_set(err, e, "reading /proc/%d/pagemap: %s", (int)p->pid, strerror(e));
		}
		for (ssize_t i = 0; i < n / 8 && !rc; i++)
			if ((ent[i] >> 63) & 1)
				rc = add_present_run(runs, max_runs, nruns, ws + (uint64_t)i * PAGE,
						     ws + (uint64_t)(i + 1) * PAGE);
	}
	close(fd);
	return rc;
}
