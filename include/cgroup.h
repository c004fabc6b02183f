/* cgroup: the processes of a cgroup v2 directory and its descendants (a systemd
 * service, a Kubernetes pod), for `watch --cgroup DIR`. Reads cgroup.procs only. */
#ifndef RW_CGROUP_H
#define RW_CGROUP_H

#include <stddef.h>
#include <sys/types.h>
#include "util.h"

#define CGROUP_MAX_DEPTH 32

struct cgroup {
	int fd;                /* O_PATH|O_DIRECTORY of the directory */
	char path[4096];       /* as resolved: absolute, or as given */
};

/* Open DIR: a path to a cgroup v2 directory, or one relative to /sys/fs/cgroup when DIR
 * itself does not exist ("system.slice/nginx.service"). 0, or -errno with err set. */
int cgroup_open(struct cgroup *cg, const char *dir, struct rw_err *err);
void cgroup_close(struct cgroup *cg);

/* The pids of the cgroup and every cgroup below it (at most max, sorted, each once;
 * *more set when there were more than max). Returns how many (0 for an empty cgroup), or
 * -errno with err set (the directory went away: -ENOENT). Sub-cgroups that vanish while
 * they are read are skipped. */
ssize_t cgroup_pids(const struct cgroup *cg, pid_t *out, size_t max, int *more,
		    struct rw_err *err);

#endif
