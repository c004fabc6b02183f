/* sampler: one live process sampled repeatedly, with bounded, reused memory. */
#include "sampler.h"
#include "memread.h"
#include "smaps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int sampler_open(struct sampler *sm, pid_t pid, struct rw_err *err)
{
	char *comm;
	int rc;

	memset(sm, 0, sizeof(*sm));
	sm->smaps_fd = sm->maps_fd = sm->pagemap_fd = -1;
	rc = procfs_open(pid, &sm->proc, err);
	if (rc)
		return rc;
	sm->smaps_fd = procfs_openat(&sm->proc, "smaps", err);
	if (sm->smaps_fd < 0) {
		rc = sm->smaps_fd;
		procfs_close(&sm->proc);
		return rc;
	}
	/* Cheap samples need both; without them every sample is a full one. */
	sm->maps_fd = procfs_openat(&sm->proc, "maps", NULL);
	sm->pagemap_fd = procfs_openat(&sm->proc, "pagemap", NULL);
	if (!procfs_comm(&sm->proc, &comm, NULL)) {
		snprintf(sm->comm, sizeof(sm->comm), "%s", comm);
		free(comm);
	}
	sm->buf_cap = SAMPLER_READ_PIECE;
	sm->buf = xmalloc(sm->buf_cap);
	sm->snap_full = snapshot_new();
	sm->snap_cheap = snapshot_new();
	sm->snap = sm->snap_full;
	sm->cheap_ok = -1;
	sm->full_every = SAMPLER_FULL_EVERY;
	sm->full_seconds = SAMPLER_FULL_SECONDS;
	return 0;
}

void sampler_close(struct sampler *sm)
{
	if (sm->smaps_fd >= 0)
		close(sm->smaps_fd);
	if (sm->maps_fd >= 0)
		close(sm->maps_fd);
	if (sm->pagemap_fd >= 0)
		close(sm->pagemap_fd);
	procfs_close(&sm->proc);
	free(sm->buf);
	free(sm->tasks);
	snapshot_free(sm->snap_full);
	snapshot_free(sm->snap_cheap);
	memset(sm, 0, sizeof(*sm));
	sm->smaps_fd = sm->maps_fd = sm->pagemap_fd = -1;
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

/* Re-read one /proc file from offset 0 in pieces, each fed to the parser as it comes.
 * Returns 0 (or -ESRCH when the process is gone: an exited process, a zombie, has no mm
 * and empty maps), or -errno. */
static int read_parse(struct sampler *sm, int fd, const char *name, struct snapshot *s,
		      struct rw_err *err)
{
	struct smaps_parser ps;
	size_t len = 0;
	int rc = 0;

	snapshot_reset(s);
	smaps_parser_init(&ps, s);
	if (lseek(fd, 0, SEEK_SET) < 0)
		rc = -ESRCH;
	while (!rc) {
		ssize_t n = read(fd, sm->buf, sm->buf_cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = errno == ESRCH ? -ESRCH :
			     rw_err_set(err, errno, "reading /proc/%d/%s: %s", (int)sm->proc.pid, name,
					strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		rc = smaps_parser_feed(&ps, sm->buf, (size_t)n, err);
	}
	if (rc) {
		smaps_parser_finish(&ps, NULL);
		return rc;
	}
	/* The start time guards pid reuse. */
	if (len == 0 || procfs_check_alive(&sm->proc, NULL)) {
		smaps_parser_finish(&ps, NULL);
		return -ESRCH;
	}
	return smaps_parser_finish(&ps, err);
}

/* The VmFlags of each region of the cheap sample from the last full sample, where it had the
 * same mapping (both sorted: one merge walk). Paths are not compared: thread stacks have
 * been renamed there. A mapping it did not have is marked REGION_VMFLAGS_UNKNOWN. */
static void carry_vmflags(struct snapshot *cheap, const struct snapshot *full)
{
	size_t j = 0;

	for (size_t i = 0; i < cheap->count; i++) {
		struct region *r = &cheap->regions[i];
		const struct region *f;
		while (j < full->count && full->regions[j].start < r->start)
			j++;
		f = j < full->count ? &full->regions[j] : NULL;
		if (f && f->start == r->start && f->end == r->end && f->offset == r->offset &&
		    f->inode == r->inode && f->dev_major == r->dev_major &&
		    f->dev_minor == r->dev_minor && !memcmp(f->perms, r->perms, 4)) {
			r->vmflags = f->vmflags;    /* in full's pool, alive while cheap is in use */
			r->vmflags_mask = f->vmflags_mask;
			r->thp_eligible = f->thp_eligible;
		} else {
			r->vmflags_mask = REGION_VMFLAGS_UNKNOWN;
		}
	}
}

static int take_full(struct sampler *sm, struct rw_err *err)
{
	int rc;

	sm->full_valid = 0;
	sm->snap = sm->snap_full;     /* the cheap one borrows strings from it: not that one */
	rc = read_parse(sm, sm->smaps_fd, "smaps", sm->snap_full, err);
	if (rc)
		return rc;
	sm->full_valid = 1;
	sm->since_full = 0;
	sm->full_time = now_mono();
	sm->last_full = 1;
	sm->nfull++;
	sm->snap = sm->snap_full;
	return 0;
}

/* Returns 0, -ESRCH, or another -errno (then the caller takes a full sample instead). */
static int take_cheap(struct sampler *sm, struct rw_err *err)
{
	struct rw_err scan_err;
	int rc;

	rc = read_parse(sm, sm->maps_fd, "maps", sm->snap_cheap, err);
	if (rc)
		return rc;
	carry_vmflags(sm->snap_cheap, sm->snap_full);
	rc = memread_resident_counts(sm->pagemap_fd, sm->snap_cheap, &scan_err);
	if (rc)
		return rc == -ESRCH ? -ESRCH : rw_err_set(err, -rc, "%s", scan_err.msg);
	sm->since_full++;
	sm->last_full = 0;
	sm->ncheap++;
	sm->snap = sm->snap_cheap;
	return 0;
}

int sampler_take(struct sampler *sm, struct rw_err *err)
{
	double c0 = cpu_self_ms();
	int rc = 1;

	if (sm->full_valid && !sm->force_full && sm->cheap_ok != 0 && sm->maps_fd >= 0 &&
	    sm->pagemap_fd >= 0 &&
	    (sm->since_full + 1 < sm->full_every || now_mono() - sm->full_time < sm->full_seconds)) {
		rc = take_cheap(sm, err);
		if (rc == -ESRCH)
			goto gone;
		if (rc) {
			/* ENOTTY/EINVAL: no PAGEMAP_SCAN (Linux < 6.7); EPERM: refused. From now
			 * on every sample reads smaps. */
			sm->cheap_ok = 0;
		} else {
			sm->cheap_ok = 1;
		}
	}
	if (rc) {
		sm->force_full = 0;
		rc = take_full(sm, err);
		if (rc == -ESRCH)
			goto gone;
		if (rc)
			return rc;
	}
	snapshot_classify(sm->snap);
	label_stacks(sm);
	sm->cost_ms = cpu_self_ms() - c0;
	return 0;
gone:
	return rw_err_set(err, ESRCH, "process %d exited", (int)sm->proc.pid);
}

const struct snapshot *sampler_full_snapshot(struct sampler *sm, struct rw_err *err)
{
	int rc;

	if (sm->last_full && sm->full_valid)
		return sm->snap;
	rc = take_full(sm, err);
	if (rc == -ESRCH)
		rw_err_set(err, ESRCH, "process %d exited", (int)sm->proc.pid);
	if (rc)
		return NULL;
	snapshot_classify(sm->snap);
	label_stacks(sm);
	return sm->snap;
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
