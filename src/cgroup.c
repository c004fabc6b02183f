/* cgroup: the pids of a cgroup v2 subtree, from cgroup.procs (cgroups(7)). */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int cgroup_open(struct cgroup *cg, const char *dir, struct rw_err *err)
{
	struct statfs sf;
	int fd, e;

	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	if (!*dir)
		return rw_err_set(err, EINVAL, "--cgroup needs a directory");
	snprintf(cg->path, sizeof(cg->path), "%s", dir);
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* relative, and not here: under the v2 mount (hybrid hosts have it at unified/) */
	for (int i = 0; fd < 0 && errno == ENOENT && dir[0] != '/' && i < 2; i++) {
		snprintf(cg->path, sizeof(cg->path), i ? "/sys/fs/cgroup/unified/%s" : "/sys/fs/cgroup/%s",
			 dir);
		fd = open(cg->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && (fstatfs(fd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)) {
			close(fd);
			fd = -1;
			errno = ENOENT;
		}
	}
	if (fd < 0) {
		e = errno;
		return rw_err_set(err, e, "cgroup %s: %s", dir, strerror(e));
	}
	if (fstatfs(fd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return rw_err_set(err, ENOTDIR, "%s is not a cgroup v2 directory (mounted at "
				  "/sys/fs/cgroup on systemd hosts; cgroup v1 is not supported)",
				  cg->path);
	}
	if (faccessat(fd, "cgroup.procs", R_OK, 0)) {
		e = errno;
		close(fd);
		return rw_err_set(err, e, "%s/cgroup.procs: %s", cg->path, strerror(e));
	}
	cg->fd = fd;
	return 0;
}

void cgroup_close(struct cgroup *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
}

struct pidbuf {
	pid_t *v;
	size_t n, max;
	int full;
};

static void read_procs(int dfd, struct pidbuf *pb)
{
	char buf[8192];
	size_t have = 0;
	int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *p, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = 0;
		p = buf;
		while ((nl = strchr(p, '\n'))) {
			*nl = 0;
			int pid;
			if (!parse_pid(p, &pid)) {
				if (pb->n < pb->max)
					pb->v[pb->n++] = pid;
				else
					pb->full = 1;
			}
			p = nl + 1;
		}
		have = (size_t)(buf + have - p);
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1)
			have = 0;   /* no pid is that long: junk */
	}
	close(fd);
}

static void walk(int dfd, int depth, struct pidbuf *pb)
{
	DIR *d;
	struct dirent *de;
	int fd;

	read_procs(dfd, pb);
	if (depth >= CGROUP_MAX_DEPTH)
		return;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0)
			continue;   /* gone meanwhile */
		walk(sub, depth + 1, pb);
		close(sub);
	}
	closedir(d);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

ssize_t cgroup_pids(const struct cgroup *cg, pid_t *out, size_t max, int *more,
		    struct rw_err *err)
{
	struct pidbuf pb = { out, 0, max, 0 };
	size_t k = 0;
	int fd = openat(cg->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || st.st_nlink == 0 ||
	    faccessat(fd, "cgroup.procs", F_OK, 0)) {
		int e = errno ? errno : ENOENT;
		if (fd >= 0)
			close(fd);
		return rw_err_set(err, e, "cgroup %s is gone: %s", cg->path, strerror(e));
	}
	walk(fd, 0, &pb);
	close(fd);
	*more = pb.full;
	qsort(out, pb.n, sizeof(*out), cmp_pid);
	for (size_t i = 0; i < pb.n; i++)
		if (!k || out[k - 1] != out[i])
			out[k++] = out[i];
	return (ssize_t)k;
}
