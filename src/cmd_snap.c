/* cmd_snap: regionwatch snap -p PID [-o FILE] [--force] */
#include "cli.h"
#include "procfs.h"
#include "snapfile.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

void cmd_snap_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch snap -p PID [-o FILE] [--force]\n"
		"Write one snapshot of /proc/PID/smaps: '#' header lines (pid, time, comm, cmdline,\n"
		"kernel) followed by the kernel's smaps text verbatim, so any smaps reader can read\n"
		"it. Reads /proc only; the target is not stopped or touched.\n\n"
		"  -p, --pid PID    the process\n"
		"  -o, --output F   write to F (default: standard output). F is written to a\n"
		"                   temporary file beside it and renamed when complete; mode 0644\n"
		"  -f, --force      replace F if it exists (default: refuse)\n"
		"  -h, --help       this help\n\n"
		"Exit status: 0 written; 1 no such process, permission denied, target exited\n"
		"during the read, or a write error (nothing is left under F); 2 usage error.\n");
}

int cmd_snap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int pid = 0, flags = 0, c, rc;
	struct procfs p;
	struct rw_err err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:o:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid)) {
				cli_error("snap", "invalid pid '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			flags |= SNAPFILE_FORCE;
			break;
		case 'h':
			cmd_snap_help(stdout);
			return RW_EXIT_OK;
		default:
			cli_error("snap", "unknown or incomplete option '%s' (see 'regionwatch snap --help')",
				  argv[optind - 1]);
			return RW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("snap", "unexpected argument '%s'", argv[optind]);
		return RW_EXIT_USAGE;
	}
	if (!pid) {
		cli_error("snap", "which process? give -p PID");
		return RW_EXIT_USAGE;
	}
	if (procfs_open(pid, &p, &err)) {
		cli_error("snap", "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	rc = snapfile_write(&p, out, flags, NULL, NULL, &err);
	procfs_close(&p);
	if (rc) {
		cli_error("snap", "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	return RW_EXIT_OK;
}
