/* sampler: one live process sampled repeatedly, with bounded, reused memory. */
#include "sampler.h"
#include "smaps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int sampler_open(struct sampler *sm, pid_t pid, struct rw_err *err)
{
	char *comm;
	int rc;

	memset(sm, 0, sizeof(*sm));
	sm->smaps_fd = -1;
	rc = procfs_open(pid, &sm->proc, err);
	if (rc)
		return rc;
	sm->smaps_fd = procfs_openat(&sm->proc, "smaps", err);
	if (sm->smaps_fd < 0) {
		rc = sm->smaps_fd;
		procfs_close(&sm->proc);
		return rc;
	}
	if (!procfs_comm(&sm->proc, &comm, NULL)) {
		snprintf(sm->comm, sizeof(sm->comm), "%s", comm);
		free(comm);
	}
	sm->buf_cap = 1 << 20;
	sm->buf = xmalloc(sm->buf_cap);
	sm->snap = snapshot_new();
	return 0;
}

void sampler_close(struct sampler *sm)
{
	if (sm->smaps_fd >= 0)
		close(sm->smaps_fd);
	procfs_close(&sm->proc);
	free(sm->buf);
	free(sm->tasks);
	snapshot_free(sm->snap);
	memset(sm, 0, sizeof(*sm));
	sm->smaps_fd = -1;
}

/* Name the regions that are thread stacks (design §4 kind "stack"). */
static void label_stacks(struct sampler *sm)
{
	struct snapshot *s = sm->snap;

	if (!sm->tasks || ++sm->tasks_age >= SAMPLER_TASKS_EVERY) {
		struct procfs_task *t = NULL;
		size_t n = 0;
		if (procfs_task_list(&sm->proc, &t, &n, NULL) == 0) {
			/* keep the SPs of threads that are running now from the previous list */
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; !t[i].sp && j < sm->ntasks; j++)
					if (sm->tasks[j].tid == t[i].tid)
						t[i].sp = sm->tasks[j].sp;
			free(sm->tasks);
			sm->tasks = t;
			sm->ntasks = n;
		}
		sm->tasks_age = 0;
	}
	for (size_t i = 0; i < sm->ntasks; i++)
		snapshot_label_stack(s, sm->tasks[i].tid, sm->tasks[i].sp, sm->tasks[i].comm);
}

int sampler_take(struct sampler *sm, struct rw_err *err)
{
	double c0 = cpu_ms();
	size_t len = 0;
	int rc;

	if (lseek(sm->smaps_fd, 0, SEEK_SET) < 0)
		goto gone;
	for (;;) {
		ssize_t n;
		if (sm->buf_cap - len < 64 * 1024) {
			sm->buf_cap *= 2;
			sm->buf = xrealloc(sm->buf, sm->buf_cap);
		}
		n = read(sm->smaps_fd, sm->buf + len, sm->buf_cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ESRCH)
				goto gone;
			return rw_err_set(err, errno, "reading /proc/%d/smaps: %s", (int)sm->proc.pid,
					  strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* An exited process (a zombie) has no mm: empty smaps. The start time guards pid reuse. */
	if (len == 0 || procfs_check_alive(&sm->proc, NULL))
		goto gone;
	snapshot_reset(sm->snap);
	rc = smaps_parse(sm->buf, len, sm->snap, err);
	if (rc)
		return rc;
	snapshot_classify(sm->snap);
	label_stacks(sm);
	sm->cost_ms = cpu_ms() - c0;
	return 0;
gone:
	return rw_err_set(err, ESRCH, "process %d exited", (int)sm->proc.pid);
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Find the cgroup directory (under /sys/fs/cgroup) with a memory.max other than "max",
 * walking up from the process's cgroup ("0::/path", cgroups(7)); "" when there is none. */
static void find_cgroup_limit(struct sampler *sm)
{
	char *cg = NULL, path[1024], val[64];
	size_t len;

	sm->cg_dir[0] = '\0';
	if (procfs_read(&sm->proc, "cgroup", &cg, &len, NULL))
		return;
	{
		char *line = strstr(cg, "0::");
		if (line && (line == cg || line[-1] == '\n')) {
			char *p = line + 3, *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			for (;;) {
				char *slash;
				snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", p);
				if (!read_small(path, val, sizeof(val)) && strncmp(val, "max", 3)) {
					snprintf(sm->cg_dir, sizeof(sm->cg_dir), "/sys/fs/cgroup%s", p);
					break;
				}
				slash = strrchr(p, '/');
				if (!slash || slash == p)
					break;
				*slash = '\0';
			}
		}
	}
	free(cg);
}

void sampler_mem_limit(struct sampler *sm, struct mem_limit *out)
{
	char path[1024], val[64], info[4096];

	memset(out, 0, sizeof(*out));
	if (!sm->cg_known || ++sm->cg_age >= SAMPLER_CGROUP_EVERY) {
		find_cgroup_limit(sm);
		sm->cg_known = 1;
		sm->cg_age = 0;
	}
	if (sm->cg_dir[0]) {
		uint64_t lim, cur;
		snprintf(path, sizeof(path), "%s/memory.max", sm->cg_dir);
		if (!read_small(path, val, sizeof(val)) && strncmp(val, "max", 3)) {
			lim = strtoull(val, NULL, 10);
			snprintf(path, sizeof(path), "%s/memory.current", sm->cg_dir);
			if (!read_small(path, val, sizeof(val))) {
				cur = strtoull(val, NULL, 10);
				out->kind = 1;
				out->limit = lim;
				out->headroom = lim > cur ? lim - cur : 0;
				return;
			}
		}
		sm->cg_known = 0;    /* the limit went away: look again next time */
	}
	if (!read_small("/proc/meminfo", info, sizeof(info))) {
		char *m = strstr(info, "MemAvailable:");
		if (m) {
			out->kind = 2;
			out->headroom = strtoull(m + 13, NULL, 10) * 1024;
		}
	}
}
