/* tests/tap.h: a tiny TAP producer for C unit tests run by prove. */
#ifndef RW_TAP_H
#define RW_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define plan(n) printf("1..%d\n", (n))
#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

#define is_u64(got, want, ...) do { \
	unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
	ok(g_ == w_, __VA_ARGS__); \
	if (g_ != w_) printf("#   got %llu (0x%llx), want %llu (0x%llx)\n", g_, g_, w_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = g_ && w_ && !strcmp(g_, w_); \
	ok(eq_, __VA_ARGS__); \
	if (!eq_) printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

/* Read a fixture file under RW_TOP (or the current directory). */
static __attribute__((unused)) char *tap_slurp(const char *rel, size_t *len)
{
	char path[4096];
	const char *top = getenv("RW_TOP");
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	fp = fopen(path, "rb");
	if (!fp) {
		printf("Bail out! cannot open fixture %s\n", path);
		exit(1);
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		printf("Bail out! cannot read fixture %s\n", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Run a shell command and return its whole standard output (malloc'd, NUL-terminated), or
 * NULL when it cannot run or, unless any_status, exits non-zero (grep's "no match" is 1). */
static __attribute__((unused)) char *tap_run_cmd(const char *cmd, size_t *len, int any_status)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	int st;

	*len = 0;
	if (!p)
		return NULL;
	do {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				exit(1);
		}
		r = fread(buf + n, 1, cap - n, p);
		n += r;
	} while (r > 0);
	buf[n] = '\0';
	st = pclose(p);
	if (st != 0 && !any_status) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static __attribute__((unused)) void tap_write_file(const char *path, const unsigned char *d, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp || (n && fwrite(d, 1, n, fp) != n) || fclose(fp)) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

#endif
