/* cli: the command table (it also feeds --help), the option parser it drives, diagnostics. */
#include "cli.h"
#include "analysis.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *rw_version = RW_VERSION;

const struct cli_command cli_commands[] = {
	{ "snap", "snap -p PID [-o FILE] [--force]",
	  "write one snapshot of /proc/PID/smaps (with a '#' header)",
	  CLI_PID | CLI_IN_ORDER, cmd_snap, cmd_snap_help },
	{ "diff", "diff A B [--json] [--all] [--sort delta|rss|addr] [--min-delta SIZE]",
	  "compare two snapshots, smaps copies or pmap -x/-X outputs",
	  CLI_JSON | CLI_OPERANDS, cmd_diff, cmd_diff_help },
	{ "watch", "watch -p PID[,PID...]|--cgroup DIR [-i S] [-n COUNT] [--window S] [--top K] [--content [--content-budget SIZE] [--grep RE]] [--json]",
	  "sample repeatedly and rank the areas that grow like a leak",
	  /* operands: -- CMD [ARG...]; in order, so CMD's own options stay CMD's */
	  CLI_PID | CLI_PID_LIST | CLI_JSON | CLI_INTERVAL | CLI_OPERANDS | CLI_IN_ORDER | CLI_CONTENT,
	  cmd_watch, cmd_watch_help },
	{ "dump", "dump -p PID --region SPEC [-o FILE] [--strings[=gnu]] [--top N] [--hexdump] [--histogram] [--grep RE] [--freeze] [--new] [--json]",
	  "read a region's resident pages; write them and/or analyse them",
	  CLI_PID | CLI_JSON | CLI_ANALYSIS, cmd_dump, cmd_dump_help },
	{ "analyze", "analyze FILE [--base ADDR] [--strings[=gnu]] [--top N] [--hexdump] [--histogram] [--grep RE] [--json]",
	  "the same analyses on a dump file (ours, gdb's, a core's segment)",
	  CLI_JSON | CLI_ANALYSIS | CLI_OPERANDS, cmd_analyze, cmd_analyze_help },
	{ "stacks", "stacks -p PID [--json] [--max-frames N]",
	  "thread backtraces (stops the threads for a moment; libunwind-ptrace)",
	  CLI_PID | CLI_JSON, cmd_stacks, cmd_stacks_help },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};

/* Codes of the options the parser handles; a command's own start at CLI_OPT_OWN. */
enum {
	OPT_JSON = 256, OPT_STRINGS, OPT_ENCODING, OPT_TOP, OPT_HEXDUMP, OPT_OFFSETS,
	OPT_HISTOGRAM, OPT_GREP, OPT_END_
};
_Static_assert((int)OPT_END_ <= (int)CLI_OPT_OWN, "parser codes overlap the commands' own");

/* The long options the parser handles, each with the table flag that asks for it (0: every
 * command). Their short letters are in merge_options(). */
static const struct {
	int flag;
	struct option opt;
} common_opts[] = {
	{ 0, { "help", no_argument, NULL, 'h' } },
	{ CLI_PID, { "pid", required_argument, NULL, 'p' } },
	{ CLI_JSON, { "json", no_argument, NULL, OPT_JSON } },
	{ CLI_INTERVAL, { "interval", required_argument, NULL, 'i' } },
	{ CLI_ANALYSIS, { "strings", optional_argument, NULL, OPT_STRINGS } },
	{ CLI_ANALYSIS | CLI_CONTENT, { "encoding", required_argument, NULL, OPT_ENCODING } },
	{ CLI_ANALYSIS, { "top", required_argument, NULL, OPT_TOP } },
	{ CLI_ANALYSIS, { "hexdump", no_argument, NULL, OPT_HEXDUMP } },
	{ CLI_ANALYSIS, { "offsets", required_argument, NULL, OPT_OFFSETS } },
	{ CLI_ANALYSIS | CLI_CONTENT, { "histogram", no_argument, NULL, OPT_HISTOGRAM } },
	{ CLI_ANALYSIS | CLI_CONTENT, { "grep", required_argument, NULL, OPT_GREP } },
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

/* 1 handled, 0 not an analysis option, -1 usage error (reported). */
static int analysis_opt(const struct cli_ctx *cx, int c, const char *arg)
{
	struct analysis_opts *o = cx->analysis;
	char *end;
	unsigned long v;

	switch (c) {
	case OPT_STRINGS:
		o->strings = 1;
		if (arg && !strcmp(arg, "gnu"))
			o->gnu = 1;
		else if (arg) {
			cli_error(cx->name, "--strings takes no value or =gnu, not '%s'", arg);
			return -1;
		}
		return 1;
	case 'n':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v < 1 || v > 4096) {
			cli_error(cx->name, "-n takes a length from 1 to 4096, not '%s'", arg);
			return -1;
		}
		o->min_len = v;
		return 1;
	case 't':
		if (strcmp(arg, "x")) {
			cli_error(cx->name, "-t takes x (hexadecimal offsets), not '%s'", arg);
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
			cli_error(cx->name, "--encoding takes ascii, utf16le or both, not '%s'", arg);
			return -1;
		}
		return 1;
	case OPT_TOP:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v < 1 || v > 10000) {
			cli_error(cx->name, "--top takes a count from 1 to 10000, not '%s'", arg);
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
			cli_error(cx->name, "--offsets takes file or address, not '%s'", arg);
			return -1;
		}
		return 1;
	case OPT_HISTOGRAM:
		o->histogram = 1;
		return 1;
	case OPT_GREP:
		o->grep = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_analysis_check(const struct cli_ctx *cx)
{
	const struct analysis_opts *o = cx->analysis;

	if (o->hexdump && o->json) {
		cli_error(cx->name, "--hexdump is text; it does not combine with --json");
		return -1;
	}
	if (o->hexdump && o->strings && !o->json) {
		cli_error(cx->name, "--hexdump and --strings both stream text: run one at a time (or write "
			  "the region with -o and analyze the file twice)");
		return -1;
	}
	if (o->gnu && o->encodings == SCAN_ENC_BOTH) {
		cli_error(cx->name, "--strings=gnu reads one encoding at a time, like strings -e");
		return -1;
	}
	if (o->gnu_radix_hex && !o->gnu) {
		cli_error(cx->name, "-t x goes with --strings=gnu");
		return -1;
	}
	if (o->hexdump_file_offsets && !o->hexdump) {
		cli_error(cx->name, "--offsets goes with --hexdump");
		return -1;
	}
	return 0;
}

int cli_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400 * 365)
		return -1;
	*out = v;
	return 0;
}

static void add_option(struct cli_ctx *cx, size_t *n, const struct option *o)
{
	if (*n + 1 >= CLI_MAX_OPTS) {
		/* A programming error, found by the first run of the command. */
		fprintf(stderr, "regionwatch: %s: more than %d options: raise CLI_MAX_OPTS\n",
			cx->cmd->name, CLI_MAX_OPTS - 1);
		abort();
	}
	cx->opts[(*n)++] = *o;
}

/* The command's options and the common ones its table entry declares, in one table. */
static void merge_options(struct cli_ctx *cx, const char *shortopts, const struct option *longopts)
{
	int f = cx->cmd->flags;
	size_t n = 0;

	if ((f & (CLI_ANALYSIS | CLI_CONTENT)) && !cx->analysis) {
		fprintf(stderr, "regionwatch: %s: CLI_ANALYSIS/CLI_CONTENT without cx->analysis\n",
			cx->cmd->name);
		abort();
	}
	snprintf(cx->shortopts, sizeof(cx->shortopts), "%sh%s%s%s%s", f & CLI_IN_ORDER ? "+" : "",
		 f & CLI_PID ? "p:" : "", f & CLI_INTERVAL ? "i:" : "",
		 f & CLI_ANALYSIS ? "n:t:" : "", shortopts);
	for (size_t i = 0; i < sizeof(common_opts) / sizeof(common_opts[0]); i++)
		if (!common_opts[i].flag || (f & common_opts[i].flag))
			add_option(cx, &n, &common_opts[i].opt);
	for (; longopts->name; longopts++)
		add_option(cx, &n, longopts);
	memset(&cx->opts[n], 0, sizeof(cx->opts[n]));
}

static int stop(struct cli_ctx *cx, int status)
{
	cx->status = status;
	return -1;
}

/* -p PID[,PID...]: each a pid, none twice, at most CLI_MAX_PIDS; a later -p adds to the
 * list. Returns 0 or -1 (reported). */
static int parse_pid_list(struct cli_ctx *cx, const char *arg)
{
	const char *s = arg;

	for (;;) {
		size_t n = strcspn(s, ",");
		char one[16];
		int pid;

		if (n == 0 || n >= sizeof(one)) {
			cli_error(cx->name, "invalid pid list '%s' (PID or PID,PID,...)", arg);
			return -1;
		}
		memcpy(one, s, n);
		one[n] = 0;
		if (parse_pid(one, &pid)) {
			cli_error(cx->name, "invalid pid '%s' in '%s'", one, arg);
			return -1;
		}
		for (size_t i = 0; i < cx->npids; i++)
			if (cx->pids[i] == pid) {
				cli_error(cx->name, "pid %d is given twice", pid);
				return -1;
			}
		if (cx->npids == CLI_MAX_PIDS) {
			cli_error(cx->name, "more than %d pids", CLI_MAX_PIDS);
			return -1;
		}
		cx->pids = xreallocarray(cx->pids, cx->npids + 1, sizeof(*cx->pids));
		cx->pids[cx->npids++] = pid;
		if (!cx->pid)
			cx->pid = pid;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

int cli_getopt(struct cli_ctx *cx, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	int f = cx->cmd->flags, c, r;

	if (!cx->opts[0].name) {
		merge_options(cx, shortopts, longopts);
		optind = 1;
		opterr = 0;
	}
	for (;;) {
		c = getopt_long(argc, argv, cx->shortopts, cx->opts, NULL);
		if (c == -1) {
			if (optind < argc && !(f & CLI_OPERANDS)) {
				cli_error(cx->name, "unexpected argument '%s'", argv[optind]);
				return stop(cx, RW_EXIT_USAGE);
			}
			return 0;
		}
		if (c == '?') {
			/* getopt_long's '?': not an option of this command, an ambiguous
			 * abbreviation, or an argument missing. */
			cli_error(cx->name, "unknown or incomplete option '%s' (see 'regionwatch %s --help')",
				  argv[optind - 1], cx->cmd->name);
			return stop(cx, RW_EXIT_USAGE);
		}
		if (c == 'h') {
			cx->cmd->help(stdout);
			return stop(cx, RW_EXIT_OK);
		}
		if (c == 'p' && (f & CLI_PID_LIST)) {
			if (parse_pid_list(cx, optarg))
				return stop(cx, RW_EXIT_USAGE);
		} else if (c == 'p' && (f & CLI_PID)) {
			if (parse_pid(optarg, &cx->pid)) {
				cli_error(cx->name, strchr(optarg, ',') ?
					  "invalid pid '%s' (only watch takes a list)" : "invalid pid '%s'", optarg);
				return stop(cx, RW_EXIT_USAGE);
			}
		} else if (c == 'i' && (f & CLI_INTERVAL)) {
			if (cli_parse_seconds(optarg, &cx->interval) || cx->interval < 0.01) {
				cli_error(cx->name, "invalid interval '%s' (seconds, at least 0.01)", optarg);
				return stop(cx, RW_EXIT_USAGE);
			}
		} else if (c == OPT_JSON && (f & CLI_JSON)) {
			cx->json = 1;
			if (f & CLI_ANALYSIS)
				cx->analysis->json = 1;
		} else if (((f & CLI_ANALYSIS) ||
			    ((f & CLI_CONTENT) && (c == OPT_ENCODING || c == OPT_HISTOGRAM || c == OPT_GREP))) &&
			   (r = analysis_opt(cx, c, optarg))) {
			if (r < 0)
				return stop(cx, RW_EXIT_USAGE);
		} else {
			return c;
		}
	}
}

int cli_run(const struct cli_command *c, const char *name, int argc, char **argv)
{
	struct cli_ctx cx;
	int rc;

	memset(&cx, 0, sizeof(cx));
	cx.cmd = c;
	cx.name = name;
	rc = c->run(&cx, argc, argv);
	free(cx.pids);
	return rc;
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
