/* util: allocation, errors, sizes, addresses, clocks — shared by every module. */
#ifndef RW_UTIL_H
#define RW_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/types.h>

/* An error for the caller to print: errno-style code plus a one-line message. */
struct rw_err {
	int code;          /* positive errno value, or 0 */
	char msg[512];
};

#if defined(__GNUC__)
#define RW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RW_NORETURN __attribute__((noreturn))
#else
#define RW_PRINTF(a, b)
#define RW_NORETURN
#endif

/* Fills *err (if non-NULL) and returns -code, so callers can `return rw_err_set(...)`. */
int rw_err_set(struct rw_err *err, int code, const char *fmt, ...) RW_PRINTF(3, 4);

/* Allocation failure is fatal: one message, exit 1. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t count, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* "64", "64K", "1.5M", "2G", "1T" (binary units, optional trailing B/iB). Returns 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
/* Hex address with or without 0x. Returns 0 or -EINVAL. */
int parse_addr(const char *s, uint64_t *out);
/* Positive decimal pid. Returns 0 or -EINVAL. */
int parse_pid(const char *s, int *out);

/* Human size, e.g. "12.3M", "512K", "0"; buffer of at least 16 bytes. */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
/* Signed human size with explicit sign: "+12.3M", "-4K", "0". */
const char *fmt_delta(int64_t bytes, char *buf, size_t len);

/* Monotonic and wall clocks in seconds. */
double now_mono(void);
double now_wall(void);
/* CPU time this process has used (user + system), in milliseconds. */
double cpu_self_ms(void);

/* Read a whole fd until EOF into a malloc'd, NUL-terminated buffer.
 * Fails with -EFBIG beyond max_len bytes. */
int read_fd_all(int fd, char **buf, size_t *len, size_t max_len, struct rw_err *err);

/* Write all bytes, retrying on EINTR and short writes. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Bytes from the target (mapping names, strings, thread names) made safe for a terminal:
 * C0 controls, DEL, raw bytes that are not valid UTF-8 (0x80-0x9f among them: 8-bit CSI on
 * many terminals) as \xNN; the UTF-8 C1 controls U+0080-U+009F and the bidirectional
 * controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 as \uNNNN; a backslash as
 * \\. Valid UTF-8 otherwise passes through. With ESCAPE_KEEP_NL, newline and tab pass too.
 * Writes at most outlen - 1 bytes and a NUL (stopping before an escape that does not fit).
 * Returns the input bytes consumed: all of them, except, when !final, an incomplete UTF-8
 * sequence at the very end (for the caller's next piece), or what did not fit in out. */
#define ESCAPE_KEEP_NL 1u
size_t escape_term(const char *s, size_t len, char *out, size_t outlen, unsigned flags,
		   int final);
/* escape_term of a string; always NUL-terminates (truncating); returns out. */
char *escape_ctl(const char *s, char *out, size_t outlen);
/* The same for len bytes that may contain NULs (written as \x00). */
char *escape_ctln(const char *s, size_t len, char *out, size_t outlen);

/* An unnamed file in final's directory (O_TMPFILE): if we die, nothing is left behind.
 * Where the filesystem refuses O_TMPFILE, a named ".BASE.XXXXXX" temp file instead, whose
 * name is put in tmp (registered for cleanup on signals). Returns the fd or -errno. */
int tmpfile_open(const char *final, mode_t mode, char *tmp, size_t tmplen);
/* Give the file its final name: no replacement unless force (EEXIST). Closes nothing. */
int tmpfile_commit(int fd, const char *tmp, const char *final, int force);
/* Drop a file that will not be committed (removes the named temp, if any). */
void tmpfile_discard(const char *tmp);
/* Replace path with buf (len bytes) atomically: a temporary file in its directory, written,
 * fsynced, renamed into place, and the directory fsynced; a reader sees the old file or the
 * new one. On error nothing new is left. what names the file in err ("report x.html: ..."). */
int file_replace_atomic(const char *path, mode_t mode, const void *buf, size_t len,
			const char *what, struct rw_err *err);

/* Temporary files to remove if a fatal signal arrives while they are written (main's
 * handler calls cleanup_on_signal(), which only uses unlink(2): async-signal-safe). */
void cleanup_register_tmp(const char *path);
void cleanup_forget_tmp(const char *path);
void cleanup_on_signal(void);

/* pthread_create with every signal blocked in the new thread, so signals stay with the
 * main thread; returns pthread_create's result (0: started). */
int thread_start_quiet(pthread_t *t, void *(*fn)(void *), void *arg);

/* Short copies and compares, inline: at 20 million strings a GiB, libc's memcpy and memcmp
 * calls for 40-byte strings cost more than the work (perf).  Both touch only the n bytes of
 * each side, in overlapping fixed-size pieces. */
static inline void copy_upto64(void *dst, const void *src, size_t n)   /* n <= 64 */
{
	char *o = dst;
	const char *p = src;

	if (n >= 32) {
		memcpy(o, p, 32);
		memcpy(o + n - 32, p + n - 32, 32);
	} else if (n >= 16) {
		memcpy(o, p, 16);
		memcpy(o + n - 16, p + n - 16, 16);
	} else if (n >= 8) {
		memcpy(o, p, 8);
		memcpy(o + n - 8, p + n - 8, 8);
	} else if (n >= 4) {
		memcpy(o, p, 4);
		memcpy(o + n - 4, p + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			o[i] = p[i];
	}
}

static inline void copy_short(void *dst, const void *src, size_t n)
{
	if (n > 64)
		memcpy(dst, src, n);
	else
		copy_upto64(dst, src, n);
}

static inline int equal_short(const void *a, const void *b, size_t n)
{
	const char *x = a, *y = b;

	if (n > 64)
		return !memcmp(x, y, n);
#if defined(__SSE2__)
	if (n >= 16) {
		for (size_t k = 0; k + 16 < n; k += 16)
			if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(x + k)),
							     _mm_loadu_si128((const __m128i *)(const void *)(y + k)))) != 0xffff)
				return 0;
		return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(x + n - 16)),
							_mm_loadu_si128((const __m128i *)(const void *)(y + n - 16)))) == 0xffff;
	}
#endif
	if (n >= 8) {
		uint64_t u, v, s, t;
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		memcpy(&s, x + n - 8, 8);
		memcpy(&t, y + n - 8, 8);
		return !((u ^ v) | (s ^ t));
	}
	if (n >= 4) {
		uint32_t a4, b4, c4, d4;
		memcpy(&a4, x, 4);
		memcpy(&b4, y, 4);
		memcpy(&c4, x + n - 4, 4);
		memcpy(&d4, y + n - 4, 4);
		return !((a4 ^ b4) | (c4 ^ d4));
	}
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

#endif
