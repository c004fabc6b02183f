/* main: dispatch to a command; install the signal handlers that keep no temp file behind. */
#include "cli.h"
#include "snapfile.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_fatal_signal(int sig)
{
	const char *tmp = snapfile_pending_tmp();

	if (tmp)
		unlink(tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
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
		if (argc > 2 && (c = cli_find(argv[2]))) {
			c->help(stdout);
			return RW_EXIT_OK;
		}
		cli_usage(stdout);
		return argc > 2 ? RW_EXIT_USAGE : RW_EXIT_OK;
	}
	/* regionwatch -p PID / regionwatch [options] -- CMD: the monitor's form. The ncurses
	 * monitor is not built yet, so this prints the watch output. */
	if (argv[1][0] == '-')
		return cmd_watch(argc, argv);
	c = cli_find(argv[1]);
	if (!c) {
		if (!strcmp(argv[1], "dump") || !strcmp(argv[1], "analyze") || !strcmp(argv[1], "stacks")) {
			cli_error(NULL, "'%s' is not built yet in this version; use snap, diff and watch",
				  argv[1]);
			return RW_EXIT_USAGE;
		}
		cli_error(NULL, "unknown command '%s' (see 'regionwatch --help')", argv[1]);
		return RW_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
