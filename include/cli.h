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

extern const char *rw_version;

#endif
