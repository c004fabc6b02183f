/* cmd_diff: regionwatch diff A B [--json] [--all] [--sort delta|rss|addr] [--min-delta SIZE] */
#include "cli.h"
#include "diff.h"
#include "out_json.h"
#include "out_table.h"
#include "snapfile.h"

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

int cmd_diff(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "sort", required_argument, NULL, 's' },
		{ "min-delta", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int json, all = 0, c, rc = RW_EXIT_OK;
	enum diff_sort sort = DIFF_SORT_DELTA;
	uint64_t min_delta = 0;
	struct snapshot *a = NULL, *b = NULL;
	struct diff_result res;
	struct rw_err err;

	while ((c = cli_getopt(cx, argc, argv, "a", opts)) > 0) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 's':
			if (!strcmp(optarg, "delta"))
				sort = DIFF_SORT_DELTA;
			else if (!strcmp(optarg, "rss"))
				sort = DIFF_SORT_RSS;
			else if (!strcmp(optarg, "addr"))
				sort = DIFF_SORT_ADDR;
			else {
				cli_error(cx->name, "--sort takes delta, rss or addr, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'm':
			if (parse_size(optarg, &min_delta)) {
				cli_error(cx->name, "invalid size '%s' for --min-delta (e.g. 512K, 4M)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	json = cx->json;
	if (argc - optind != 2) {
		cli_error(cx->name, "need two inputs, A and B (got %d)", argc - optind);
		return RW_EXIT_USAGE;
	}
	if (same_file(argv[optind], argv[optind + 1])) {
		cli_error(cx->name, "A and B are the same file ('%s'); give two snapshots",
			  argv[optind]);
		return RW_EXIT_USAGE;
	}
	if (snapfile_load(argv[optind], &a, &err) || snapfile_load(argv[optind + 1], &b, &err)) {
		cli_error(cx->name, "%s", err.msg);
		snapshot_free(a);
		return RW_EXIT_FAIL;
	}
	/* A torn read is data, not an error (design §5): say so once per file. */
	for (int i = 0; i < 2; i++) {
		const struct snapshot *x = i ? b : a;
		if (x->torn)
			cli_error("diff", "%s: %zu torn record%s (a mapping changed while it was read; "
				  "the later record of each was kept)", argv[optind + i], x->torn,
				  x->torn == 1 ? "" : "s");
	}
	diff_compute(a, b, &res);
	diff_sort(&res, sort);
	if (json) {
		struct diff_json_opts jo = { argv[optind], argv[optind + 1], all, min_delta };
		if (out_json_diff(stdout, a, b, &res, &jo))
			rc = RW_EXIT_FAIL;
	} else {
		struct diff_table_opts to = { argv[optind], argv[optind + 1], all, min_delta };
		out_table_diff(stdout, a, b, &res, &to);
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	diff_free(&res);
	snapshot_free(a);
	snapshot_free(b);
	return rc;
}
