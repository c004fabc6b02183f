/* main: dispatch to a command; install the signal handlers that keep no temp file behind. */
#include "cli.h"
#include "target.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A fatal signal: let a frozen target go first, remove half-written files, then die of the
 * same signal. Only async-signal-safe calls (ptrace, unlink, signal, raise). */
static void on_fatal_signal(int sig)
{
	target_emergency_thaw();
	cleanup_on_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int unknown_command(const char *name)
{
	cli_error(NULL, "unknown command '%s' (see 'regionwatch --help')", name);
	return RW_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;

	install_signals();
	if (argc < 2) {
		cli_usage(stderr);
		return RW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_usage(stdout);
		return RW_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("regionwatch %s\n", rw_version);
		return RW_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			cli_usage(stdout);
			return RW_EXIT_OK;
		}
		if (!(c = cli_find(argv[2])))
			return unknown_command(argv[2]);
		c->help(stdout);
		return RW_EXIT_OK;
	}
	/* regionwatch -p PID / regionwatch [options] -- CMD: the monitor's form, watch's options
	 * with errors that name no command (a terminal gets the ncurses monitor). */
	if (argv[1][0] == '-')
		return cli_run(cli_find("watch"), NULL, argc, argv);
	c = cli_find(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	return cli_run(c, c->name, argc - 1, argv + 1);
}
