/* cli: the command table (it also feeds --help) and diagnostics. */
#include "cli.h"
#include "analysis.h"

#include <errno.h>
#include <stdlib.h>

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
	{ "dump", "dump -p PID --region SPEC [-o FILE] [--strings[=gnu]] [--top N] [--hexdump] [--histogram] [--grep RE] [--freeze] [--json]",
	  "read a region's resident pages; write them and/or analyse them", cmd_dump, cmd_dump_help },
	{ "analyze", "analyze FILE [--base ADDR] [--strings[=gnu]] [--top N] [--hexdump] [--histogram] [--grep RE] [--json]",
	  "the same analyses on a dump file (ours, gdb's, a core's segment)", cmd_analyze, cmd_analyze_help },
	{ "stacks", "stacks -p PID [--json] [--max-frames N]",
	  "thread backtraces (stops the threads for a moment; libunwind-ptrace)", cmd_stacks, cmd_stacks_help },
	{ NULL, NULL, NULL, NULL, NULL },
};

const char cli_analysis_help[] =
	"analyses (one pass, any combination; text goes to standard output):\n"
	"  --strings[=gnu]       printable strings with their addresses; =gnu prints exactly\n"
	"                        what GNU 'strings -a -n MIN' prints for the same bytes\n"
	"  -n MIN                shortest string (default 4)\n"
	"  --encoding E          ascii (default), utf16le, or both (not with =gnu)\n"
	"  -t x                  with --strings=gnu: the file offset before each string, like\n"
	"                        strings -t x (offsets count from the region start)\n"
	"  --top N               the N most repeated strings, and the N most repeated shapes:\n"
	"                        strings with digit runs and hex ids replaced by '#'\n"
	"  --hexdump             'hexdump -C' output with target addresses as offsets\n"
	"  --offsets file        with --hexdump: offsets from the region start, making the\n"
	"                        output identical to hexdump -C of the dump file\n"
	"  --histogram           byte counts, entropy, zero pages, and a guess per 64 KiB block\n"
	"                        (zeros, text, pointers, high-entropy, pattern, mixed)\n"
	"  --grep REGEX          PCRE2 matches with their addresses (JIT; at most 1000 listed;\n"
	"                        a match longer than 4096 bytes across a chunk boundary is missed)\n"
	"  --json                one JSON document instead of text (not with --hexdump)\n"
	"Pages that were not read (not present, skipped) are holes: they break strings, read as\n"
	"zeros in the hexdump, and are not counted in the histogram.\n";

int cli_analysis_opt(const char *cmd, int c, const char *arg, struct analysis_opts *o)
{
	char *end;
	unsigned long v;

	switch (c) {
	case OPT_STRINGS:
		o->strings = 1;
		if (arg && !strcmp(arg, "gnu"))
			o->gnu = 1;
		else if (arg) {
			cli_error(cmd, "--strings takes no value or =gnu, not '%s'", arg);
			return -1;
		}
		return 1;
	case 'n':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v < 1 || v > 4096) {
			cli_error(cmd, "-n takes a length from 1 to 4096, not '%s'", arg);
			return -1;
		}
		o->min_len = v;
		return 1;
	case 't':
		if (strcmp(arg, "x")) {
			cli_error(cmd, "-t takes x (hexadecimal offsets), not '%s'", arg);
			return -1;
		}
		o->gnu_radix_hex = 1;
		return 1;
	case OPT_ENCODING:
		if (!strcmp(arg, "ascii"))
			o->encodings = SCAN_ENC_ASCII;
		else if (!strcmp(arg, "utf16le"))
			o->encodings = SCAN_ENC_UTF16LE;
		else if (!strcmp(arg, "both"))
			o->encodings = SCAN_ENC_BOTH;
		else {
			cli_error(cmd, "--encoding takes ascii, utf16le or both, not '%s'", arg);
			return -1;
		}
		return 1;
	case OPT_TOP:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v < 1 || v > 10000) {
			cli_error(cmd, "--top takes a count from 1 to 10000, not '%s'", arg);
			return -1;
		}
		o->top = v;
		return 1;
	case OPT_HEXDUMP:
		o->hexdump = 1;
		return 1;
	case OPT_OFFSETS:
		if (!strcmp(arg, "file"))
			o->hexdump_file_offsets = 1;
		else if (!strcmp(arg, "address"))
			o->hexdump_file_offsets = 0;
		else {
			cli_error(cmd, "--offsets takes file or address, not '%s'", arg);
			return -1;
		}
		return 1;
	case OPT_HISTOGRAM:
		o->histogram = 1;
		return 1;
	case OPT_GREP:
		o->grep = arg;
		return 1;
	case OPT_JSON:
		o->json = 1;
		return 1;
	default:
		return 0;
	}
}

int cli_analysis_check(const char *cmd, struct analysis_opts *o)
{
	if (o->hexdump && o->json) {
		cli_error(cmd, "--hexdump is text; it does not combine with --json");
		return -1;
	}
	if (o->hexdump && o->strings && !o->json) {
		cli_error(cmd, "--hexdump and --strings both stream text: run one at a time (or write "
			  "the region with -o and analyze the file twice)");
		return -1;
	}
	if (o->gnu && o->encodings == SCAN_ENC_BOTH) {
		cli_error(cmd, "--strings=gnu reads one encoding at a time, like strings -e");
		return -1;
	}
	if (o->gnu_radix_hex && !o->gnu) {
		cli_error(cmd, "-t x goes with --strings=gnu");
		return -1;
	}
	if (o->hexdump_file_offsets && !o->hexdump) {
		cli_error(cmd, "--offsets goes with --hexdump");
		return -1;
	}
	return 0;
}

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
		    "  regionwatch -p PID [-i S] [--iterations N] [--color WHEN] [--batch]\n"
		    "      the live monitor (ncurses) on a terminal; the watch output otherwise\n\n"
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
