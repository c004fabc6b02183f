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
	struct procfs_stat st;
	char *buf;
	size_t len;
	int rc;

	rc = procfs_read(p, "stat", &buf, &len, err);
	if (rc)
		return rc;
	rc = procfs_parse_stat(buf, buf + len, &st);
	free(buf);
	if (rc)
		return rw_err_set(err, EINVAL, "/proc/%d/stat: unexpected format", (int)p->pid);
	if (!st.has_start)
		return rw_err_set(err, EINVAL, "/proc/%d/stat: no start time", (int)p->pid);
	*ticks = st.start_ticks;
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
	/* Field 3 was the state; walk on to 22 (starttime) and 29 (kstkesp). */
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
