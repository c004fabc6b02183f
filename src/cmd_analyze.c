/* cmd_analyze: regionwatch analyze FILE [--base ADDR] [analyses] [--json]
 * The dump analyses on any file: our dumps, gdb 'dump binary memory' output, a core's
 * segment. Holes of a sparse file (SEEK_HOLE) are treated like pages that were not read. */
#include "analysis.h"
#include "cli.h"
#include "out_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (256u << 10)   /* a size that stays in the cache between read and analysis */

void cmd_analyze_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch analyze FILE [--base ADDR] [analyses...] [--json]\n"
		"Run the dump analyses on a file: a regionwatch dump, gdb 'dump binary memory' output,\n"
		"a segment cut from a core file. FILE '-' reads standard input. Holes of a sparse file\n"
		"are treated as unread pages (as regionwatch dumps leave them).\n\n"
		"  --base ADDR        address of the file's first byte (default 0), so the output shows\n"
		"                     target addresses\n"
		"  -h, --help         this help\n\n"
		"%s\n"
		"Exit status: 0 analysed; 1 the file cannot be read; 2 usage error.\n",
		cli_analysis_help);
}

/* Chunks in a ring: --top's counting thread may still read a chunk after analysis_data
 * returns, so a chunk is read into again only once settled (analysis_mark/settle).
 * With one chunk, waiting for the counter at every 256 KiB left a core idle. */
#define RING 4u

struct ring {
	unsigned char *buf[RING];
	uint64_t mark[RING];
	int kept[RING];
	unsigned k;
};

/* The next chunk to read into, settled. */
static unsigned char *ring_next(struct ring *rg, struct analysis *a)
{
	rg->k = (rg->k + 1) % RING;
	if (rg->kept[rg->k])
		analysis_settle(a, rg->mark[rg->k]);
	rg->kept[rg->k] = 0;
	return rg->buf[rg->k];
}

/* The chunk just read is the analysis's now. */
static void ring_feed(struct ring *rg, struct analysis *a, uint64_t addr, size_t n)
{
	analysis_data(a, addr, rg->buf[rg->k], n);
	rg->mark[rg->k] = analysis_mark(a);
	rg->kept[rg->k] = 1;
}

/* Feed [off, off+len) of fd to the analysis in chunks. */
static int feed_range(int fd, struct ring *rg, off_t off, off_t len, uint64_t base,
		      struct analysis *a)
{
	while (len > 0) {
		size_t want = len > (off_t)CHUNK ? CHUNK : (size_t)len;
		unsigned char *buf = ring_next(rg, a);
		ssize_t n = pread(fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		ring_feed(rg, a, base + (uint64_t)off, (size_t)n);
		off += n;
		len -= n;
	}
	return 0;
}

enum { OPT_BASE = CLI_OPT_OWN };

int cmd_analyze(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, OPT_BASE },
		{ NULL, 0, NULL, 0 },
	};
	struct analysis_opts ao;
	struct analysis *a;
	struct rw_err err;
	struct stat st;
	const char *path;
	uint64_t base = 0;
	struct ring rg;
	int c, r, fd, rc = RW_EXIT_OK;
	double t0;

	memset(&ao, 0, sizeof(ao));
	cx->analysis = &ao;
	while ((c = cli_getopt(cx, argc, argv, "", opts)) > 0) {
		switch (c) {
		case OPT_BASE:
			if (parse_addr(optarg, &base)) {
				cli_error(cx->name, "invalid address '%s' for --base", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	if (argc - optind != 1) {
		cli_error(cx->name, "give one FILE to analyse");
		return RW_EXIT_USAGE;
	}
	if (cli_analysis_check(cx))
		return RW_EXIT_USAGE;
	if (!(ao.strings || ao.top || ao.hexdump || ao.histogram || ao.grep)) {
		cli_error(cx->name, "nothing to do: give --strings, --top N, --hexdump, --histogram "
			  "or --grep REGEX");
		return RW_EXIT_USAGE;
	}
	path = argv[optind];
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0 || fstat(fd, &st) < 0) {
		cli_error(cx->name, "%s: %s", path, strerror(errno));
		return RW_EXIT_FAIL;
	}
	if (S_ISDIR(st.st_mode)) {
		cli_error(cx->name, "%s: is a directory", path);
		close(fd);
		return RW_EXIT_FAIL;
	}
	ao.base = base;
	ao.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	/* Addresses base .. base + size - 1 must not wrap past 2^64. */
	if (ao.size && ao.size - 1 > UINT64_MAX - base) {
		cli_error(cx->name, "--base 0x%llx: %s is %llu bytes, which would pass the top of "
			  "the address space", (unsigned long long)base, path,
			  (unsigned long long)ao.size);
		close(fd);
		return RW_EXIT_USAGE;
	}
	ao.out = stdout;
	a = analysis_new(&ao, &err);
	if (!a) {
		cli_error(cx->name, "%s", err.msg);
		close(fd);
		return RW_EXIT_USAGE;
	}
	memset(&rg, 0, sizeof(rg));
	for (unsigned i = 0; i < RING; i++)
		rg.buf[i] = xmalloc(CHUNK);
	r = 0;
	t0 = now_mono();
	if (S_ISREG(st.st_mode)) {
		/* Data and holes of a sparse file (lseek(2) SEEK_DATA/SEEK_HOLE). */
		off_t off = 0, size = st.st_size;
		while (off < size && !r) {
			off_t data = lseek(fd, off, SEEK_DATA), hole;
			if (data < 0) {
				if (errno != ENXIO) {
					data = off;       /* no SEEK_DATA: read everything */
				} else {
					analysis_hole(a, base + (uint64_t)off, (uint64_t)(size - off), MEMREAD_HOLE_NOT_PRESENT);
					break;
				}
			}
			if (data > off)
				analysis_hole(a, base + (uint64_t)off, (uint64_t)(data - off), MEMREAD_HOLE_NOT_PRESENT);
			hole = lseek(fd, data, SEEK_HOLE);
			if (hole < 0 || hole > size)
				hole = size;
			r = feed_range(fd, &rg, data, hole - data, base, a);
			off = hole;
		}
	} else {
		uint64_t off = 0;
		for (;;) {
			ssize_t n = read(fd, ring_next(&rg, a), CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -errno;
				break;
			}
			if (n == 0)
				break;
			if (off > UINT64_MAX - base || (uint64_t)n - 1 > UINT64_MAX - base - off) {
				cli_error(cx->name, "--base 0x%llx: %s goes on past the top of the "
					  "address space; analysed up to there",
					  (unsigned long long)base, path);
				rc = RW_EXIT_FAIL;
				break;
			}
			ring_feed(&rg, a, base + off, (size_t)n);
			off += (uint64_t)n;
		}
		a->o.size = off;
	}
	if (r) {
		cli_error(cx->name, "%s: %s", path, strerror(-r));
		rc = RW_EXIT_FAIL;
	}
	analysis_finish(a);
	if (ao.json) {
		struct dump_info info;
		memset(&info, 0, sizeof(info));
		info.file = path;
		info.start = base;
		info.end = base + a->o.size;
		info.read_ms = (now_mono() - t0) * 1e3;
		info.freeze_ms = -1;
		out_json_dump(stdout, &info, a);
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	for (unsigned i = 0; i < RING; i++)
		free(rg.buf[i]);
	analysis_free(a);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}
