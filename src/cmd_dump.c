/* cmd_dump: regionwatch dump -p PID --region SPEC [-o FILE] [analyses] [--freeze] [--json]
 * Reads only the pages pagemap reports present (memread); writes a sparse dump and/or runs
 * the analyses in the same pass. */
#include "analysis.h"
#include "cli.h"
#include "dumpfile.h"
#include "inspect.h"
#include "memread.h"
#include "out_json.h"
#include "snapfile.h"
#include "target.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cmd_dump_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch dump -p PID --region SPEC [-o FILE [--force]] [analyses...]\n"
		"                        [--freeze] [--include-dontdump] [--new] [--json]\n"
		"Read the resident pages of a region of a live process and write them to a file and/or\n"
		"analyse them in one pass. Only pages /proc/PID/pagemap reports present are read:\n"
		"reading a never-touched page would allocate it in the target. The target is not\n"
		"stopped unless --freeze is given, so what is read can change while it is read.\n\n"
		"  -p, --pid PID           the process\n"
		"  -r, --region SPEC       an address (0x optional) inside the area to read: the touching\n"
		"                          pieces of one reservation (a Go arena, a glibc arena, [heap]);\n"
		"                          START-END, exactly; a name such as [heap], [stack] or a\n"
		"                          file's path or basename, if it names one area; or top: the\n"
		"                          area ranked first by a 2-second watch\n"
		"  -o, --output FILE       write the bytes: file offset = address - start (gdb 'dump\n"
		"                          binary memory' layout), pages not read left as holes (sparse),\n"
		"                          mode 0600, through a temporary file and rename; FILE.json\n"
		"                          describes what was read. Refuses to replace FILE unless\n"
		"      --force             is given\n"
		"      --freeze            stop every thread (PTRACE_SEIZE + PTRACE_INTERRUPT) for the\n"
		"                          read and the analyses that run with it; says so first and how\n"
		"                          long it took after. Signals that arrive meanwhile are delivered\n"
		"                          afterwards; a stopped process stays stopped\n"
		"      --include-dontdump  also read regions marked MADV_DONTDUMP (VmFlags dd)\n"
		"      --new               only the pages that became resident during a 2 s watch\n"
		"                          (top's own, or one before reading an address or name):\n"
		"                          the grown part; -o keeps them at their offsets\n"
		"  -h, --help              this help\n\n"
		"%s\n"
		"Never read: [vvar], VmFlags io, pf, um, uw (and dd unless asked), pages not present or\n"
		"swapped out. A summary of what was read and skipped goes to standard error.\n\n"
		"Exit status: 0 read (some pages may have been holes: see the summary); 1 no such\n"
		"process, permission denied, the target exited during the read (what was read is\n"
		"analysed and reported; no incomplete FILE is kept), or a write error (no file is\n"
		"left); 2 usage error.\n",
		cli_analysis_help);
}

#define NEW_MAX_RUNS (1u << 18)          /* present runs kept for --new: 4 MiB */

/* Add the present runs of [start, end) (pagemap only: nothing is read) to rs, which must
 * stay in address order. -ENOSPC past NEW_MAX_RUNS. */
static int add_present(const struct procfs *p, uint64_t start, uint64_t end, struct dumpfile_ranges *rs,
		       struct rw_err *err)
{
	uint64_t *runs = xmalloc(2 * sizeof(*runs) * 4096);
	uint64_t at = start;
	int rc = 0;

	while (at < end && !rc) {
		size_t n = 0;
		rc = memread_present_runs(p, at, end, runs, 4096, &n, err);
		if (rc && rc != -ENOSPC)
			break;
		for (size_t i = 0; i < n; i++)
			dumpfile_ranges_add(rs, runs[2 * i], runs[2 * i + 1]);
		if (rs->n > NEW_MAX_RUNS) {
			rc = rw_err_set(err, ENOSPC, "--new: more than %u runs of present pages",
					NEW_MAX_RUNS);
			break;
		}
		if (rc == -ENOSPC && n) {
			at = runs[2 * n - 1];   /* more runs than fitted: go on after the last */
			rc = 0;
		} else {
			break;
		}
	}
	free(runs);
	return rc;
}

/* out = the present runs of rs now, less those in base (both in address order). */
static int subtract_new(const struct procfs *p, const struct dumpfile_ranges *rs, const struct dumpfile_ranges *base,
			struct dumpfile_ranges *out, struct rw_err *err)
{
	struct dumpfile_ranges now = { 0 };
	size_t j = 0;
	int rc = 0;

	for (size_t i = 0; i < rs->n && !rc; i++)
		rc = add_present(p, rs->r[i][0], rs->r[i][1], &now, err);
	for (size_t i = 0; i < now.n && !rc; i++) {
		uint64_t s = now.r[i][0], e = now.r[i][1];
		while (j < base->n && base->r[j][1] <= s)
			j++;
		for (size_t k = j; k < base->n && base->r[k][0] < e && s < e; k++) {
			if (base->r[k][0] > s)
				dumpfile_ranges_add(out, s, base->r[k][0]);
			if (base->r[k][1] > s)
				s = base->r[k][1];
		}
		if (s < e)
			dumpfile_ranges_add(out, s, e);
	}
	free(now.r);
	return rc;
}

/* --region top: watch for 2 s (9 samples, 0.25 s apart) and take the first row if it grows.
 * It is then resolved against a fresh read of smaps, just before the read: an area that
 * moved or vanished since its last sample (mremap, munmap) is picked again from a new
 * sample, up to 3 times. Leaves the fresh snapshot in *snap. */
static int resolve_top(const struct procfs *p, pid_t pid, struct snapshot **snap,
		       struct dumpfile_ranges *rs, struct dumpfile_ranges *base, struct rw_err *err)
{
	struct watch w;
	struct watch_opts wo = { pid, 0.25, 2.0, 0 };
	int rc;

	rc = watch_open(&w, &wo, err);
	for (int i = 0; i < 9 && !rc; i++) {
		rc = watch_step(&w, err);
		/* --new: what is present at the first sample, in the areas a leak grows in */
		for (size_t k = 0; !rc && !i && base && k < w.sm.snap->count; k++) {
			const struct region *r = &w.sm.snap->regions[k];
			if (inspect_growth_kind(r->kind))
				rc = add_present(p, r->start, r->end, base, err);
		}
		if (!rc && i < 8)
			usleep(250000);
	}
	for (int tries = 0; !rc; tries++) {
		const struct area_stats *st;
		const struct area *a;
		const struct pool *pool;
		size_t gone = 0;
		char r[32];

		watch_rank(&w, 1);
		a = watch_top_growing(&w, &st);
		if (!a) {
			rc = rw_err_set(err, ENOENT, "--region top: nothing grows (%llu samples over "
					"%.1f s): no area to choose; give an address or a name",
					(unsigned long long)w.tl.seq, w.t_last - w.t0);
			break;
		}
		pool = w.rank_pool[0];
		snapshot_free(*snap);
		*snap = NULL;
		rc = snapfile_capture(p, snap, err);
		if (rc)
			break;
		/* The row against the fresh map: a pool is all its members (those still mapped). */
		rs->n = 0;
		if (pool) {
			for (size_t i = 0; i < pool->nmembers; i++)
				gone += !dumpfile_ranges_add_area(rs, *snap, pool->members[i]->start);
		} else {
			gone = !dumpfile_ranges_add_area(rs, *snap, a->start);
		}
		if (rs->n) {
			fprintf(stderr, "regionwatch: dump: --region top: %llx-%llx (%s %s, %s/s over "
				"%.1f s)", (unsigned long long)rs->r[0][0],
				(unsigned long long)rs->r[rs->n - 1][1], trend_name(st->trend),
				pool ? a->path : region_kind_name(a->kind),
				fmt_delta((int64_t)st->rate, r, sizeof(r)), w.t_last - w.t0);
			if (pool)
				fprintf(stderr, ": its %zu member%s read as %zu range%s%s", pool->nmembers,
					pool->nmembers == 1 ? "" : "s", rs->n, rs->n == 1 ? "" : "s",
					gone ? " (some gone from the map since their last sample)" : "");
			fputc('\n', stderr);
			break;
		}
		if (tries == 2) {
			rc = rw_err_set(err, ESTALE, "--region top: the area ranked first kept moving "
					"(last at %llx-%llx, gone from the map when it was to be read)",
					(unsigned long long)a->start, (unsigned long long)a->end);
			break;
		}
		fprintf(stderr, "regionwatch: dump: --region top: %llx-%llx moved or was unmapped "
			"after its last sample; choosing again\n", (unsigned long long)a->start,
			(unsigned long long)a->end);
		rc = watch_step(&w, err);
	}
	if (w.exited && rc == -ESRCH)
		rc = rw_err_set(err, ESRCH, "process %d exited while --region top watched it", (int)pid);
	watch_close(&w);
	return rc;
}



enum { OPT_FORCE = CLI_OPT_OWN, OPT_FREEZE, OPT_DONTDUMP, OPT_NEW };

/* -o FILE must be a new regular file (or --force), and so must FILE.json. Exit status or 0. */
static int check_output(const struct cli_ctx *cx, const char *out, int force)
{
	struct stat ost;
	char mpath[PATH_MAX];

	if (!strcmp(out, "-")) {
		cli_error(cx->name, "-o needs a file name: a dump is a sparse file, not a stream");
		return RW_EXIT_USAGE;
	}
	if (stat(out, &ost) == 0 && !S_ISREG(ost.st_mode)) {
		cli_error(cx->name, "%s: not a regular file (a dump is written to a new file and renamed)", out);
		return RW_EXIT_FAIL;
	}
	snprintf(mpath, sizeof(mpath), "%s.json", out);
	if (!force && (access(out, F_OK) == 0 || access(mpath, F_OK) == 0)) {
		cli_error(cx->name, "%s: file exists (use --force to replace it)",
			  access(out, F_OK) == 0 ? out : mpath);
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* --region SPEC against a fresh map (top: the growing area, resolved again before the
 * read). Leaves the map in *snap. Exit status or 0. */
static int resolve_spec(const struct cli_ctx *cx, const struct procfs *p, const char *spec,
			struct snapshot **snap, struct dumpfile_ranges *rs, struct dumpfile_ranges *base)
{
	struct rw_err err;
	uint64_t start, end;
	size_t first;
	int r;

	if (!strcmp(spec, "top"))
		r = resolve_top(p, p->pid, snap, rs, base, &err) ? RW_EXIT_FAIL : 0;
	else if (snapfile_capture(p, snap, &err))
		r = RW_EXIT_FAIL;
	else if ((r = memread_resolve(*snap, spec, &start, &end, &first, &err)))
		r = r == -EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	else
		dumpfile_ranges_add(rs, start, end);
	if (!r && base && strcmp(spec, "top")) {
		/* --new on a named range: its present pages now, a watch as short as top's, then
		 * the range again in a fresh map (a growing area has grown: [heap]'s end moves) */
		if (add_present(p, start, end, base, &err)) {
			r = RW_EXIT_FAIL;
		} else {
			usleep(2000000);
			snapshot_free(*snap);
			*snap = NULL;
			rs->n = 0;
			if (snapfile_capture(p, snap, &err))
				r = RW_EXIT_FAIL;
			else if ((r = memread_resolve(*snap, spec, &start, &end, &first, &err)))
				r = r == -EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
			else
				dumpfile_ranges_add(rs, start, end);
		}
	}
	if (r)
		cli_error(cx->name, "%s", err.msg);
	return r;
}

/* Exit 0 with empty analyses would look like an answer: say why nothing was read. */
static void report_nothing_read(const struct cli_ctx *cx, uint64_t start, uint64_t end,
				const struct memread_stats *st, const char *out)
{
	char why[256] = "";
	size_t n = 0;

	for (int h = 0; h < MEMREAD_HOLE_COUNT; h++)
		if (st->pages[h] && n < sizeof(why))
			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s%llu %s", n ? ", " : "",
					      (unsigned long long)st->pages[h],
					      memread_hole_name((enum memread_hole)h));
	cli_error(cx->name, "read nothing from %llx-%llx (pages: %s)%s", (unsigned long long)start,
		  (unsigned long long)end, n ? why : "none", out ? "; no file written" : "");
}

/* The dump committed with its manifest (dumpfile_commit). Exit status or 0; when the
 * manifest failed, the dump was removed and dc->fd is -1. */
static int commit_output(const struct cli_ctx *cx, struct dumpfile *dc, char *tmp, const char *out,
			 const struct dump_info *info, int force)
{
	struct rw_err err;
	int e = dumpfile_commit(dc, tmp, out, info, force, &err);

	if (!e)
		return 0;
	cli_error(cx->name, "%s%s", err.msg, e == -EEXIST ? " (use --force to replace it)" : "");
	return RW_EXIT_FAIL;
}

/* The one summary line on standard error: what was read and what was not, and why. */
static void print_summary(const struct dump_info *info, const struct memread_stats *st, int freeze)
{
	char a[32], b[32];

	fprintf(stderr, "regionwatch: dump: %llx-%llx (%s): read %s in %llu run%s, %llu page%s "
		"present", (unsigned long long)info->start, (unsigned long long)info->end,
		fmt_size(info->end - info->start, a, sizeof(a)), fmt_size(st->bytes_read, b, sizeof(b)),
		(unsigned long long)st->runs, st->runs == 1 ? "" : "s",
		(unsigned long long)st->pages_present, st->pages_present == 1 ? "" : "s");
	for (int h = 0; h < MEMREAD_HOLE_COUNT; h++)
		if (st->pages[h])
			fprintf(stderr, ", %llu %s", (unsigned long long)st->pages[h],
				memread_hole_name((enum memread_hole)h));
	fprintf(stderr, "; %.1f ms", info->read_ms);
	if (freeze)
		fprintf(stderr, "; target stopped for %.1f ms", info->freeze_ms);
	fprintf(stderr, "\n");
}

int cmd_dump(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "freeze", no_argument, NULL, OPT_FREEZE },
		{ "include-dontdump", no_argument, NULL, OPT_DONTDUMP },
		{ "new", no_argument, NULL, OPT_NEW },
		{ NULL, 0, NULL, 0 },
	};
	struct analysis_opts ao;
	const char *spec = NULL, *out = NULL;
	int pid, force = 0, freeze = 0, dontdump = 0, newonly = 0, c, rc = RW_EXIT_OK, r;
	struct procfs p;
	struct snapshot *snap = NULL;
	struct rw_err err;
	uint64_t start, end;
	struct dumpfile_ranges rs = { 0 }, base = { 0 }, fresh = { 0 };
	struct target_freeze frz;
	int frozen = 0;
	struct dumpfile dc;
	struct memread_stats st;
	struct memread_opts mo;
	struct memread_sink sink;
	struct dump_info info;
	char tmp[PATH_MAX + 32] = "";
	double t0, t1;

	memset(&ao, 0, sizeof(ao));
	memset(&dc, 0, sizeof(dc));
	dc.fd = -1;
	cx->analysis = &ao;
	while ((c = cli_getopt(cx, argc, argv, "r:o:", opts)) > 0) {
		switch (c) {
		case 'r':
			spec = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case OPT_FREEZE:
			freeze = 1;
			break;
		case OPT_DONTDUMP:
			dontdump = 1;
			break;
		case OPT_NEW:
			newonly = 1;
			break;
		}
	}
	if (c < 0)
		return cx->status;
	pid = cx->pid;
	if (!pid || !spec) {
		cli_error(cx->name, "give -p PID and --region SPEC (an address, START-END, [heap], or top)");
		return RW_EXIT_USAGE;
	}
	if (cli_analysis_check(cx))
		return RW_EXIT_USAGE;
	if (out && (rc = check_output(cx, out, force)))
		return rc;
	if (procfs_open(pid, &p, &err)) {
		cli_error(cx->name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if ((rc = resolve_spec(cx, &p, spec, &snap, &rs, newonly ? &base : NULL)))
		goto out_snap;
	start = rs.r[0][0];
	end = rs.r[rs.n - 1][1];
	if (out && rs.n > 1) {
		/* A dump file is one range at its offsets; a pool's members can lie terabytes
		 * apart. The analyses read them all without a file. */
		cli_error(cx->name, "--region top is a pool of %zu ranges between %llx and %llx: -o "
			  "needs one range; give --region with one of them (watch --json lists its "
			  "members), or leave out -o", rs.n, (unsigned long long)start,
			  (unsigned long long)end);
		rc = RW_EXIT_USAGE;
		goto out_snap;
	}
	if (newonly) {
		/* Only the pages that became present during the short watch (they are read through
		 * memread all the same: present pages only, checked again). */
		uint64_t bytes = 0;
		if (subtract_new(&p, &rs, &base, &fresh, &err)) {
			cli_error(cx->name, "%s", err.msg);
			rc = RW_EXIT_FAIL;
			goto out_snap;
		}
		if (!fresh.n) {
			cli_error(cx->name, "--new: no page of %llx-%llx became resident during the 2 s "
				  "watch: nothing to read", (unsigned long long)start,
				  (unsigned long long)end);
			rc = RW_EXIT_FAIL;
			goto out_snap;
		}
		for (size_t i = 0; i < fresh.n; i++)
			bytes += fresh.r[i][1] - fresh.r[i][0];
		fprintf(stderr, "regionwatch: dump: --new: %llu pages in %zu run%s became resident "
			"during the watch; only they are read\n", (unsigned long long)(bytes / 4096),
			fresh.n, fresh.n == 1 ? "" : "s");
		free(rs.r);
		rs = fresh;
		fresh = (struct dumpfile_ranges){ 0 };
	}
	ao.base = start;
	ao.size = end - start;
	ao.out = stdout;
	if (ao.strings || ao.top || ao.hexdump || ao.histogram || ao.grep || ao.json) {
		dc.an = analysis_new(&ao, &err);
		if (!dc.an) {
			cli_error(cx->name, "%s", err.msg);
			rc = RW_EXIT_USAGE;
			goto out_snap;
		}
	}
	if (out) {
		/* O_TMPFILE where possible: killed at any moment, we leave no file behind. */
		dc.fd = tmpfile_open(out, 0600, tmp, sizeof(tmp));   /* dumps hold secrets */
		if (dc.fd < 0) {
			cli_error(cx->name, "%s: cannot create a file in its directory: %s", out, strerror(-dc.fd));
			dc.fd = -1;
			rc = RW_EXIT_FAIL;
			goto out_an;
		}
		dc.base = start;
	}
	if (freeze) {
		fprintf(stderr, "regionwatch: dump: stopping every thread of %d for the read "
			"(--freeze)\n", pid);
		if (target_freeze(&p, 2000, &frz, &err)) {
			cli_error(cx->name, "%s", err.msg);
			rc = RW_EXIT_FAIL;
			goto out_file;
		}
		frozen = 1;
		/* The map as it is now, while nothing runs. */
		snapshot_free(snap);
		snap = NULL;
		if (snapfile_capture(&p, &snap, &err)) {
			target_thaw(&frz);
			frozen = 0;
			cli_error(cx->name, "%s", err.msg);
			rc = RW_EXIT_FAIL;
			goto out_file;
		}
	}
	memset(&mo, 0, sizeof(mo));
	mo.include_dontdump = dontdump;
	mo.run = out ? dumpfile_run : NULL;
	mo.run_ctx = &dc;
	sink = (struct memread_sink){ .data = dumpfile_data, .hole = dumpfile_hole, .ctx = &dc };
	if (dc.an) {
		/* the delivering thread goes on to the next buffer while --top's counting
		 * thread finishes this one */
		sink.mark = dumpfile_mark;
		sink.settle = dumpfile_settle;
	}
	if (dc.an && analysis_split(dc.an)) {
		/* the histogram on the reading thread, the rest on the delivering one */
		mo.early_data = analysis_early_data;
		mo.early_hole = analysis_early_hole;
		mo.early_ctx = dc.an;
	}
	target_test_pause("reading");
	t0 = now_mono();
	r = dumpfile_read_ranges(&p, snap, &rs, &mo, &sink, &st, &err);
	if (dc.an)
		analysis_finish(dc.an);
	t1 = now_mono();
	if (frozen) {
		target_thaw(&frz);
		frozen = 0;
	}
	if (r && !st.exited) {
		cli_error(cx->name, "%s", err.msg);
		rc = RW_EXIT_FAIL;
		goto out_file;
	}
	if (!st.bytes_read && !st.exited) {
		report_nothing_read(cx, start, end, &st, out);
		rc = RW_EXIT_FAIL;
		goto out_file;
	}

	dumpfile_info(&info, snap, out, start, end, &dc, &st);
	info.read_ms = (t1 - t0) * 1e3;
	info.freeze_ms = freeze ? (t1 - t0) * 1e3 + frz.freeze_ms : -1;
	if (out && st.exited) {
		/* An incomplete dump is not kept under the final name: no partial file claimed
		 * complete. The analyses above cover what was read. */
		cli_error(cx->name, "process %d exited during the read: %s not written", pid, out);
		rc = RW_EXIT_FAIL;
		goto out_file;
	}
	/* A failed commit keeps nothing and says no more; a failed manifest (the dump removed)
	 * still reports what was read. */
	if (out && (rc = commit_output(cx, &dc, tmp, out, &info, force)) && dc.fd >= 0)
		goto out_file;
	if (ao.json && dc.an)
		out_json_dump(stdout, &info, dc.an);
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	print_summary(&info, &st, freeze);
	if (st.exited) {
		cli_error(cx->name, "process %d exited during the read; what was read before is above", pid);
		rc = RW_EXIT_FAIL;
	}
out_file:
	if (frozen)
		target_thaw(&frz);
	if (dc.fd >= 0)
		close(dc.fd);
	tmpfile_discard(tmp);
out_an:
	analysis_free(dc.an);
	free(dc.runs);
out_snap:
	free(rs.r);
	free(base.r);
	free(fresh.r);
	snapshot_free(snap);
	procfs_close(&p);
	return rc;
}
