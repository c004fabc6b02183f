/* sampler: repeated snapshots of one live process at low cost. Two kinds of sample:
 *  - full: /proc/PID/smaps, every field. The first sample, then one once at least
 *    full_every samples and full_seconds have passed, and every sample where PAGEMAP_SCAN
 *    is unavailable (before Linux 6.7, or refused).
 *  - cheap (the others): /proc/PID/maps for the regions, and one PAGEMAP_SCAN walk of
 *    /proc/PID/pagemap for each region's Rss, Anonymous and Swap, counted as smaps counts
 *    them; fields_present says only those (and Size). VmFlags are carried over from the last
 *    full sample for the mappings it had (same range, perms, offset, device, inode); a
 *    mapping new since then has REGION_VMFLAGS_UNKNOWN, which memread refuses to read.
 *    At 60,000 mappings (measured): smaps ~320 ms of CPU, maps ~40 ms, the walk ~30 ms.
 * The fds stay open and are re-read from offset 0 (seq_file regenerates the text), in 1 MiB
 * pieces through the incremental parser: the whole text (41 MiB there) is never held. */
#ifndef RW_SAMPLER_H
#define RW_SAMPLER_H

#include <stdint.h>
#include <sys/types.h>
#include "procfs.h"
#include "region.h"
#include "util.h"

struct sampler {
	struct procfs proc;
	int smaps_fd;
	int maps_fd, pagemap_fd;      /* -1 when they could not be opened: full samples only */
	char *buf;                    /* one read() piece */
	size_t buf_cap;
	struct snapshot *snap;        /* the latest sample (one of the two below); reused */
	struct snapshot *snap_full, *snap_cheap;
	int full_valid;               /* snap_full holds a full sample */
	int last_full;                /* the latest sample read smaps */
	int cheap_ok;                 /* PAGEMAP_SCAN: -1 not tried yet, 0 unavailable, 1 works */
	int force_full;               /* set by a caller: the next sample reads smaps */
	unsigned full_every;          /* a full sample every this many (SAMPLER_FULL_EVERY) */
	double full_seconds;          /* ... and at least this long apart (SAMPLER_FULL_SECONDS) */
	double full_time;             /* monotonic time of the last full sample */
	unsigned since_full;          /* cheap samples since the last full one */
	uint64_t nfull, ncheap;       /* samples of each kind so far */
	char comm[64];
	double cost_ms;               /* own CPU time (user+sys) of the latest sample */
	/* Thread stacks, without stopping anything (procfs_task_list): refreshed every
	 * SAMPLER_TASKS_EVERY samples, since it opens two files per thread. */
	struct procfs_task *tasks;
	size_t ntasks;
	unsigned tasks_age;
	/* The cgroup v2 directory whose memory.max applies, found by walking up from the
	 * process's cgroup; looked up again every SAMPLER_CGROUP_EVERY calls, not each sample. */
	char cg_dir[512];
	unsigned cg_age;
	int cg_known;
};

#define SAMPLER_CGROUP_EVERY 60

#define SAMPLER_TASKS_EVERY 10

/* Pss, the Shared/Private split, VmFlags etc. are refreshed every this many samples and at
 * most once a minute (a full read is 5-10 cheap ones; at -i 0.05, every 30th sample would
 * be a full read each 1.5 s); Rss, Anonymous and Swap every sample. Content reads take a
 * fresh full map when they need one (sampler_full_snapshot). */
#define SAMPLER_FULL_EVERY 30
#define SAMPLER_FULL_SECONDS 60.0

#define SAMPLER_READ_PIECE (1u << 20)

/* Memory limit that applies to the process, if any can be found. */
struct mem_limit {
	int kind;                     /* 0 none, 1 cgroup memory.max, 2 MemAvailable */
	uint64_t limit;               /* cgroup memory.max (kind 1) */
	uint64_t headroom;            /* bytes left before the limit */
};

int sampler_open(struct sampler *sm, pid_t pid, struct rw_err *err);
void sampler_close(struct sampler *sm);

/* Take one sample into sm->snap. -ESRCH when the process has exited (or was replaced).
 * Anonymous regions that hold a thread's stack pointer get kind stack and the path
 * "[stack tid N comm]" (a thread blocked in a system call shows its SP; one that is running
 * keeps the label from an earlier sample only if its SP was seen there). */
int sampler_take(struct sampler *sm, struct rw_err *err);

/* The map with VmFlags, for reading content (memread's skip rules need them; a cheap sample
 * marks new mappings REGION_VMFLAGS_UNKNOWN): the latest sample when it read smaps, else a
 * fresh read of smaps (streamed, bounded), which becomes sm->snap without being a timeline
 * sample. NULL with err set (ESRCH: the process is gone). */
const struct snapshot *sampler_full_snapshot(struct sampler *sm, struct rw_err *err);

/* cgroup v2 memory.max (walking up to the first set limit) and memory.current, else the
 * system's MemAvailable. One or two small reads per call; never fails (kind 0 when nothing
 * is known). */
void sampler_mem_limit(struct sampler *sm, struct mem_limit *out);

#endif
