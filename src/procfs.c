/* procfs: every read of /proc/PID goes through one directory fd (proc(5)), so a pid that
 * is reused after we opened it cannot redirect a later read to another process: reads
 * through the old dir fd fail with ESRCH once the process is gone. */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A proc file larger than this is not one we want (smaps of 60,000 mappings ≈ 60 MiB). */
#define PROCFS_MAX_FILE ((size_t)1 << 30)

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
	"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
	"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
	"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
	"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};

/* "Key:\tV1\tV2..." of a status text: the first value, or the base-16 mask. */
static int status_field(const char *text, const char *key, int hex, unsigned long long *out)
{
	const char *p = text;
	size_t klen = strlen(key);
	char *e;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen))
			continue;
		*out = strtoull(p + klen, &e, hex ? 16 : 10);
		return e == p + klen ? -1 : 0;
	}
	return -1;
}

/* Why the kernel refused a read of /proc/PID/NAME. /proc/PID/status stays world-readable,
 * so its owner and capabilities are compared with ours along the kernel's ptrace access
 * check (ptrace(2), "Ptrace access mode checking"): the same uid (or CAP_SYS_PTRACE), a
 * dumpable process (or CAP_SYS_PTRACE), every capability it holds (or CAP_SYS_PTRACE), and
 * then security modules, which can refuse even root. */
static void denial_reason(int dirfd, pid_t pid, char *out, size_t outlen)
{
	char buf[4096], self[4096];
	unsigned long long uid, cap, mycap = 0;
	int fd = dirfd >= 0 ? openat(dirfd, "status", O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1, m;
	int ptrace_cap;
	struct stat st;
	size_t o;

	if (fd >= 0)
		close(fd);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	m = fd >= 0 ? read(fd, self, sizeof(self) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (m > 0)
		self[m] = '\0';
	ptrace_cap = m > 0 && !status_field(self, "CapEff:", 1, &mycap) && (mycap >> 19 & 1);
	if (n <= 0) {
		snprintf(out, outlen, "the kernel's ptrace access check refused it");
		return;
	}
	buf[n] = '\0';
	if (!ptrace_cap && !status_field(buf, "Uid:", 0, &uid) &&
	    uid != (unsigned long long)geteuid()) {
		snprintf(out, outlen, "it belongs to uid %llu; run as its owner or root", uid);
		return;
	}
	/* A process that is not dumpable (set-uid, or prctl PR_SET_DUMPABLE 0) has its /proc
	 * files owned by root (proc(5)). */
	if (!ptrace_cap && !status_field(buf, "Uid:", 0, &uid) && uid != 0 &&
	    !fstat(dirfd, &st) && st.st_uid == 0) {
		snprintf(out, outlen, "it is not dumpable (set-uid, or PR_SET_DUMPABLE 0): only "
			 "root can read it");
		return;
	}
	if (!ptrace_cap && !status_field(buf, "CapPrm:", 1, &cap) && (cap & ~mycap)) {
		o = (size_t)snprintf(out, outlen, "it holds capabilities this process lacks (");
		for (unsigned b = 0, first = 1; b < 64 && o < outlen; b++)
			if ((cap & ~mycap) >> b & 1) {
				o += (size_t)snprintf(out + o, outlen - o, "%scap_%s", first ? "" : ", ",
						      b < sizeof(cap_names) / sizeof(cap_names[0])
							      ? cap_names[b] : "?");
				first = 0;
			}
		if (o < outlen)
			snprintf(out + o, outlen - o, "); run with CAP_SYS_PTRACE");
		return;
	}
	snprintf(out, outlen, "not a file permission: this process may ptrace it (%s), so a "
		 "security module or the sandbox it runs in refuses the read%s",
		 ptrace_cap ? "CAP_SYS_PTRACE" : "same user, same capabilities",
		 pid == 1 ? "; pid 1 is this machine's or container's init" : "");
}

static int errno_msg(struct rw_err *err, int e, pid_t pid, const char *name, int dirfd)
{
	char why[256];

	switch (e) {
	case ENOENT:
	case ESRCH:
		return rw_err_set(err, ESRCH, "no process with pid %d", (int)pid);
	case EACCES:
	case EPERM:
		denial_reason(dirfd, pid, why, sizeof(why));
		return rw_err_set(err, e, "cannot read /proc/%d/%s: permission denied (%s)",
				  (int)pid, name, why);
	default:
		return rw_err_set(err, e, "cannot read /proc/%d/%s: %s", (int)pid, name, strerror(e));
	}
}

static int procfs_stat_read(const struct procfs *p, struct procfs_stat *st, struct rw_err *err);

int procfs_open(pid_t pid, struct procfs *p, struct rw_err *err)
{
	struct procfs_stat st;
	char path[64];
	int rc;

	p->dirfd = -1;
	p->pid = pid;
	p->start_ticks = 0;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	p->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		return errno_msg(err, errno, pid, "", -1);
	rc = procfs_stat_read(p, &st, err);
	if (!rc && !st.has_start)
		rc = rw_err_set(err, EINVAL, "/proc/%d/stat: no start time", (int)pid);
	if (!rc && (st.flags & PROCFS_PF_KTHREAD)) {
		char comm[256];
		rc = rw_err_set(err, EOPNOTSUPP, "process %d (%s) is a kernel thread: it has no user "
				"memory or user stack to read", (int)pid,
				escape_ctl(st.comm, comm, sizeof(comm)));
	}
	if (rc) {
		close(p->dirfd);
		p->dirfd = -1;
		return rc;
	}
	p->start_ticks = st.start_ticks;
	return 0;
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
		return errno_msg(err, errno, p->pid, name, p->dirfd);
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
		return errno_msg(err, -rc, p->pid, name, p->dirfd);
	/* A zombie or exiting process gives empty maps/smaps; ESRCH says it honestly. */
	return 0;
}

static int procfs_stat_read(const struct procfs *p, struct procfs_stat *st, struct rw_err *err)
{
	char *buf;
	size_t len;
	int rc;

	rc = procfs_read(p, "stat", &buf, &len, err);
	if (rc)
		return rc;
	rc = procfs_parse_stat(buf, buf + len, st);
	free(buf);
	if (rc)
		return rw_err_set(err, EINVAL, "/proc/%d/stat: unexpected format", (int)p->pid);
	return 0;
}

int procfs_start_ticks(const struct procfs *p, unsigned long long *ticks, struct rw_err *err)
{
	struct procfs_stat st;
	int rc = procfs_stat_read(p, &st, err);

	if (rc)
		return rc;
	if (!st.has_start)
		return rw_err_set(err, EINVAL, "/proc/%d/stat: no start time", (int)p->pid);
	*ticks = st.start_ticks;
	return 0;
}

int procfs_check_alive(const struct procfs *p, struct rw_err *err)
{
	unsigned long long t = 0;
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

/* ---- Parsers ---- */

/* Skip blanks, then return the end of the token at *p (both within [*p, end)). */
static const char *token(const char **p, const char *end)
{
	const char *q;

	while (*p < end && (**p == ' ' || **p == '\n' || **p == '\t'))
		(*p)++;
	q = *p;
	while (q < end && *q != ' ' && *q != '\n' && *q != '\t')
		q++;
	return q;
}

/* Unsigned number in [p, end): decimal, or hex after 0x. 0 or -EINVAL (also on overflow). */
static int parse_u64(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int base = 10, digits = 0;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; p < end; p++, digits++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / (unsigned)base)
			return -EINVAL;
		v = v * (unsigned)base + d;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

int procfs_parse_stat(const char *text, const char *end, struct procfs_stat *st)
{
	const char *open = memchr(text, '(', (size_t)(end - text)), *close = NULL, *p, *q;
	size_t n;
	int field;

	memset(st, 0, sizeof(*st));
	st->state = '?';
	/* comm may hold ')' and spaces: it ends at the last ')' (proc(5)). */
	for (p = end; p > text; p--)
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	p = close + 1;
	q = token(&p, end);
	if (q - p != 1)
		return -EINVAL;
	st->state = *p;
	/* Field 3 was the state; walk on to 9 (flags), 22 (starttime) and 29 (kstkesp). */
	for (field = 4; field <= 29; field++) {
		uint64_t v;

		p = q;
		q = token(&p, end);
		if (p == q)
			return 0;          /* an older or shorter format: not an error */
		if (field == 22 && !parse_u64(p, q, &v)) {
			st->start_ticks = v;
			st->has_start = 1;
		} else if (field == 29 && !parse_u64(p, q, &v)) {
			st->kstkesp = v;
		} else if (field == 9 && !parse_u64(p, q, &v)) {
			st->flags = (unsigned long)v;
		}
	}
	return 0;
}

/* The value of "Key:" at line start in [p, end): its first non-blank byte, and the line's
 * end in *eol. NULL when the line holds another key. */
static const char *status_value(const char *p, const char *eol, const char *key)
{
	size_t klen = strlen(key);

	if ((size_t)(eol - p) < klen || memcmp(p, key, klen))
		return NULL;
	p += klen;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int procfs_parse_status(const char *text, const char *end, struct procfs_status *st)
{
	int have_state = 0, have_tracer = 0;

	st->state = '?';
	st->tracer_pid = 0;
	for (const char *p = text, *eol; p < end; p = eol + (eol < end)) {
		const char *v;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((v = status_value(p, eol, "State:"))) {
			/* "S (sleeping)": the letter, then its name in parentheses. */
			if (v < eol && (v + 1 == eol || v[1] == ' ' || v[1] == '\t')) {
				st->state = *v;
				have_state = 1;
			}
		} else if ((v = status_value(p, eol, "TracerPid:"))) {
			const char *ve = v;
			uint64_t pid;

			while (ve < eol && *ve != ' ' && *ve != '\t')
				ve++;
			if (!parse_u64(v, ve, &pid) && pid <= INT_MAX) {
				st->tracer_pid = (pid_t)pid;
				have_tracer = 1;
			}
		}
	}
	return have_state && have_tracer ? 0 : -EINVAL;
}

int procfs_parse_syscall(const char *text, const char *end, uint64_t *sp)
{
	const char *p = text, *q, *prev_start = NULL, *prev_end = NULL, *last_start = NULL,
		   *last_end = NULL;
	int ntok = 0;

	for (;;) {
		q = token(&p, end);
		if (p == q)
			break;
		if (!ntok && q - p == 7 && !memcmp(p, "running", 7))
			return -EAGAIN;
		prev_start = last_start;
		prev_end = last_end;
		last_start = p;
		last_end = q;
		ntok++;
		p = q;
	}
	/* "NR A1 A2 A3 A4 A5 A6 SP PC" (9 tokens) or "-1 SP PC" (3): SP is next to last. */
	if (ntok != 9 && ntok != 3)
		return -EINVAL;
	return parse_u64(prev_start, prev_end, sp);
}

/* ---- Tasks ---- */

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int procfs_tids(const struct procfs *p, pid_t **tids, size_t *count, struct rw_err *err)
{
	int fd = openat(p->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*tids = NULL;
	*count = 0;
	if (fd < 0)
		return rw_err_set(err, ESRCH, "process %d exited", (int)p->pid);
	d = fdopendir(fd);
	if (!d) {
		int e2 = errno;
		close(fd);
		return rw_err_set(err, e2, "reading /proc/%d/task: %s", (int)p->pid, strerror(e2));
	}
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = tid;
	}
	closedir(d);
	if (!n)
		return rw_err_set(err, ESRCH, "process %d exited", (int)p->pid);
	qsort(v, n, sizeof(*v), tid_cmp);
	*tids = v;
	*count = n;
	return 0;
}

int procfs_task_stat(const struct procfs *p, pid_t tid, struct procfs_stat *st,
		     struct rw_err *err)
{
	char name[64], *buf;
	size_t len;
	int rc;

	snprintf(name, sizeof(name), "task/%d/stat", (int)tid);
	rc = procfs_read(p, name, &buf, &len, err);
	if (rc) {
		memset(st, 0, sizeof(*st));
		st->state = '?';
		return rc;
	}
	rc = procfs_parse_stat(buf, buf + len, st);
	free(buf);
	if (rc)
		return rw_err_set(err, EINVAL, "/proc/%d/%s: unexpected format", (int)p->pid, name);
	return 0;
}

int procfs_task_syscall_sp(const struct procfs *p, pid_t tid, uint64_t *sp, struct rw_err *err)
{
	char name[64], *buf;
	size_t len;
	int rc;

	snprintf(name, sizeof(name), "task/%d/syscall", (int)tid);
	rc = procfs_read(p, name, &buf, &len, err);
	if (rc)
		return rc;
	rc = procfs_parse_syscall(buf, buf + len, sp);
	free(buf);
	if (rc == -EINVAL)
		return rw_err_set(err, EINVAL, "/proc/%d/%s: unexpected format", (int)p->pid, name);
	return rc;
}

int procfs_status(const struct procfs *p, struct procfs_status *st, struct rw_err *err)
{
	char *buf;
	size_t len;
	int rc;

	st->state = '?';
	st->tracer_pid = 0;
	rc = procfs_read(p, "status", &buf, &len, err);
	if (rc)
		return rc;
	rc = procfs_parse_status(buf, buf + len, st);
	free(buf);
	if (rc)
		return rw_err_set(err, EINVAL, "/proc/%d/status: no State or TracerPid", (int)p->pid);
	return 0;
}

/* One thread: 0, or -ESRCH when it exited meanwhile. */
static int read_task(const struct procfs *p, pid_t tid, struct procfs_task *t)
{
	struct procfs_stat st;
	uint64_t sp;
	int rc;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = '?';
	rc = procfs_task_stat(p, tid, &st, NULL);
	if (rc && rc != -EINVAL)
		return -ESRCH;
	if (rc) {
		snprintf(t->comm, sizeof(t->comm), "?");
	} else {
		memcpy(t->comm, st.comm, sizeof(t->comm));
		t->state = st.state;
		if (st.kstkesp) {
			t->sp = st.kstkesp;
			t->sp_source = PROCFS_SP_KSTKESP;
			return 0;
		}
	}
	/* kstkesp is 0 on current kernels unless the thread is dumping core, so ask the
	 * syscall file: it needs the same ptrace-read permission but stops nothing. A running
	 * thread, or a file we may not read, leaves the SP unknown. */
	if (!procfs_task_syscall_sp(p, tid, &sp, NULL) && sp) {
		t->sp = sp;
		t->sp_source = PROCFS_SP_SYSCALL;
	}
	return 0;
}

int procfs_task_list(const struct procfs *p, struct procfs_task **tasks, size_t *count,
		     struct rw_err *err)
{
	struct procfs_task *v;
	pid_t *tids;
	size_t ntids, n = 0;
	int rc;

	*tasks = NULL;
	*count = 0;
	rc = procfs_tids(p, &tids, &ntids, err);
	if (rc)
		return rc;
	v = xreallocarray(NULL, ntids, sizeof(*v));
	for (size_t i = 0; i < ntids; i++)
		if (read_task(p, tids[i], &v[n]) == 0)
			n++;
	free(tids);
	if (!n) {
		free(v);
		return rw_err_set(err, ESRCH, "process %d exited", (int)p->pid);
	}
	*tasks = v;
	*count = n;
	return 0;
}

const char *procfs_sp_source_name(enum procfs_sp_source s)
{
	switch (s) {
	case PROCFS_SP_KSTKESP:
		return "kstkesp";
	case PROCFS_SP_SYSCALL:
		return "syscall";
	case PROCFS_SP_NONE:
		break;
	}
	return "none";
}
