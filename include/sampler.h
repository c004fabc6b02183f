/* sampler: repeated snapshots of one live process at low cost: the smaps fd stays open and
 * is re-read from offset 0 (seq_file regenerates it), into a reused buffer and snapshot. */
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
	char *buf;
	size_t buf_cap;
	struct snapshot *snap;        /* the latest sample; reused */
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

/* cgroup v2 memory.max (walking up to the first set limit) and memory.current, else the
 * system's MemAvailable. One or two small reads per call; never fails (kind 0 when nothing
 * is known). */
void sampler_mem_limit(struct sampler *sm, struct mem_limit *out);

#endif
