/* procfs: one /proc/PID directory fd, whole-file reads from it, process identity, and the
 * process's tasks (threads): their ids, stat, status and syscall files, read through that
 * fd without stopping anything. The parsers are pure, over [text, end), for the readers
 * and their tests. */
#ifndef RW_PROCFS_H
#define RW_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util.h"

struct procfs {
	int dirfd;                        /* O_DIRECTORY fd of /proc/PID */
	pid_t pid;
	unsigned long long start_ticks;   /* stat field 22 at open time */
};

/* Open /proc/PID. -ESRCH: no such process; -EACCES/-EPERM: not ours to read (the message
 * says why: another user, capabilities this process lacks, or the kernel's ptrace access
 * check); -EOPNOTSUPP: a kernel thread (no user memory, no user stack). */
int procfs_open(pid_t pid, struct procfs *p, struct rw_err *err);
void procfs_close(struct procfs *p);

/* Read a whole file under /proc/PID (e.g. "smaps", "status") into a malloc'd,
 * NUL-terminated buffer. The open is relative to the dir fd, so a reused pid cannot
 * redirect it. -ESRCH when the process is gone. */
int procfs_read(const struct procfs *p, const char *name, char **buf, size_t *len,
		struct rw_err *err);

/* Open a file under /proc/PID for streaming reads (O_RDONLY|O_CLOEXEC). Returns fd or -errno. */
int procfs_openat(const struct procfs *p, const char *name, struct rw_err *err);

/* stat field 22 (starttime, clock ticks since boot). */
int procfs_start_ticks(const struct procfs *p, unsigned long long *ticks, struct rw_err *err);
/* 0 if the process behind the dir fd is still the one opened (same start time),
 * -ESRCH if it is gone or was replaced. */
int procfs_check_alive(const struct procfs *p, struct rw_err *err);

/* comm (without newline) and cmdline (NUL separators turned into spaces); malloc'd. */
int procfs_comm(const struct procfs *p, char **out, struct rw_err *err);
int procfs_cmdline(const struct procfs *p, char **out, struct rw_err *err);

/* ---- Parsers: pure, over [text, end) (no NUL needed; a NUL is an ordinary byte). ---- */

/* The fields of a stat line (proc(5) /proc/pid/stat) that we use. */
struct procfs_stat {
	char comm[64];           /* field 2 without the parentheses, cut to 63 bytes; may hold
				  * any byte but NUL, ')' and spaces included: escape to print
				  * (15 bytes for a user thread, longer for a kworker since 5.x) */
	char state;              /* field 3: R S D T t Z X I ..., '?' if unknown */
	int has_start;           /* field 22 was there and a number */
	unsigned long long start_ticks;   /* field 22 (starttime, clock ticks since boot) */
	uint64_t kstkesp;        /* field 29; 0 when absent (non-zero only while the kernel dumps
				  * core: fs/proc/array.c do_task_stat) */
	unsigned long flags;     /* field 9: PF_* (PROCFS_PF_KTHREAD: a kernel thread) */
};

#define PROCFS_PF_KTHREAD 0x00200000ul   /* include/linux/sched.h PF_KTHREAD */

/* "PID (COMM) S f4 ... f52": comm ends at the last ')' (it may hold ')' itself). A line cut
 * short after the state is not an error (the fields past its end stay 0).
 * 0, or -EINVAL (no "(...)", or no one-letter state after it). */
int procfs_parse_stat(const char *text, const char *end, struct procfs_stat *st);

/* The fields of a status file (proc(5) /proc/pid/status) that we use. */
struct procfs_status {
	char state;              /* "State:" letter, '?' if missing */
	pid_t tracer_pid;        /* "TracerPid:", 0 if none or missing */
};

/* "Key:\tvalue" lines in any order; unknown keys are ignored. 0, or -EINVAL when State or
 * TracerPid is missing or malformed (the fields that were found are filled all the same). */
int procfs_parse_status(const char *text, const char *end, struct procfs_status *st);

/* syscall (proc(5) /proc/pid/syscall): "running" -> -EAGAIN (no SP while running);
 * "NR A1..A6 SP PC" or "-1 SP PC" (blocked outside a syscall) -> *sp, the next-to-last
 * field. -EINVAL otherwise. */
int procfs_parse_syscall(const char *text, const char *end, uint64_t *sp);

/* ---- Tasks, through the dir fd: a reused pid cannot redirect these either. ---- */

/* The thread ids in /proc/PID/task, sorted. *tids is malloc'd (free() it).
 * -ESRCH: the process is gone (no task directory, or an empty one). */
int procfs_tids(const struct procfs *p, pid_t **tids, size_t *count, struct rw_err *err);

/* task/TID/stat, task/TID/syscall (-EAGAIN: the thread is running, no SP to give), and
 * status of the process. -ESRCH when the thread or process is gone, -EINVAL when the text
 * does not parse; procfs_status fills *st with what it found even then. */
int procfs_task_stat(const struct procfs *p, pid_t tid, struct procfs_stat *st,
		     struct rw_err *err);
int procfs_task_syscall_sp(const struct procfs *p, pid_t tid, uint64_t *sp, struct rw_err *err);
int procfs_status(const struct procfs *p, struct procfs_status *st, struct rw_err *err);

/* Where a task's stack pointer came from. */
enum procfs_sp_source {
	PROCFS_SP_NONE,          /* unknown: the thread was running, or the files said nothing */
	PROCFS_SP_KSTKESP,       /* task/TID/stat field 29 (non-zero only during a core dump) */
	PROCFS_SP_SYSCALL,       /* task/TID/syscall: the user SP saved on entry to the syscall
				  * (or fault) the thread is blocked in */
};

struct procfs_task {
	pid_t tid;
	char comm[64];           /* as in struct procfs_stat; "?" if the stat did not parse */
	char state;              /* as in struct procfs_stat */
	uint64_t sp;             /* 0 when unknown */
	enum procfs_sp_source sp_source;
};

/* Every thread of the process, sorted by tid: names, states and stack pointers, read from
 * task/TID/stat and task/TID/syscall without ptrace: nothing is stopped or traced. A
 * thread that exits while it is read is left out. -ESRCH: the process is gone. *tasks is
 * malloc'd (free() it). */
int procfs_task_list(const struct procfs *p, struct procfs_task **tasks, size_t *count,
		     struct rw_err *err);

/* "none", "kstkesp", "syscall". */
const char *procfs_sp_source_name(enum procfs_sp_source s);

#endif
