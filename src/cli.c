/* cli: the command table (it also feeds --help) and diagnostics. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

const char *rw_version = RW_VERSION;

const struct cli_command cli_commands[] = {
	{ "snap", "snap -p PID [-o FILE] [--force]",
	  "write one snapshot of /proc/PID/smaps (with a '#' header)", cmd_snap, cmd_snap_help },
	{ "diff", "diff A B [--json] [--all] [--sort delta|rss|addr] [--min-delta SIZE]",
	  "compare two snapshots, smaps copies or pmap -x/-X outputs", cmd_diff, cmd_diff_help },
	{ "watch", "watch -p PID [-i S] [-n COUNT] [--window S] [--top K] [--json]",
	  "sample repeatedly and rank the areas that grow like a leak", cmd_watch, cmd_watch_help },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct cli_command *cli_find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void cli_usage(FILE *fp)
{
	fprintf(fp, "usage: regionwatch COMMAND [OPTIONS]\n"
		    "Find which memory regions of a running Linux process grow, and what is in them.\n"
		    "Read-only toward the target.\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(fp, "  regionwatch %s\n      %s\n", c->synopsis, c->summary);
	fprintf(fp, "  regionwatch [watch options] -- CMD [ARG...]\n"
		    "      start CMD and watch it from its first sample; exit with its status\n"
		    "\nNot built yet: the live monitor (regionwatch -p PID prints the watch output\n"
		    "for now), dump, analyze, stacks.\n\n"
		    "  -h, --help       this help; 'regionwatch COMMAND --help' for a command\n"
		    "  -V, --version    print the version\n\n"
		    "Sizes take K/M/G suffixes (binary units); addresses are hex, 0x optional.\n"
		    "Exit status: 0 success, 1 runtime failure (target gone, permission, I/O, bad\n"
		    "input file), 2 usage error.\n");
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (cmd)
		fprintf(stderr, "regionwatch: %s: ", cmd);
	else
		fprintf(stderr, "regionwatch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
