/* procfs: every read of /proc/PID goes through one directory fd (proc(5)), so a pid that
 * is reused after we opened it cannot redirect a later read to another process: reads
 * through the old dir fd fail with ESRCH once the process is gone. */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A proc file larger than this is not one we want (smaps of 60,000 mappings ≈ 60 MiB). */
#define PROCFS_MAX_FILE ((size_t)1 << 30)

static int errno_msg(struct rw_err *err, int e, pid_t pid, const char *name)
{
	switch (e) {
	case ENOENT:
	case ESRCH:
		return rw_err_set(err, ESRCH, "no process with pid %d", (int)pid);
	case EACCES:
	case EPERM:
		return rw_err_set(err, e, "cannot read /proc/%d/%s: permission denied "
				  "(process belongs to another user; run as its owner or root)",
				  (int)pid, name);
	default:
		return rw_err_set(err, e, "cannot read /proc/%d/%s: %s", (int)pid, name, strerror(e));
	}
}

int procfs_open(pid_t pid, struct procfs *p, struct rw_err *err)
{
	char path[64];
	int rc;

	p->dirfd = -1;
	p->pid = pid;
	p->start_ticks = 0;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	p->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		return errno_msg(err, errno, pid, "");
	rc = procfs_start_ticks(p, &p->start_ticks, err);
	if (rc) {
		close(p->dirfd);
		p->dirfd = -1;
	}
	return rc;
}

void procfs_close(struct procfs *p)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
}

int procfs_openat(const struct procfs *p, const char *name, struct rw_err *err)
{
	int fd = openat(p->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_msg(err, errno, p->pid, name);
	return fd;
}

int procfs_read(const struct procfs *p, const char *name, char **buf, size_t *len,
		struct rw_err *err)
{
	int fd = procfs_openat(p, name, err), rc;

	if (fd < 0)
		return fd;
	rc = read_fd_all(fd, buf, len, PROCFS_MAX_FILE, err);
	close(fd);
	if (rc)
		return errno_msg(err, -rc, p->pid, name);
	/* A zombie or exiting process gives empty maps/smaps; ESRCH says it honestly. */
	return 0;
}

int procfs_start_ticks(const struct procfs *p, unsigned long long *ticks, struct rw_err *err)
{
	char *buf, *q, *end;
	size_t len;
	int rc, field;

	rc = procfs_read(p, "stat", &buf, &len, err);
	if (rc)
		return rc;
	/* comm (field 2) may hold spaces and ')': fields resume after the last ')'. */
	q = strrchr(buf, ')');
	if (!q) {
		free(buf);
		return rw_err_set(err, EINVAL, "/proc/%d/stat: unexpected format", (int)p->pid);
	}
	q++;
	end = buf + len;
	for (field = 2; field < 22 && q < end; ) {
		while (q < end && *q == ' ')
			q++;
		if (++field == 22)
			break;
		while (q < end && *q != ' ')
			q++;
	}
	if (field != 22 || q >= end || *q < '0' || *q > '9') {
		free(buf);
		return rw_err_set(err, EINVAL, "/proc/%d/stat: no start time", (int)p->pid);
	}
	*ticks = strtoull(q, NULL, 10);
	free(buf);
	return 0;
}

int procfs_check_alive(const struct procfs *p, struct rw_err *err)
{
	unsigned long long t;
	int rc = procfs_start_ticks(p, &t, err);

	if (rc == -ESRCH || (!rc && t != p->start_ticks))
		return rw_err_set(err, ESRCH, "process %d exited", (int)p->pid);
	return rc;
}

int procfs_comm(const struct procfs *p, char **out, struct rw_err *err)
{
	size_t len;
	int rc = procfs_read(p, "comm", out, &len, err);

	if (rc)
		return rc;
	if (len && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return 0;
}

int procfs_cmdline(const struct procfs *p, char **out, struct rw_err *err)
{
	size_t len;
	int rc = procfs_read(p, "cmdline", out, &len, err);

	if (rc)
		return rc;
	while (len && (*out)[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if ((*out)[i] == '\0')
			(*out)[i] = ' ';
	(*out)[len] = '\0';
	return 0;
}
