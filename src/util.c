/* util: allocation, errors, sizes, addresses, clocks. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int rw_err_set(struct rw_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

static RW_NORETURN void oom(size_t n)
{
	fprintf(stderr, "regionwatch: out of memory allocating %zu bytes\n", n);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t count, size_t n)
{
	if (n && count > SIZE_MAX / n)
		oom(SIZE_MAX);
	return xrealloc(p, count * n);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	default: break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	v *= (double)mult;
	if (v >= 18446744073709551615.0)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int parse_addr(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (++digits > 16)
			return -EINVAL;
		v = (v << 4) | (uint64_t)d;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_pid(const char *s, int *out)
{
	long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > 0x3fffffff)      /* PID_MAX_LIMIT is 2^22; anything near int range is junk */
			return -EINVAL;
	}
	if (v <= 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		if (bytes == 0)
			snprintf(buf, len, "0");
		return buf;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (v >= 100.0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f%c", v, units[u]);
	else if (v >= 10.0)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.2f%c", v, units[u]);
	return buf;
}

const char *fmt_delta(int64_t bytes, char *buf, size_t len)
{
	char tmp[32];
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;

	if (bytes == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	snprintf(buf, len, "%c%s", bytes < 0 ? '-' : '+', fmt_size(mag, tmp, sizeof(tmp)));
	return buf;
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cpu_self_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int read_fd_all(int fd, char **buf, size_t *len, size_t max_len, struct rw_err *err)
{
	size_t cap = 64 * 1024, used = 0;
	char *b = xmalloc(cap + 1);

	for (;;) {
		ssize_t n;
		if (cap - used < 16 * 1024) {
			if (cap >= max_len) {
				free(b);
				return rw_err_set(err, EFBIG, "larger than %zu bytes", max_len);
			}
			cap *= 2;
			if (cap > max_len)
				cap = max_len;
			b = xrealloc(b, cap + 1);
		}
		n = read(fd, b + used, cap - used);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			free(b);
			return rw_err_set(err, e, "%s", strerror(e));
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	b[used] = '\0';
	*buf = b;
	*len = used;
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (2-4), 0 if invalid, -1 if valid so far but cut
 * by the end (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static int utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	*cp = c & (0x7f >> n);
	for (int k = 1; k < n; k++) {
		if ((size_t)k >= len)
			return -1;
		if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	return n;
}

static int is_term_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t escape_term(const char *str, size_t len, char *out, size_t outlen, unsigned flags,
		   int final)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, o = 0;

	if (!outlen)
		return 0;
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		int n;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c == '\\') {
			if (o + 2 >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
			continue;
		}
		if ((c == '\n' || c == '\t') && (flags & ESCAPE_KEEP_NL)) {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
			i++;
			continue;
		}
		n = c < 0x80 ? 0 : utf8_seq(s + i, len - i, &cp);
		if (n < 0 && !final)
			break;                  /* the rest of it comes with the next piece */
		if (n > 0 && !is_term_control(cp)) {
			if (o + (size_t)n >= outlen)
				break;
			memcpy(out + o, s + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		} else if (n > 0) {
			if (o + 6 >= outlen)
				break;
			snprintf(out + o, outlen - o, "\\u%04x", (unsigned)cp);
			o += 6;
			i += (size_t)n;
		} else {
			if (o + 4 >= outlen)
				break;
			snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
			i++;
		}
	}
	out[o] = '\0';
	return i;
}

char *escape_ctln(const char *s, size_t len, char *out, size_t outlen)
{
	escape_term(s, len, out, outlen, 0, 1);
	return out;
}

char *escape_ctl(const char *s, char *out, size_t outlen)
{
	return escape_ctln(s, strlen(s), out, outlen);
}

#define CLEANUP_SLOTS 4
static char cleanup_paths[CLEANUP_SLOTS][4096];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];

void cleanup_register_tmp(const char *path)
{
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (!cleanup_used[i]) {
			snprintf(cleanup_paths[i], sizeof(cleanup_paths[i]), "%s", path);
			cleanup_used[i] = 1;
			return;
		}
}

void cleanup_forget_tmp(const char *path)
{
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (cleanup_used[i] && !strcmp(cleanup_paths[i], path))
			cleanup_used[i] = 0;
}

void cleanup_on_signal(void)
{
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (cleanup_used[i]) {
			cleanup_used[i] = 0;
			unlink(cleanup_paths[i]);
		}
}

int tmpfile_open(const char *final, mode_t mode, char *tmp, size_t tmplen)
{
	char dirbuf[PATH_MAX], basebuf[PATH_MAX];
	const char *dir;
	int fd;

	tmp[0] = '\0';
	if (strlen(final) >= sizeof(dirbuf))
		return -ENAMETOOLONG;
	strcpy(dirbuf, final);
	strcpy(basebuf, final);
	dir = dirname(dirbuf);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd >= 0) {
		fchmod(fd, mode);        /* exactly mode, whatever the umask */
		return fd;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, basename(basebuf));
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		tmp[0] = '\0';
		return -e;
	}
	fchmod(fd, mode);
	cleanup_register_tmp(tmp);
	return fd;
}

int tmpfile_commit(int fd, const char *tmp, const char *final, int force)
{
	char proc[64];

	if (tmp[0]) {
		int rc = force ? rename(tmp, final)
			       : renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
		if (rc < 0)
			return -errno;
		cleanup_forget_tmp(tmp);
		return 0;
	}
	/* linkat through /proc/self/fd gives an O_TMPFILE file a name (open(2), O_TMPFILE). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, final, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != EEXIST || !force)
		return -errno;
	{
		/* --force: link under a temporary name, then rename over the old file. */
		char side[PATH_MAX + 32];
		snprintf(side, sizeof(side), "%s.rw%ld", final, (long)getpid());
		if (linkat(AT_FDCWD, proc, AT_FDCWD, side, AT_SYMLINK_FOLLOW) < 0)
			return -errno;
		if (rename(side, final) < 0) {
			int e = errno;
			unlink(side);
			return -e;
		}
	}
	return 0;
}

/* After the rename: the directory entry is durable too (fsync(2): "Calling fsync() does not
 * necessarily ensure that the entry in the directory containing the file has also reached
 * disk"). Best effort: the file is in place whatever this says. */
static void fsync_dir_of(const char *path)
{
	char dirbuf[PATH_MAX];
	int fd;

	if (strlen(path) >= sizeof(dirbuf))
		return;
	strcpy(dirbuf, path);
	fd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int file_replace_atomic(const char *path, mode_t mode, const void *buf, size_t len,
			const char *what, struct rw_err *err)
{
	char tmp[PATH_MAX + 32];
	int fd, e;

	fd = tmpfile_open(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return rw_err_set(err, -fd, "%s %s: cannot create a temporary file in its "
				  "directory: %s", what, path, strerror(-fd));
	e = write_all(fd, buf, len);
	if (!e && fsync(fd) < 0)
		e = -errno;
	if (e) {
		close(fd);
		tmpfile_discard(tmp);
		return rw_err_set(err, -e, "%s %s: writing: %s", what, path, strerror(-e));
	}
	e = tmpfile_commit(fd, tmp, path, 1);
	close(fd);
	if (e) {
		tmpfile_discard(tmp);
		return rw_err_set(err, -e, "%s %s: renaming into place: %s", what, path, strerror(-e));
	}
	fsync_dir_of(path);
	return 0;
}

void tmpfile_discard(const char *tmp)
{
	if (tmp[0]) {
		unlink(tmp);
		cleanup_forget_tmp(tmp);
	}
}

int thread_start_quiet(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
