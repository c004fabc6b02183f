/* procfs: one /proc/PID directory fd, whole-file reads from it, and process identity. */
#ifndef RW_PROCFS_H
#define RW_PROCFS_H

#include <stddef.h>
#include <sys/types.h>
#include "util.h"

struct procfs {
	int dirfd;                        /* O_DIRECTORY fd of /proc/PID */
	pid_t pid;
	unsigned long long start_ticks;   /* stat field 22 at open time */
};

/* Open /proc/PID. -ESRCH: no such process; -EACCES/-EPERM: not ours to read. */
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

#endif
