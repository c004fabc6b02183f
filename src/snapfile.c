/* snapfile: snapshot files in and out. A snapshot file is our '#' header followed by the
 * kernel's smaps text verbatim (design §5), so `cat /proc/PID/smaps` is one too. */
#include "snapfile.h"
#include "smaps.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define COPY_BUF (1u << 20)      /* bytes per read of smaps */

#define STREAM_READ (256u << 10)

static size_t input_limit(void)
{
	const char *v = getenv("REGIONWATCH_INPUT_LIMIT");
	uint64_t n;

	if (v && *v && !parse_size(v, &n) && n > 0 && n < SNAPFILE_MAX_BYTES)
		return (size_t)n;
	return SNAPFILE_MAX_BYTES;
}

/* A regular file that starts as our format-2 snapshot must end with its '# end' line: read
 * its last bytes now, so a file cut short is refused before any row is written. */
static int tail_ok(int fd, off_t size)
{
	char head[64], tail[512];
	const char *p, *end;
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	uint64_t version = 0;

	if (n <= 0)
		return 1;
	head[n] = '\0';
	p = head + strlen(SMAPS_HEADER_MAGIC);
	if (strncmp(head, SMAPS_HEADER_MAGIC " ", strlen(SMAPS_HEADER_MAGIC) + 1))
		return 1;
	version = strtoull(p + 1, NULL, 10);
	if (version < 2)
		return 1;
	n = pread(fd, tail, sizeof(tail), size > (off_t)sizeof(tail) ? size - (off_t)sizeof(tail) : 0);
	if (n <= 0)
		return 0;
	end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (p = end; p > tail && p[-1] != '\n'; p--)
		;
	return end - p > 6 && !memcmp(p, "# end ", 6);
}

/* The parser hands out a region: keep a copy, with its strings, until diff takes it. */
static void stream_take(void *ctx, const struct region *r)
{
	struct snapfile_stream *st = ctx;
	struct region *d = snapshot_add(st->queue);

	*d = *r;
	d->path = snapshot_strdup(st->queue, r->path, strlen(r->path));
	d->vmflags = snapshot_strdup(st->queue, r->vmflags, strlen(r->vmflags));
}

static int stream_fail(struct snapfile_stream *st, struct rw_err *err, int code, const char *msg)
{
	st->rc = rw_err_set(&st->err, code, "%s: %s", st->path, msg);
	if (err)
		*err = st->err;
	return st->rc;
}

/* read() a piece into buf + *have (at most room bytes); 0 at the end, else bytes, or -errno. */
static ssize_t stream_read(struct snapfile_stream *st, char *into, size_t room)
{
	for (;;) {
		ssize_t n = read(st->fd, into, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		st->bytes += (size_t)n;
		return n;
	}
}

static int over_limit(struct snapfile_stream *st, struct rw_err *err)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "more than %zu bytes of input: refused (the limit; "
		 "REGIONWATCH_INPUT_LIMIT sets a lower one)", st->limit);
	return stream_fail(st, err, EFBIG, msg);
}

int snapfile_stream_open(struct snapfile_stream *st, const char *path, struct rw_err *err)
{
	struct stat st_buf;
	size_t have = 0, cap = STREAM_READ;
	int kind;

	memset(st, 0, sizeof(*st));
	st->path = path;
	st->limit = input_limit();
	st->tail_ok = 1;
	st->fd = !strcmp(path, "-") ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (st->fd < 0)
		return stream_fail(st, err, errno, strerror(errno));
	if (fstat(st->fd, &st_buf) < 0)
		return stream_fail(st, err, errno, strerror(errno));
	if (S_ISDIR(st_buf.st_mode))
		return stream_fail(st, err, EISDIR, "is a directory");
	st->regular = S_ISREG(st_buf.st_mode);
	if (st->regular && (uint64_t)st_buf.st_size > st->limit)
		return over_limit(st, err);
	if (st->regular && st->fd != STDIN_FILENO)     /* '-' cannot be read twice */
		st->tail_ok = tail_ok(st->fd, st_buf.st_size);
	st->s = snapshot_new();
	st->queue = snapshot_new();
	st->buf = xmalloc(cap + 1);
	/* Read until the first line that is not our header says which format this is. */
	for (;;) {
		ssize_t n;
		if (have == cap) {
			if (cap >= st->limit)
				return over_limit(st, err);
			cap = cap * 2 > st->limit ? st->limit : cap * 2;
			st->buf = xrealloc(st->buf, cap + 1);
		}
		n = stream_read(st, st->buf + have, cap - have);
		if (n < 0)
			return stream_fail(st, err, (int)-n, strerror((int)-n));
		have += (size_t)n;
		if (memchr(st->buf + have - n, '\0', (size_t)n)) {
			kind = 1;       /* the parser refuses it, naming the line */
			break;
		}
		if (st->bytes > st->limit)
			return over_limit(st, err);
		kind = smaps_sniff(st->buf, have, n == 0);
		/* Past 1 MiB of header or blank lines, it is not pmap text (a title and a column
		 * header come first): stream it, and the parser names the first line it refuses. */
		if (kind < 0 && have >= 4 * STREAM_READ)
			kind = 1;
		if (kind >= 0)
			break;
	}
	if (kind == 0) {
		/* pmap text: its parser takes the whole text. */
		char *rest = NULL;
		size_t rest_len = 0;
		struct rw_err perr;
		int rc = read_fd_all(st->fd, &rest, &rest_len, st->limit - have, &perr);
		if (rc)
			return stream_fail(st, err, perr.code, perr.msg);
		st->buf = xrealloc(st->buf, have + rest_len + 1);
		memcpy(st->buf + have, rest, rest_len);
		free(rest);
		have += rest_len;
		st->whole = snapshot_new();
		if (smaps_parse(st->buf, have, st->whole, &perr))
			return stream_fail(st, err, EINVAL, perr.msg);
		free(st->buf);
		st->buf = NULL;
		if (!st->whole->count)
			return stream_fail(st, err, EINVAL, "no mappings in file (empty, or only a header)");
		snapshot_classify(st->whole);
		st->done = 1;
		return 0;
	}
	smaps_parser_init(&st->ps, st->s);
	smaps_parser_stream(&st->ps, stream_take, st);
	if (have && smaps_parser_feed(&st->ps, st->buf, have, &st->err)) {
		struct rw_err perr = st->err;
		return stream_fail(st, err, EINVAL, perr.msg);
	}
	if (cap > STREAM_READ)
		st->buf = xrealloc(st->buf, STREAM_READ);
	return 0;
}

int snapfile_stream_peek(struct snapfile_stream *st, const struct region **r, struct rw_err *err)
{
	struct rw_err perr;

	*r = NULL;
	if (st->rc) {
		if (err)
			*err = st->err;
		return st->rc;
	}
	if (st->whole) {
		if (st->next < st->whole->count)
			*r = &st->whole->regions[st->next];
		return 0;
	}
	while (st->next == st->queue->count) {
		ssize_t n;
		if (st->done)
			return 0;
		snapshot_reset(st->queue);
		st->next = 0;
		n = stream_read(st, st->buf, STREAM_READ);
		if (n < 0)
			return stream_fail(st, err, (int)-n, strerror((int)-n));
		if (st->bytes > st->limit)
			return over_limit(st, err);
		if (n == 0) {
			st->done = 1;
			if (smaps_parser_finish(&st->ps, &perr))
				return stream_fail(st, err, EINVAL, perr.msg);
			if (!st->ps.emitted)
				return stream_fail(st, err, EINVAL,
						   "no mappings in file (empty, or only a header)");
		} else if (smaps_parser_feed(&st->ps, st->buf, (size_t)n, &perr)) {
			return stream_fail(st, err, EINVAL, perr.msg);
		}
	}
	*r = &st->queue->regions[st->next];
	return 0;
}

void snapfile_stream_pop(struct snapfile_stream *st)
{
	st->next++;
}

const struct snapshot *snapfile_stream_snapshot(const struct snapfile_stream *st)
{
	return st->whole ? st->whole : st->s;
}

size_t snapfile_stream_regions(const struct snapfile_stream *st)
{
	return st->whole ? st->whole->count : st->ps.emitted;
}

void snapfile_stream_close(struct snapfile_stream *st)
{
	if (!st->done && !st->whole && st->s)
		smaps_parser_finish(&st->ps, NULL);   /* frees the parser's memory */
	if (st->fd >= 0 && st->fd != STDIN_FILENO)
		close(st->fd);
	st->fd = -1;
	snapshot_free(st->s);
	snapshot_free(st->whole);
	snapshot_free(st->queue);
	free(st->buf);
	st->s = st->whole = st->queue = NULL;
	st->buf = NULL;
}

static void fill_meta(const struct procfs *p, struct snapshot *s, char **comm, char **cmdline,
		      char *kernel, size_t kernel_len)
{
	struct utsname u;

	s->meta.version = SMAPS_FORMAT_VERSION;
	s->meta.pid = p->pid;
	s->meta.time = now_wall();
	s->meta.start_ticks = p->start_ticks;
	if (procfs_comm(p, comm, NULL))
		*comm = xstrdup("");
	if (procfs_cmdline(p, cmdline, NULL))
		*cmdline = xstrdup("");
	kernel[0] = '\0';
	if (uname(&u) == 0)
		snprintf(kernel, kernel_len, "%s", u.release);
	s->meta.comm = *comm;
	s->meta.cmdline = *cmdline;
	s->meta.kernel = kernel;
}

/* smaps is parsed as it is read, 1 MiB at a time (the whole text is 41 MiB at 60,000
 * mappings): the memory is the snapshot's, not the text's. */
int snapfile_capture(const struct procfs *p, struct snapshot **out, struct rw_err *err)
{
	char *buf, *comm = NULL, *cmdline = NULL, kernel[128];
	size_t len = 0;
	struct snapshot *s;
	struct smaps_parser ps;
	int fd, rc = 0;

	fd = procfs_openat(p, "smaps", err);
	if (fd < 0)
		return fd;
	buf = xmalloc(COPY_BUF);
	s = snapshot_new();
	smaps_parser_init(&ps, s);
	while (!rc) {
		ssize_t n = read(fd, buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno == ESRCH ? rw_err_set(err, ESRCH, "process %d exited", (int)p->pid)
					    : rw_err_set(err, errno, "reading /proc/%d/smaps: %s",
							 (int)p->pid, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		rc = smaps_parser_feed(&ps, buf, (size_t)n, err);
	}
	close(fd);
	free(buf);
	if (!rc && !len)
		rc = rw_err_set(err, ESRCH, "process %d has no mappings (exited or a zombie)",
				(int)p->pid);
	if (rc) {
		smaps_parser_finish(&ps, NULL);
		snapshot_free(s);
		return rc;
	}
	rc = smaps_parser_finish(&ps, err);
	if (rc) {
		snapshot_free(s);
		return rc;
	}
	fill_meta(p, s, &comm, &cmdline, kernel, sizeof(kernel));
	s->meta.comm = snapshot_strdup(s, comm, strlen(comm));
	s->meta.cmdline = snapshot_strdup(s, cmdline, strlen(cmdline));
	s->meta.kernel = snapshot_strdup(s, kernel, strlen(kernel));
	free(comm);
	free(cmdline);
	snapshot_classify(s);
	*out = s;
	return 0;
}

/* The temporary file being written; registered with util's cleanup so a fatal signal
 * removes it: no partial file is left under a final name or a stray temp name. */
static char tmp_path[PATH_MAX];


/* Write n bytes of smaps text, escaped for a terminal when *carry is not NULL: the names
 * in it are the target's bytes (escape_term). A UTF-8 sequence cut by the end of a piece is
 * kept in carry[] (at most 3 bytes) and written with the next; final flushes it. */
static int write_text(int fd, const char *buf, size_t n, char *carry, size_t *ncarry, int final)
{
	char in[4096 + 4], out[6 * 4096 + 8];

	if (!carry)
		return write_all(fd, buf, n);
	while (n || (final && *ncarry)) {
		size_t take = n < 4096 ? n : 4096, have, used;
		int rc;
		memcpy(in, carry, *ncarry);
		memcpy(in + *ncarry, buf, take);
		have = *ncarry + take;
		used = escape_term(in, have, out, sizeof(out), ESCAPE_KEEP_NL, final && take == n);
		rc = write_all(fd, out, strlen(out));
		if (rc)
			return rc;
		*ncarry = have - used;     /* an incomplete sequence at the end: at most 3 bytes */
		memcpy(carry, in + used, *ncarry);
		buf += take;
		n -= take;
		if (final && !n)
			break;
	}
	return 0;
}

/* Stream smaps to fd (escaped if escape), counting its regions and torn records on the
 * way; returns bytes copied or -errno (-ESRCH: target gone). */
static long long copy_smaps(int smaps_fd, int out_fd, int escape, struct smaps_tally *tally,
			    int *werr)
{
	char *buf = xmalloc(COPY_BUF), carry[4];
	size_t ncarry = 0;
	long long total = 0;
	int rc;

	*werr = 0;
	for (;;) {
		ssize_t n = read(smaps_fd, buf, COPY_BUF);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		smaps_tally_feed(tally, buf, (size_t)n);
		rc = write_text(out_fd, buf, (size_t)n, escape ? carry : NULL, &ncarry, 0);
		if (rc) {
			*werr = -rc;
			free(buf);
			return rc;
		}
		total += n;
	}
	rc = escape ? write_text(out_fd, buf, 0, carry, &ncarry, 1) : 0;
	free(buf);
	if (rc) {
		*werr = -rc;
		return rc;
	}
	return total;
}

int snapfile_write(const struct procfs *p, const char *path, int flags, size_t *bytes_out,
		   size_t *torn_out, struct rw_err *err)
{
	struct snapshot *meta_holder = snapshot_new();
	char *comm = NULL, *cmdline = NULL, kernel[128], header[4096];
	int smaps_fd = -1, out_fd = -1, rc = 0, werr = 0, direct = 0;
	size_t hlen, regions;
	long long copied;
	struct stat st;
	struct smaps_tally tally;

	tmp_path[0] = '\0';
	memset(&tally, 0, sizeof(tally));
	smaps_fd = procfs_openat(p, "smaps", err);
	if (smaps_fd < 0) {
		rc = smaps_fd;
		goto out_meta;
	}
	fill_meta(p, meta_holder, &comm, &cmdline, kernel, sizeof(kernel));
	hlen = smaps_format_header(header, sizeof(header), &meta_holder->meta);
	if (hlen >= sizeof(header))
		hlen = sizeof(header) - 1;

	if (!path || !strcmp(path, "-")) {
		out_fd = STDOUT_FILENO;
		direct = 1;
	} else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			rc = rw_err_set(err, EISDIR, "%s: is a directory", path);
			goto out_smaps;
		}
		/* A device or fifo (/dev/null, a pipe): write straight to it. */
		out_fd = open(path, O_WRONLY | O_CLOEXEC);
		if (out_fd < 0) {
			rc = rw_err_set(err, errno, "%s: %s", path, strerror(errno));
			goto out_smaps;
		}
		direct = 2;
	} else {
		if (!(flags & SNAPFILE_FORCE) && access(path, F_OK) == 0) {
			rc = rw_err_set(err, EEXIST, "%s: file exists (use --force to replace it)", path);
			goto out_smaps;
		}
		/* O_TMPFILE where possible: killed at any moment, we leave no file behind. */
		out_fd = tmpfile_open(path, 0644, tmp_path, sizeof(tmp_path));
		if (out_fd < 0) {
			rc = rw_err_set(err, -out_fd, "%s: cannot create a file in its directory: %s", path,
					strerror(-out_fd));
			out_fd = -1;
			goto out_smaps;
		}
	}

	rc = write_all(out_fd, header, hlen);
	if (rc) {
		werr = -rc;
		goto write_failed;
	}
	/* Thread stack pointers, read without stopping anything, so diff can name thread
	 * stacks: "# thread TID 0xSP COMM" (blocked threads only; running ones have no SP). */
	{
		struct procfs_task *tasks = NULL;
		size_t ntasks = 0;
		if (procfs_task_list(p, &tasks, &ntasks, NULL) == 0) {
			for (size_t i = 0; i < ntasks && !rc; i++) {
				char line[200], esc[80];
				int n;
				if (!tasks[i].sp)
					continue;
				n = snprintf(line, sizeof(line), "# thread %d 0x%llx %s\n", (int)tasks[i].tid,
					     (unsigned long long)tasks[i].sp,
					     escape_ctl(tasks[i].comm, esc, sizeof(esc)));
				rc = write_all(out_fd, line, (size_t)n);
			}
			free(tasks);
		}
		if (rc) {
			werr = -rc;
			goto write_failed;
		}
	}
	copied = copy_smaps(smaps_fd, out_fd, direct == 1 && (flags & SNAPFILE_ESCAPE), &tally,
			    &werr);
	regions = smaps_tally_finish(&tally);
	if (werr)
		goto write_failed;
	if (copied < 0) {
		if (copied == -ESRCH)
			rc = rw_err_set(err, ESRCH, "process %d exited during the snapshot", (int)p->pid);
		else
			rc = rw_err_set(err, (int)-copied, "reading /proc/%d/smaps: %s", (int)p->pid,
					strerror((int)-copied));
		goto out_tmp;
	}
	if (copied == 0) {
		rc = rw_err_set(err, ESRCH, "process %d has no mappings (exited or a zombie)",
				(int)p->pid);
		goto out_tmp;
	}
	if (procfs_check_alive(p, NULL)) {
		rc = rw_err_set(err, ESRCH, "process %d exited during the snapshot", (int)p->pid);
		goto out_tmp;
	}
	/* The closing line goes last: a file cut short before it is refused when read. */
	hlen = smaps_format_end(header, sizeof(header), regions, tally.torn);
	rc = write_all(out_fd, header, hlen);
	if (rc) {
		werr = -rc;
		goto write_failed;
	}
	if (torn_out)
		*torn_out = tally.torn;
	if (!direct) {
		int e;
		if (fsync(out_fd) < 0) {
			werr = errno;
			goto write_failed;
		}
		e = tmpfile_commit(out_fd, tmp_path, path, flags & SNAPFILE_FORCE);
		if (e) {
			rc = rw_err_set(err, -e, "%s: %s%s", path, strerror(-e),
					e == -EEXIST ? " (use --force to replace it)" : "");
			goto out_tmp;
		}
		tmp_path[0] = '\0';
	}
	if (bytes_out)
		*bytes_out = (size_t)copied;
	rc = 0;
	goto out_tmp;

write_failed:
	rc = rw_err_set(err, werr, "writing %s: %s", direct == 1 ? "standard output" : path,
			strerror(werr));
out_tmp:
	if (out_fd >= 0 && direct != 1)
		close(out_fd);
	tmpfile_discard(tmp_path);
	tmp_path[0] = '\0';
out_smaps:
	close(smaps_fd);
out_meta:
	free(comm);
	free(cmdline);
	snapshot_free(meta_holder);
	return rc;
}
