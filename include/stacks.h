/* stacks: backtraces of every thread of a live process, as data. Stops the threads for a
 * moment (target_freeze: PTRACE_SEIZE + PTRACE_INTERRUPT; if we die the kernel lets them
 * go), unwinds each (unwind), lets them go, names the frames and places them in the
 * mappings. Used by `stacks` (text and JSON) and the monitor's backtrace view. Never prints. */
#ifndef RW_STACKS_H
#define RW_STACKS_H

#include <stddef.h>
#include <sys/types.h>
#include "procfs.h"
#include "region.h"
#include "unwind.h"
#include "util.h"

#define STACKS_FREEZE_MS 2000.0     /* to stop every thread */
#define STACKS_THREAD_MS 200.0      /* to unwind one thread */
#define STACKS_TOTAL_MS 2000.0      /* to unwind them all: bounds the stop for many threads */
#define STACKS_DEFAULT_FRAMES 64
#define STACKS_MAX_FRAMES 4096

struct stacks_opts {
	size_t max_frames;           /* per thread, 1..STACKS_MAX_FRAMES (0: the default) */
	/* Called once, just before the threads are stopped (or, when another tracer held
	 * the process and let go meanwhile, just after): nthreads as listed before the stop.
	 * NULL: nothing is said. Nothing else is called while the target is stopped. */
	void (*announce)(void *ctx, size_t nthreads, const char *comm);
	void *ctx;
};

struct stacks_result {
	pid_t pid;
	const char *comm;            /* the process's name (borrowed from snap) */
	struct unwind_thread *threads;   /* main thread first, then by tid; frames' modules
					  * are borrowed from snap */
	size_t nthreads;
	size_t nfrozen;              /* threads the freeze stopped (the others had exited) */
	size_t ngone;                /* threads that exited before or while being read */
	int was_stopped;             /* stopped (SIGSTOP) before, and stays stopped */
	double stopped_ms;           /* the whole stop, from freeze to thaw */
	double freeze_ms;            /* of which: to stop every thread */
	double unwind_ms;            /* of which: unwinding */
	struct snapshot *snap;       /* the map the frames were placed in (owned) */
};

/* Everything that needs no stop is read first (names, states, the map); then the stop,
 * the unwinding within the bounds above, the thaw; names and mappings after the thaw.
 * Returns 0 (out filled; some threads may be gone or cut short, as each says), or -errno
 * with err filled and nothing left stopped: -ESRCH the process is gone, -EPERM not
 * permitted or already traced, -ETIMEDOUT the threads could not all be stopped.
 * stacks_free(out) in every case. */
int stacks_collect(const struct procfs *p, const struct stacks_opts *o, struct stacks_result *out,
		   struct rw_err *err);
void stacks_free(struct stacks_result *r);

#endif
