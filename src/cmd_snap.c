/* cmd_snap: regionwatch snap -p PID [-o FILE] [--force] */
#include "cli.h"
#include "procfs.h"
#include "snapfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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

int cmd_snap(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int pid, flags = 0, c, rc;
	struct procfs p;
	struct rw_err err;

	while ((c = cli_getopt(cx, argc, argv, "o:f", opts)) > 0) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			flags |= SNAPFILE_FORCE;
			break;
		}
	}
	if (c < 0)
		return cx->status;
	pid = cx->pid;
	if (!pid) {
		cli_error(cx->name, "which process? give -p PID");
		return RW_EXIT_USAGE;
	}
	if (procfs_open(pid, &p, &err)) {
		cli_error(cx->name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if ((!out || !strcmp(out, "-")) && isatty(STDOUT_FILENO))
		flags |= SNAPFILE_ESCAPE;
	rc = snapfile_write(&p, out, flags, NULL, NULL, &err);
	procfs_close(&p);
	if (rc) {
		cli_error(cx->name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	return RW_EXIT_OK;
}
