/* target: stop every thread of a process for a moment and let it go again, safely.
 * PTRACE_SEIZE + PTRACE_INTERRUPT only: never PTRACE_ATTACH (which sends SIGSTOP) and never
 * PTRACE_O_EXITKILL, so if regionwatch dies the kernel detaches and the target runs on.
 * Signals that arrive during the freeze are re-injected at detach. A process that was
 * already stopped (SIGSTOP) stays stopped. */
#ifndef RW_TARGET_H
#define RW_TARGET_H

#include <stddef.h>
#include <sys/types.h>
#include "procfs.h"
#include "util.h"

struct target_thread {
	pid_t tid;
	int pending_sig;             /* signal caught in signal-delivery-stop, re-injected */
	int group_stop;              /* the stop was a group-stop (process stopped by a signal) */
	int stopped;                 /* seen in a ptrace-stop */
};

struct target_freeze {
	pid_t pid;
	struct target_thread *threads;
	size_t count, cap;
	double freeze_ms;            /* time taken to stop every thread */
	int threads_gone;            /* threads that exited while being frozen */
};

/* Stop all threads within timeout_ms, rescanning /proc/PID/task until no new thread appears.
 * On failure nothing is left seized. -EPERM: not permitted, or already traced (the message
 * names the tracer); -ESRCH: the process exited; -ETIMEDOUT. */
int target_freeze(const struct procfs *p, double timeout_ms, struct target_freeze *f,
		  struct rw_err *err);

/* Detach every thread (re-injecting pending signals). Safe to call twice. */
void target_thaw(struct target_freeze *f);

/* TracerPid of the process (proc(5) /proc/PID/status), 0 if none or unknown. */
pid_t target_tracer(const struct procfs *p);

/* Async-signal-safe: detach whatever is frozen right now. For signal handlers. */
void target_emergency_thaw(void);

/* Test hook: if RW_TEST_PAUSE_AT names a phase ("seized", "interrupted", "frozen",
 * "detaching"; dump also has "reading", just before it reads memory), print "paused at PHASE" to stderr and sleep there (RW_TEST_PAUSE_MS,
 * default 30000), so a test can signal or kill regionwatch at that moment. */
void target_test_pause(const char *phase);

#endif
