/* cli: the subcommand table (it also feeds --help) and the one option parser it drives. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include <getopt.h>
#include <stdio.h>

#define RW_EXIT_OK 0
#define RW_EXIT_FAIL 1
#define RW_EXIT_USAGE 2

struct cli_ctx;

/* What a command takes besides its own options: the parser handles these. -h/--help is
 * always there. */
enum cli_flags {
	CLI_PID = 1 << 0,         /* -p, --pid PID */
	CLI_JSON = 1 << 1,        /* --json */
	CLI_INTERVAL = 1 << 2,    /* -i, --interval SECONDS */
	CLI_ANALYSIS = 1 << 3,    /* the analysis options of dump and analyze (cli_analysis_help) */
	CLI_OPERANDS = 1 << 4,    /* takes operands (without it: "unexpected argument") */
	CLI_IN_ORDER = 1 << 5,    /* options end at the first operand (getopt's '+') */
	CLI_CONTENT = 1 << 6,     /* of the analysis options, --encoding --histogram --grep only
				   * (watch --content: its -n and --top are its own) */
	CLI_PID_LIST = 1 << 7,    /* with CLI_PID: -p takes PID[,PID...] (cx->pids) */
};

#define CLI_MAX_PIDS 4096

struct cli_command {
	const char *name;
	const char *synopsis;   /* one line, after "regionwatch " */
	const char *summary;    /* what it does, one line */
	int flags;              /* enum cli_flags */
	int (*run)(struct cli_ctx *cx, int argc, char **argv);
	void (*help)(FILE *fp);
};

extern const struct cli_command cli_commands[];
const struct cli_command *cli_find(const char *name);
void cli_usage(FILE *fp);

/* One run of a command: which one, how its errors are prefixed, and the common options as
 * cli_getopt() found them. */
#define CLI_MAX_OPTS 40
struct cli_ctx {
	const struct cli_command *cmd;
	const char *name;       /* errors say "regionwatch: NAME: ..."; NULL for the monitor's
				 * form (regionwatch -p PID), whose errors name no command */
	int pid;                /* -p; 0 if not given (CLI_PID_LIST: the first of the list) */
	int *pids;              /* CLI_PID_LIST: the list given to -p (malloc'd; cli_run frees) */
	size_t npids;
	int json;               /* --json */
	double interval;        /* -i, seconds (at least 0.01); 0 if not given */
	struct analysis_opts *analysis; /* CLI_ANALYSIS/CLI_CONTENT: the command's, set before parsing */
	int status;             /* the exit status when cli_getopt() returns -1 */
	/* the parser's: the command's options merged with the common ones */
	struct option opts[CLI_MAX_OPTS];
	char shortopts[64];
};

/* Run a command from the table: name is what its errors are prefixed with (c->name, or NULL
 * for the monitor's form). Returns the command's exit status. */
int cli_run(const struct cli_command *c, const char *name, int argc, char **argv);

/* getopt_long(3) over argv with the command's own options (shortopts without the common
 * letters, longopts ended by a zeroed entry) plus those its table entry declares. Returns
 * the next of the command's own options (optarg is its argument), 0 when the options end
 * (operands start at optind), or -1 when the command should return cx->status: --help was
 * printed (0), or a usage error was reported (2). The command reports errors in its own
 * options' values itself, with cli_error(cx->name, ...). */
int cli_getopt(struct cli_ctx *cx, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
/* Codes for a command's long-only options start here (below: letters and the parser's). */
enum { CLI_OPT_OWN = 1000 };

/* Seconds, fractions allowed, > 0 and at most a year. Returns 0 or -1. */
int cli_parse_seconds(const char *s, double *out);

/* Diagnostics: "regionwatch: CMD: message" on stderr ("regionwatch: message" if cmd is
 * NULL). Commands pass cx->name. */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

int cmd_snap(struct cli_ctx *cx, int argc, char **argv);
void cmd_snap_help(FILE *fp);
int cmd_diff(struct cli_ctx *cx, int argc, char **argv);
void cmd_diff_help(FILE *fp);
int cmd_watch(struct cli_ctx *cx, int argc, char **argv);
void cmd_watch_help(FILE *fp);
int cmd_dump(struct cli_ctx *cx, int argc, char **argv);
void cmd_dump_help(FILE *fp);
int cmd_analyze(struct cli_ctx *cx, int argc, char **argv);
void cmd_analyze_help(FILE *fp);
int cmd_stacks(struct cli_ctx *cx, int argc, char **argv);
void cmd_stacks_help(FILE *fp);

/* CLI_ANALYSIS: checks the combination cli_getopt() filled in cx->analysis; -1 on a usage
 * error (reported). */
int cli_analysis_check(const struct cli_ctx *cx);
extern const char cli_analysis_help[];

extern const char *rw_version;

#endif
