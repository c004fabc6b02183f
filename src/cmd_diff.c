/* cmd_diff: regionwatch diff A B [--json] [--all] [--sort delta|rss|addr] [--min-delta SIZE] */
#include "cli.h"
#include "diff.h"
#include "out_json.h"
#include "out_table.h"
#include "snapfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cmd_diff_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch diff A B [--json] [--all] [--sort delta|rss|addr] [--min-delta SIZE]\n"
		"Compare two snapshots of one process. A and B may each be a regionwatch snapshot,\n"
		"a plain copy of /proc/PID/smaps, or 'pmap -x' / 'pmap -X' / 'pmap -XX' output\n"
		"(detected from the text; '-' reads standard input).\n\n"
		"Regions are matched by address overlap, not start address: VMAs that split, merged\n"
		"or moved their rw/---p boundary between A and B form one row, with status added,\n"
		"removed, grown, shrunk or same (by RSS). The KIND column is a heuristic label.\n\n"
		"  --sort KEY        delta (default: largest RSS growth first), rss, or addr\n"
		"  --all             also list rows whose RSS did not change\n"
		"  --min-delta SIZE  only rows whose RSS changed by at least SIZE (e.g. 1M)\n"
		"  --json            one JSON document (regions with status, rss_a, rss_b, delta;\n"
		"                    totals); integers are bytes\n"
		"  -h, --help        this help\n\n"
		"Exit status: 0 compared; 1 a file is unreadable or not smaps/pmap text (the message\n"
		"names the line); 2 usage error, including the same file given twice.\n");
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return 1;
	if (stat(a, &sa) || stat(b, &sb))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
}

/* The rows a diff run writes. With --json --sort addr they are written as they are made
 * (address order). Otherwise they are sorted, or the table needs its column width first, so
 * rows are kept until the end, but only those that will be shown, and of those the rows
 * whose sort key is 0 (delta 0 for --sort delta, no RSS for --sort rss, every row for the
 * table's --sort addr) go to a temporary file instead: they sort after the others (delta 0
 * between growth and shrinkage) in address order, which is the order they are made in. So
 * memory holds the changed rows shown, not the unchanged ones. */
struct diff_run {
	int json, all, discard, direct;
	enum diff_sort sort;
	uint64_t min_delta;
	struct snapfile_stream in[2];
	/* json */
	int first, anon_known, swap_known;
	/* table */
	struct diff_result kept;
	struct snapshot *reps;        /* kept.rows[i].rep is reps->regions[i] */
	size_t cap;
	FILE *spill;
	size_t spilled, hidden;
	int aw;
};

static int sort_key_zero(const struct diff_run *run, const struct diff_row *row)
{
	switch (run->sort) {
	case DIFF_SORT_ADDR:
		return 1;
	case DIFF_SORT_RSS:
		return !row->rss_a && !row->rss_b;
	case DIFF_SORT_DELTA:
		break;
	}
	return !row->delta;
}

static int write_row(struct diff_run *run, const struct diff_row *row, size_t *shown)
{
	if (!run->json) {
		out_table_diff_row(stdout, row, run->aw, shown);
		return 0;
	}
	(*shown)++;
	if (out_json_diff_row(stdout, row, run->anon_known, run->swap_known, run->first))
		return -EIO;
	run->first = 0;
	return 0;
}

static int spill_row(struct diff_run *run, const struct diff_row *row)
{
	uint32_t len = (uint32_t)strlen(row->rep->path);
	uint8_t kind = row->rep->kind;

	if (!run->spill && !(run->spill = tmpfile()))
		return -errno;
	if (fwrite(row, sizeof(*row), 1, run->spill) != 1 ||
	    fwrite(&kind, 1, 1, run->spill) != 1 || fwrite(&len, sizeof(len), 1, run->spill) != 1 ||
	    fwrite(row->rep->path, 1, len, run->spill) != len)
		return -EIO;
	run->spilled++;
	return 0;
}

static int replay_spill(struct diff_run *run, size_t *shown)
{
	struct diff_row row;
	struct region rep;
	char *path = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!run->spill)
		return 0;
	rewind(run->spill);
	memset(&rep, 0, sizeof(rep));
	for (size_t i = 0; i < run->spilled && !rc; i++) {
		uint8_t kind;
		uint32_t len;
		if (fread(&row, sizeof(row), 1, run->spill) != 1 || fread(&kind, 1, 1, run->spill) != 1 ||
		    fread(&len, sizeof(len), 1, run->spill) != 1) {
			rc = -EIO;
			break;
		}
		if (len + 1 > cap) {
			cap = len + 256;
			path = xrealloc(path, cap);
		}
		if (fread(path, 1, len, run->spill) != len) {
			rc = -EIO;
			break;
		}
		path[len] = '\0';
		rep.kind = kind;
		rep.path = path;
		row.rep = &rep;
		rc = write_row(run, &row, shown);
	}
	free(path);
	return rc;
}

static int on_row(void *ctx, const struct diff_row *row)
{
	struct diff_run *run = ctx;
	struct region *rep;

	if (!diff_row_shown(row, run->all, run->min_delta)) {
		run->hidden++;
		return 0;
	}
	if (run->discard)
		return 0;
	if (run->direct) {
		/* the fields seen so far: for the kernel's text, those of the first record */
		const struct snapshot *a = snapfile_stream_snapshot(&run->in[0]);
		const struct snapshot *b = snapfile_stream_snapshot(&run->in[1]);
		size_t shown = 0;
		run->anon_known = snapshot_has_field(a, RF_ANONYMOUS) && snapshot_has_field(b, RF_ANONYMOUS);
		run->swap_known = snapshot_has_field(a, RF_SWAP) && snapshot_has_field(b, RF_SWAP);
		return write_row(run, row, &shown);
	}
	if (out_table_diff_width(row) > run->aw)
		run->aw = out_table_diff_width(row);
	if (sort_key_zero(run, row))
		return spill_row(run, row);
	if (run->kept.count == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 256;
		run->kept.rows = xreallocarray(run->kept.rows, run->cap, sizeof(*run->kept.rows));
	}
	run->kept.rows[run->kept.count++] = *row;
	rep = snapshot_add(run->reps);
	*rep = *row->rep;
	rep->path = snapshot_strdup(run->reps, row->rep->path, strlen(row->rep->path));
	rep->vmflags = "";
	return 0;
}

static int src_peek(void *ctx, const struct region **r)
{
	return snapfile_stream_peek(ctx, r, NULL);
}

static void src_pop(void *ctx)
{
	snapfile_stream_pop(ctx);
}

static int run_open(struct diff_run *run, char **names, struct rw_err *err)
{
	if (snapfile_stream_open(&run->in[0], names[0], err))
		return -1;
	if (snapfile_stream_open(&run->in[1], names[1], err))
		return -1;
	return 0;
}

static void run_close(struct diff_run *run)
{
	snapfile_stream_close(&run->in[0]);
	snapfile_stream_close(&run->in[1]);
	diff_free(&run->kept);
	snapshot_free(run->reps);
	run->reps = NULL;
	run->cap = 0;
	if (run->spill)
		fclose(run->spill);
	run->spill = NULL;
	run->spilled = run->hidden = 0;
}

/* The streams' first error (it names the file and line), or the row writer's. */
static int run_diff(struct diff_run *run, struct diff_totals *t, struct rw_err *err)
{
	struct diff_source sa = { src_peek, src_pop, &run->in[0] };
	struct diff_source sb = { src_peek, src_pop, &run->in[1] };
	int rc;

	run->first = 1;
	run->aw = 7;
	run->reps = snapshot_new();
	rc = diff_stream(&sa, &sb, on_row, run, t);
	for (int i = 0; i < 2 && rc; i++)
		if (run->in[i].rc) {
			*err = run->in[i].err;
			return rc;
		}
	if (rc)
		rw_err_set(err, -rc, "writing the rows failed: %s", strerror(-rc));
	else {
		const struct snapshot *a = snapfile_stream_snapshot(&run->in[0]);
		const struct snapshot *b = snapfile_stream_snapshot(&run->in[1]);
		t->anon_known = snapshot_has_field(a, RF_ANONYMOUS) && snapshot_has_field(b, RF_ANONYMOUS);
		t->swap_known = snapshot_has_field(a, RF_SWAP) && snapshot_has_field(b, RF_SWAP);
	}
	return rc;
}

/* The kept rows, sorted, and the spilled ones; the table's head and foot around them. */
static int print_rows(struct diff_run *run, const struct diff_totals *t,
		      const struct diff_table_opts *to)
{
	const struct snapshot *a = snapfile_stream_snapshot(&run->in[0]);
	const struct snapshot *b = snapfile_stream_snapshot(&run->in[1]);
	size_t shown = 0, i = 0;
	int rc = 0;

	run->anon_known = t->anon_known;
	run->swap_known = t->swap_known;
	for (size_t k = 0; k < run->kept.count; k++)
		run->kept.rows[k].rep = &run->reps->regions[k];
	diff_sort(&run->kept, run->sort);
	if (!run->json)
		out_table_diff_head(stdout, a, b, t, to);
	else if (out_json_diff_begin(stdout))
		return -EIO;
	/* growth, then the rows of delta 0 in address order, then shrinkage (cmp_delta) */
	for (; i < run->kept.count && !rc; i++) {
		if (run->sort == DIFF_SORT_DELTA && run->kept.rows[i].delta < 0)
			break;
		rc = write_row(run, &run->kept.rows[i], &shown);
	}
	if (!rc && replay_spill(run, &shown)) {
		cli_error("diff", "reading back the rows kept in a temporary file failed");
		rc = -EIO;
	}
	for (; i < run->kept.count && !rc; i++)
		rc = write_row(run, &run->kept.rows[i], &shown);
	if (!run->json)
		out_table_diff_foot(stdout, a, b, t, shown, run->hidden, to);
	return rc;
}

int cmd_diff(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "sort", required_argument, NULL, 's' },
		{ "min-delta", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = RW_EXIT_OK;
	struct diff_run run;
	struct diff_totals t;
	struct rw_err err;

	memset(&run, 0, sizeof(run));
	run.sort = DIFF_SORT_DELTA;
	while ((c = cli_getopt(cx, argc, argv, "a", opts)) > 0) {
		switch (c) {
		case 'a':
			run.all = 1;
			break;
		case 's':
			if (!strcmp(optarg, "delta"))
				run.sort = DIFF_SORT_DELTA;
			else if (!strcmp(optarg, "rss"))
				run.sort = DIFF_SORT_RSS;
			else if (!strcmp(optarg, "addr"))
				run.sort = DIFF_SORT_ADDR;
			else {
				cli_error(cx->name, "--sort takes delta, rss or addr, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'm':
			if (parse_size(optarg, &run.min_delta)) {
				cli_error(cx->name, "invalid size '%s' for --min-delta (e.g. 512K, 4M)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	run.json = cx->json;
	run.direct = run.json && run.sort == DIFF_SORT_ADDR;
	if (argc - optind != 2) {
		cli_error(cx->name, "need two inputs, A and B (got %d)", argc - optind);
		return RW_EXIT_USAGE;
	}
	if (same_file(argv[optind], argv[optind + 1])) {
		cli_error(cx->name, "A and B are the same file ('%s'); give two snapshots",
			  argv[optind]);
		return RW_EXIT_USAGE;
	}
	if (run_open(&run, argv + optind, &err))
		goto failed;
	/* Rows written as they are made (run.direct): a regular file that is one of our snapshots
	 * without its closing line was cut short: a pass without output finds the line to name,
	 * so no row is written for it. (A pipe cannot be read twice: its error comes after the
	 * rows, and the document is left unclosed.) */
	if (run.direct && (!run.in[0].tail_ok || !run.in[1].tail_ok)) {
		run.discard = 1;
		if (run_diff(&run, &t, &err))
			goto failed;
		run_close(&run);
		run.discard = 0;
		if (run_open(&run, argv + optind, &err))
			goto failed;
	}
	if (run.direct && out_json_diff_begin(stdout)) {
		rw_err_set(&err, EIO, "writing standard output failed");
		goto failed;
	}
	if (run_diff(&run, &t, &err))
		goto failed;
	/* A torn read is data, not an error (design §5): say so once per file. */
	for (int i = 0; i < 2; i++) {
		const struct snapshot *x = snapfile_stream_snapshot(&run.in[i]);
		if (x->torn)
			cli_error("diff", "%s: %zu torn record%s (a mapping changed while it was read; "
				  "the later record of each was kept)", argv[optind + i], x->torn,
				  x->torn == 1 ? "" : "s");
	}
	{
		struct diff_table_opts to = { argv[optind], argv[optind + 1], run.all, run.min_delta };
		struct diff_json_opts jo = { argv[optind], argv[optind + 1], run.all, run.min_delta };
		if (!run.direct && print_rows(&run, &t, &to))
			rc = RW_EXIT_FAIL;
		if (run.json && out_json_diff_end(stdout, snapfile_stream_snapshot(&run.in[0]),
						  snapfile_stream_snapshot(&run.in[1]), &t, &jo))
			rc = RW_EXIT_FAIL;
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	run_close(&run);
	return rc;

failed:
	fflush(stdout);
	cli_error(cx->name, "%s", err.msg);
	run_close(&run);
	return RW_EXIT_FAIL;
}
