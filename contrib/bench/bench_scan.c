/* bench_scan: throughput of the scan_* analyzers on a deterministic 256 MiB mix, side by
 * side with the anchor tools on the same bytes.  Prints figures, never passes or fails.
 *
 *   cc -O2 -Iinclude -D_GNU_SOURCE contrib/bench/bench_scan.c src/scan_*.c src/util.c \
 *      $(pkg-config --cflags --libs libpcre2-8) -lm -o build/bench_scan
 *   build/bench_scan FILE [--no-ref] [--mib N] [--runs N] [--text] [--only NAME] [--hold SECONDS]
 *
 * FILE receives the data (so strings(1), hexdump(1) and grep(1) can read the same bytes);
 * the analyzers are fed from memory in 4 MiB chunks, on one thread (memread hands over
 * 1 MiB buffers, and dump counts --top's string table on a second thread).
 *
 * --hold: a live target instead: the mix in one populated anonymous mapping, then
 * "ready pid=N addr=0xA size=N" (as the fixtures print it) and a sleep of SECONDS; FILE
 * is not written. make bench dumps it beside the bare process_vm_readv loop.
 * --text: user_session records end to end instead of the mix; --only NAME: the analyzers
 * whose name contains NAME. */
#include "scan.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (4u << 20)

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rng(void)                 /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Segments of 4..64 KiB: text records, zeros, random bytes, pointer arrays. */
static void fill(unsigned char *buf, size_t size)
{
	size_t o = 0;
	uint64_t id = 1;

	while (o < size) {
		size_t seg = 4096 + (size_t)(rng() % (60 * 1024)), end;
		unsigned kind = (unsigned)(rng() % 10);
		if (seg > size - o)
			seg = size - o;
		end = o + seg;
		if (kind < 3) {                   /* text */
			while (o < end) {
				char rec[128];
				int n = snprintf(rec, sizeof(rec), "user_session id=%llu token=%08llx role=viewer\n",
						 (unsigned long long)(id++ % 100000),
						 (unsigned long long)(rng() & 0xffffffffu));
				size_t take = (size_t)n < end - o ? (size_t)n : end - o;
				memcpy(buf + o, rec, take);
				o += take;
			}
		} else if (kind < 6) {            /* zeros */
			memset(buf + o, 0, seg);
			o = end;
		} else if (kind < 8) {            /* random */
			for (; o + 8 <= end; o += 8) {
				uint64_t r = rng();
				memcpy(buf + o, &r, 8);
			}
			for (; o < end; o++)
				buf[o] = (unsigned char)rng();
		} else {                          /* pointers into a heap, some NULLs and small ints */
			for (; o + 8 <= end; o += 8) {
				uint64_t r = rng(), v;
				if (r % 4 == 0)
					v = 0;
				else if (r % 4 == 1)
					v = r >> 56;
				else
					v = 0x7f3a2c000000ULL + ((r >> 8) & 0xffffff0ULL);
				memcpy(buf + o, &v, 8);
			}
			for (; o < end; o++)
				buf[o] = 0;
		}
	}
}

/* --text: user_session records end to end, as the flat fixture's -x fills its buffer. */
static void fill_text(unsigned char *buf, size_t size)
{
	size_t o = 0;
	unsigned id = 0;

	while (o < size) {
		char rec[96];
		unsigned token = (id * 2654435761u) ^ 0x5bd1e995u;
		size_t n = (size_t)snprintf(rec, sizeof(rec), "user_session id=%u token=%08x role=viewer\n", id, token);
		id++;
		if (n > size - o)
			n = size - o;
		memcpy(buf + o, rec, n);
		o += n;
	}
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* ---- analyzers ----------------------------------------------------------------------- */

struct ctx {
	uint64_t strings, string_bytes;
	struct scan_top *top, *shapes;
};

static void on_string(void *p, uint64_t addr, const char *text, size_t len, enum scan_enc enc)
{
	struct ctx *c = p;
	(void)addr;
	(void)text;
	(void)enc;
	c->strings++;
	c->string_bytes += len;
}

static void on_string_top(void *p, uint64_t addr, const char *text, size_t len, enum scan_enc enc)
{
	struct ctx *c = p;
	on_string(p, addr, text, len, enc);
	scan_top_add(c->top, text, len, addr);
	if (c->shapes) {
		char shape[300];
		size_t n = scan_shape(text, len, shape, sizeof(shape));
		scan_top_add(c->shapes, shape, n, addr);
	}
}

static void run_strings(const unsigned char *buf, size_t size, int enc, int top, int shapes, struct ctx *c)
{
	struct scan_strings_opts o = { .min_len = 4, .encodings = enc & 3, .gnu = !(enc & 4),
				       .emit = top ? on_string_top : on_string, .ctx = c,
				       .borrowed = 1 };   /* as dump and analyze run it */
	struct scan_strings *s;

	memset(c, 0, sizeof(*c));
	if (top)
		c->top = scan_top_new(65536);
	if (shapes)
		c->shapes = scan_top_new(65536);
	s = scan_strings_new(&o);
	for (size_t off = 0; off < size; off += CHUNK)
		scan_strings_feed(s, 0x7f0000000000ULL + off, buf + off, size - off < CHUNK ? size - off : CHUNK);
	scan_strings_finish(s);
	scan_strings_free(s);
}

static void bench_strings(const unsigned char *buf, size_t size)
{
	struct ctx c;
	run_strings(buf, size, SCAN_ENC_ASCII, 0, 0, &c);
}

static void bench_strings_utf8(const unsigned char *buf, size_t size)
{
	struct ctx c;
	run_strings(buf, size, SCAN_ENC_ASCII | 4, 0, 0, &c);
}

static void bench_strings_u16(const unsigned char *buf, size_t size)
{
	struct ctx c;
	run_strings(buf, size, SCAN_ENC_UTF16LE, 0, 0, &c);
}

static void bench_top(const unsigned char *buf, size_t size)
{
	struct ctx c;
	run_strings(buf, size, SCAN_ENC_ASCII, 1, 0, &c);
	scan_top_free(c.top);
}

static void bench_top_shapes(const unsigned char *buf, size_t size)
{
	struct ctx c;
	run_strings(buf, size, SCAN_ENC_ASCII, 1, 1, &c);
	scan_top_free(c.top);
	scan_top_free(c.shapes);
}

static void bench_hexdump(const unsigned char *buf, size_t size)
{
	FILE *out = fopen("/dev/null", "w");
	struct scan_hexdump *h;

	if (!out)
		return;
	h = scan_hexdump_new(out, 0, 0);
	for (size_t off = 0; off < size; off += CHUNK)
		scan_hexdump_feed(h, buf + off, size - off < CHUNK ? size - off : CHUNK);
	scan_hexdump_finish(h);
	scan_hexdump_free(h);
	fclose(out);
}

static void on_block(void *p, const struct scan_block *b)
{
	(*(uint64_t *)p) += b->cls;
}

static void bench_hist(const unsigned char *buf, size_t size)
{
	uint64_t sink = 0;
	struct scan_hist_opts o = { .base = 0x7f0000000000ULL, .block = on_block, .ctx = &sink };
	struct scan_hist *h = scan_hist_new(&o);
	struct scan_hist_result r;

	for (size_t off = 0; off < size; off += CHUNK)
		scan_hist_feed(h, o.base + off, buf + off, size - off < CHUNK ? size - off : CHUNK);
	scan_hist_finish(h, &r);
	scan_hist_free(h);
}

static uint64_t grep_count;

static void bench_grep(const unsigned char *buf, size_t size)
{
	char err[256];
	struct scan_grep_opts o = { .pattern = "user_session id=\\d+" };
	struct scan_grep *g = scan_grep_new(&o, err, sizeof(err));

	if (!g) {
		fprintf(stderr, "bench_scan: %s\n", err);
		exit(1);
	}
	for (size_t off = 0; off < size; off += CHUNK)
		scan_grep_feed(g, 0x7f0000000000ULL + off, buf + off, size - off < CHUNK ? size - off : CHUNK);
	scan_grep_finish(g);
	grep_count = scan_grep_count(g);
	scan_grep_free(g);
}

/* Best of runs, in seconds of wall time and (*cpu) of this process's CPU time: on a shared
 * machine the CPU time is the steadier figure. */
static double best_time(void (*fn)(const unsigned char *, size_t), const unsigned char *buf, size_t size, int runs,
			double *cpu)
{
	double best = 1e30;

	*cpu = 1e30;
	for (int i = 0; i < runs; i++) {
		double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		fn(buf, size);
		t0 = now() - t0;
		c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (t0 < best)
			best = t0;
		if (c0 < *cpu)
			*cpu = c0;
	}
	return best;
}

static double time_cmd(const char *cmd, int runs)
{
	double best = 1e30;

	for (int i = 0; i < runs; i++) {
		double t0 = now();
		int rc = system(cmd);
		t0 = now() - t0;
		if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1)
			return -1;
		if (t0 < best)
			best = t0;
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int ref = 1, runs = 3, hold = 0, text = 0;
	const char *only = NULL;
	size_t mib = 256, size;
	unsigned char *buf;
	FILE *fp;
	double gb;
	char cmd[4096];
	struct {
		const char *name;
		void (*fn)(const unsigned char *, size_t);
		const char *ref;              /* reference command, before the file name */
		const char *ref_out;          /* and after it */
		double secs, ref_secs, cpu_secs;
	} rows[] = {
		{ "strings (gnu, -n 4)", bench_strings, "strings -a -n 4", "> /dev/null", 0, 0, 0 },
		{ "strings, UTF-8 mode (non-gnu)", bench_strings_utf8, NULL, NULL, 0, 0, 0 },
		{ "strings -e l", bench_strings_u16, "strings -a -e l -n 4", "> /dev/null", 0, 0, 0 },
		{ "strings + top counts", bench_top, NULL, NULL, 0, 0, 0 },
		{ "strings + top + shapes", bench_top_shapes, NULL, NULL, 0, 0, 0 },
		{ "hexdump -C", bench_hexdump, "hexdump -C", "> /dev/null", 0, 0, 0 },
		{ "histogram + entropy", bench_hist, NULL, NULL, 0, 0, 0 },
		/* GNU grep stops at the first match when its output is /dev/null: pipe it */
		{ "grep 'user_session id=\\d+'", bench_grep, "grep -c -a -P 'user_session id=\\d+'",
		  "| cat > /dev/null", 0, 0, 0 },
	};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-ref"))
			ref = 0;
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = (size_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--text"))
			text = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = atoi(argv[++i]);
		else
			file = argv[i];
	}
	if (!file || !mib || runs < 1) {
		fprintf(stderr, "usage: bench_scan FILE [--no-ref] [--mib N] [--runs N] [--text] [--only NAME] [--hold SECONDS]\n");
		return 2;
	}
	size = mib << 20;
	if (hold > 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED) {
			perror("bench_scan: mmap");
			return 1;
		}
		(text ? fill_text : fill)(buf, size);
		printf("ready pid=%ld addr=%p size=%zu\n", (long)getpid(), (void *)buf, size);
		fflush(stdout);
		sleep((unsigned)hold);
		return 0;
	}
	buf = malloc(size);
	if (!buf) {
		fprintf(stderr, "bench_scan: out of memory\n");
		return 1;
	}
	(text ? fill_text : fill)(buf, size);
	fp = fopen(file, "wb");
	if (!fp || fwrite(buf, 1, size, fp) != size || fclose(fp)) {
		fprintf(stderr, "bench_scan: cannot write %s\n", file);
		return 1;
	}
	gb = (double)size / 1e9;
	printf("bench_scan: %zu MiB %s, 4 MiB chunks, best of %d\n", mib,
	       text ? "of user_session records" : "mix (text records, zeros, random, pointers)", runs);
	printf("%-30s %10s %12s %10s %10s\n", "analyzer", "GB/s", "reference", "ratio", "GB/s CPU");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (only && !strstr(rows[i].name, only))
			continue;
		rows[i].secs = best_time(rows[i].fn, buf, size, runs, &rows[i].cpu_secs);
		rows[i].ref_secs = -1;
		if (ref && rows[i].ref) {
			snprintf(cmd, sizeof(cmd), "%s '%s' %s", rows[i].ref, file, rows[i].ref_out);
			/* hexdump -C is slow (~0.02 GB/s): one run is enough */
			rows[i].ref_secs = time_cmd(cmd, rows[i].fn == bench_hexdump ? 1 : runs);
		}
		printf("%-30s %10.3f", rows[i].name, gb / rows[i].secs);
		if (rows[i].ref_secs > 0)
			printf(" %12.3f %9.1fx", gb / rows[i].ref_secs, rows[i].ref_secs / rows[i].secs);
		else
			printf(" %12s %10s", "-", "-");
		printf(" %10.3f\n", gb / rows[i].cpu_secs);
		fflush(stdout);
	}
	printf("grep matches: %llu\n", (unsigned long long)grep_count);
	free(buf);
	return 0;
}
