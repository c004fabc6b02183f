/* unwind: backtraces of the threads of a stopped process (libunwind-ptrace). Where each
 * thread's stack pointer is without stopping anything is procfs_task_list's.
 * Only src/unwind.c includes libunwind; this header does not, so other modules (and
 * out_json) can use these types without it. */
#ifndef RW_UNWIND_H
#define RW_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "procfs.h"
#include "util.h"

/* ---- Backtraces of a frozen process (target_freeze first). ---- */

struct unwind_frame {
	uint64_t ip;             /* the instruction pointer; a return address from #1 on */
	uint64_t sp;
	uint64_t func_start, func_end;   /* the function's range from its unwind info (CFI),
					  * 0, 0 when it has none */
	int exact_ip;            /* ip is the interrupted instruction (#0, or the frame a
				  * signal interrupted), not a return address */
	uint64_t offset;         /* ip - function start, when function is set */
	char *function;          /* symbol name from the ELF symbol tables, or NULL (owned) */
	const char *module;      /* basename of the file mapped at ip, or NULL: filled by the
				  * caller from a snapshot, borrowed from it */
	uint64_t module_offset;  /* ip's offset in that file, when module is a file */
};

/* Why a backtrace ended. */
enum unwind_stop {
	UNWIND_STOP_END,         /* the unwinder reached the outermost frame */
	UNWIND_STOP_MAX_FRAMES,  /* frame cap */
	UNWIND_STOP_TIME,        /* per-thread time cap (or the whole-process budget) */
	UNWIND_STOP_ERROR,       /* the unwinder could not find the caller: reason says why */
	UNWIND_STOP_LOOP,        /* the same frame came back: a loop, stopped */
	UNWIND_STOP_GONE,        /* the thread exited (before or while it was unwound) */
	UNWIND_STOP_SKIPPED,     /* not unwound: the whole-process time budget was used up */
};

struct unwind_thread {
	struct procfs_task task; /* from procfs_task_list before the freeze (state = what the
				  * thread was doing, not the ptrace stop) */
	uint64_t sp;             /* SP register when frozen (0 if it could not be read) */
	uint64_t stack_start, stack_end;   /* the mapping holding sp; 0, 0 if unknown */
	struct unwind_frame *frames;
	size_t count, cap;
	enum unwind_stop stop;
	char reason[256];        /* for ERROR/LOOP/GONE/TIME/SKIPPED: what and why, one line */
	double ms;               /* time spent unwinding this thread */
};

struct unwind_ctx;

/* One libunwind address space for process pid, for one freeze: memory read from the
 * target is cached (the threads are stopped, it cannot change) until unwind_symbolize,
 * which is for after the thaw. One context at a time. NULL if libunwind cannot create it. */
struct unwind_ctx *unwind_new(pid_t pid);
void unwind_free(struct unwind_ctx *u);

/* Unwind thread t->task.tid, which must be in a ptrace-stop of ours (target_freeze): ip,
 * sp and function range of each frame, no names (unwind_symbolize, after the thaw).
 * At most max_frames frames, stops looking after max_ms (checked between steps: unwinders
 * can loop). Reads registers and memory with PTRACE_GETREGS/PEEK*: never writes.
 * Always fills t->stop and t->reason; returns 0, or -ESRCH if the thread is gone. */
int unwind_thread_run(struct unwind_ctx *u, const struct procfs *p, struct unwind_thread *t,
		      size_t max_frames, double max_ms);

/* Names the frames of t (function, offset) from the ELF symbol tables of the files mapped
 * in process pid. Needs no stop, so call it after target_thaw: it reads /proc/PID/maps and
 * the files, which takes far longer than the unwinding. A symbol that starts before the
 * function the unwind info says ip is in is the nearest exported name before a static
 * function of a stripped library (start_thread shown as pthread_condattr_setpshared+0x515):
 * it is dropped, and the frame stays unnamed. */
void unwind_symbolize(struct unwind_ctx *u, pid_t pid, struct unwind_thread *t);

/* Releases the frames (t itself is the caller's). unwind_thread_clear(NULL) is a no-op. */
void unwind_thread_clear(struct unwind_thread *t);

/* "end", "max-frames", "time", "error", "loop", "gone", "skipped". */
const char *unwind_stop_name(enum unwind_stop s);

/* 1 when the backtrace was cut short (max-frames, time, skipped) rather than complete or
 * stopped by an error. */
int unwind_stop_truncated(enum unwind_stop s);

#endif
