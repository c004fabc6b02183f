/* cli: the subcommand table; it also feeds --help. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include <stdio.h>

#define RW_EXIT_OK 0
#define RW_EXIT_FAIL 1
#define RW_EXIT_USAGE 2

struct cli_command {
	const char *name;
	const char *synopsis;   /* one line, after "regionwatch " */
	const char *summary;    /* what it does, one line */
	int (*run)(int argc, char **argv);
	void (*help)(FILE *fp);
};

extern const struct cli_command cli_commands[];
const struct cli_command *cli_find(const char *name);
void cli_usage(FILE *fp);

/* Diagnostics: "regionwatch: CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

int cmd_snap(int argc, char **argv);
void cmd_snap_help(FILE *fp);
int cmd_diff(int argc, char **argv);
void cmd_diff_help(FILE *fp);

int cmd_watch(int argc, char **argv);
void cmd_watch_help(FILE *fp);

int cmd_dump(int argc, char **argv);
void cmd_dump_help(FILE *fp);
int cmd_analyze(int argc, char **argv);
void cmd_analyze_help(FILE *fp);
int cmd_stacks(int argc, char **argv);
void cmd_stacks_help(FILE *fp);

/* Analysis options shared by dump and analyze (codes for getopt_long). */
enum cli_analysis_code {
	OPT_STRINGS = 300, OPT_ENCODING, OPT_TOP, OPT_HEXDUMP, OPT_OFFSETS, OPT_HISTOGRAM, OPT_GREP,
	OPT_JSON, OPT_FORCE, OPT_FREEZE, OPT_DONTDUMP, OPT_BASE, OPT_REGION
};
#define CLI_ANALYSIS_LONG_OPTIONS \
	{ "strings", optional_argument, NULL, OPT_STRINGS }, \
	{ "encoding", required_argument, NULL, OPT_ENCODING }, \
	{ "top", required_argument, NULL, OPT_TOP }, \
	{ "hexdump", no_argument, NULL, OPT_HEXDUMP }, \
	{ "offsets", required_argument, NULL, OPT_OFFSETS }, \
	{ "histogram", no_argument, NULL, OPT_HISTOGRAM }, \
	{ "grep", required_argument, NULL, OPT_GREP }, \
	{ "json", no_argument, NULL, OPT_JSON }
/* Short options that go with them: -n MIN, -t x. */
#define CLI_ANALYSIS_SHORT "n:t:"
struct analysis_opts;
/* 1 handled, 0 not an analysis option, -1 usage error (already reported). */
int cli_analysis_opt(const char *cmd, int c, const char *arg, struct analysis_opts *o);
/* Checks the combination; -1 on a usage error (reported). */
int cli_analysis_check(const char *cmd, struct analysis_opts *o);
extern const char cli_analysis_help[];

extern const char *rw_version;

#endif
