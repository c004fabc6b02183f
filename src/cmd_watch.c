/* cmd_watch: regionwatch watch -p PID [-i S] [-n N] [--window S] [--top K] [--json]
 *            regionwatch [watch options] -- CMD [ARG...]
 * Samples /proc/PID/smaps, groups regions into areas across samples, ranks them. */
#include "cli.h"
#include "out_json.h"
#include "out_table.h"
#include "watch.h"
#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void cmd_watch_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch watch -p PID [-i SECONDS] [-n COUNT] [--window SECONDS] [--top K] [--json]\n"
		"       regionwatch [same options] -- CMD [ARG...]\n"
		"Sample /proc/PID/smaps every interval and rank the process's memory areas by how\n"
		"much they look like a leak: steady growth ranks first; big flat buffers and\n"
		"sawtooths (memory that is freed again) rank low. Prints a short table per sample\n"
		"(like top -b) and a final ranking when COUNT samples are taken, on Ctrl-C, or when\n"
		"the target exits. Reads /proc only; the target is not stopped or touched.\n\n"
		"An area is the memory a person thinks of as one thing: VMAs that split, merge or\n"
		"move their rw/---p boundary keep one history (Go arenas, glibc arenas, [heap]).\n"
		"TREND is growing, sawtooth, flat or shrinking; it and the ranking are heuristics\n"
		"(regionwatch(1), WATCH, gives the formula).\n\n"
		"  -p, --pid PID        the process\n"
		"  -i, --interval S     seconds between samples (default 1; fractions allowed)\n"
		"  -n, --count N        stop after N samples (default: until Ctrl-C or exit)\n"
		"      --window S       statistics over the last S seconds (default 120; at most 512\n"
		"                       samples are kept, so a short interval shortens the window)\n"
		"      --top K          areas shown per sample and in the final text ranking (default 10)\n"
		"      --max-cost PCT   CPU budget, percent of one core (default 5; 0: none): a sample\n"
		"                       that costs more stretches the interval to stay within it, and\n"
		"                       the header and the JSON say so\n"
		"      --json           JSON Lines: {\"type\":\"sample\"} per sample, then {\"type\":\"summary\"}\n"
		"                       with every live area ranked by score\n"
		"      --batch          with regionwatch -p PID: print this output even on a terminal\n"
		"                       (without it, a terminal gets the live monitor)\n"
		"      --iterations N   the same as -n (the monitor quits after N samples)\n"
		"      --color WHEN     monitor colours: auto (default; NO_COLOR honoured), never, always\n"
		"      --ascii          monitor sparklines in ASCII\n"
		"  -- CMD [ARG...]      start CMD (stdin/stdout/stderr passed through), watch it from\n"
		"                       its first sample, and exit with CMD's exit status\n"
		"  -h, --help           this help\n\n"
		"Exit status: 0 done (count reached or interrupted); 1 the target exited or vanished\n"
		"(the final ranking covers the samples taken), no such process, permission denied;\n"
		"2 usage error. With -- CMD: CMD's exit status (128+N if killed by signal N).\n");
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void install_stop_handlers(void)
{
	struct sigaction sa;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0)
		return -1;
	*out = v;
	return 0;
}

/* Start CMD with our stdio; returns its pid after a successful exec, or -errno. */
static pid_t spawn(char **argv, int *exec_errno)
{
	int pfd[2];
	pid_t pid;
	ssize_t n;
	int e = 0;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(pfd[0]);
		execvp(argv[0], argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	/* The pipe closes on a successful exec (O_CLOEXEC) or carries exec's errno. */
	do
		n = read(pfd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	*exec_errno = n == (ssize_t)sizeof(e) ? e : 0;
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, 0) == pid)
			break;
		if (errno != EINTR)
			return 1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	/* Returns early (EINTR) on Ctrl-C; the caller checks stop_signal. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int cmd_watch(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "top", required_argument, NULL, 't' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "color", required_argument, NULL, 'C' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "max-cost", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = cx->name;
	int pid, json, c, rc = RW_EXIT_OK, exec_errno = 0, batch = 0, color = -1;
	int ascii = 0;
	unsigned long count = 0, top = 10;
	double next;
	pid_t child = 0;
	struct watch w;
	struct watch_opts wo = { 0, 1.0, 120.0, WATCH_MAX_COST_DEFAULT };
	struct rw_err err;
	struct watch_view v;

	while ((c = cli_getopt(cx, argc, argv, "n:", opts)) > 0) {
		switch (c) {
		case 'n':
			if (parse_count(optarg, &count)) {
				cli_error(name, "invalid count '%s' (a positive number)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'w':
			if (cli_parse_seconds(optarg, &wo.window)) {
				cli_error(name, "invalid window '%s' (seconds)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 't':
			if (parse_count(optarg, &top) || top > 100000) {
				cli_error(name, "invalid --top '%s' (a positive number)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'b':
			batch = 1;
			break;
		case 'C':
			if (!strcmp(optarg, "never"))
				color = 0;
			else if (!strcmp(optarg, "always"))
				color = 1;
			else if (!strcmp(optarg, "auto"))
				color = -1;
			else {
				cli_error(name, "--color takes never, auto or always, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'a':
			ascii = 1;
			break;
		case 'M': {
			char *e;
			errno = 0;
			wo.max_cost = strtod(optarg, &e);
			if (errno || e == optarg || *e || !(wo.max_cost >= 0) || wo.max_cost > 100) {
				cli_error(name, "--max-cost takes a percentage of one core from 0 (no "
					  "budget) to 100, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
		}
	}
	if (c < 0)
		return cx->status;
	pid = cx->pid;
	json = cx->json;
	if (cx->interval)
		wo.interval = cx->interval;
	if (optind < argc && !strcmp(argv[optind - 1], "--")) {
		if (pid) {
			cli_error(name, "give either -p PID or -- CMD, not both");
			return RW_EXIT_USAGE;
		}
	} else if (optind < argc) {
		cli_error(name, "unexpected argument '%s' (a command to run goes after --)", argv[optind]);
		return RW_EXIT_USAGE;
	} else if (!pid) {
		cli_error(name, "which process? give -p PID, or -- CMD to start one");
		return RW_EXIT_USAGE;
	}

	/* regionwatch -p PID on a terminal: the live monitor. */
	if (!name && pid && !json && !batch && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		struct ui_opts uo = { pid, wo.interval, wo.window, wo.max_cost, count, color, ascii };
		return ui_run(&uo);
	}
	install_stop_handlers();
	if (!pid) {
		child = spawn(argv + optind, &exec_errno);
		if (child < 0) {
			cli_error(name, "cannot start '%s': %s", argv[optind], strerror((int)-child));
			return RW_EXIT_FAIL;
		}
		if (exec_errno) {
			wait_child(child);
			cli_error(name, "cannot run '%s': %s", argv[optind], strerror(exec_errno));
			return exec_errno == ENOENT ? 127 : 126;
		}
		pid = child;
	}
	wo.pid = pid;
	if (watch_open(&w, &wo, &err)) {
		cli_error(name, "%s", err.msg);
		return child ? wait_child(child) : RW_EXIT_FAIL;
	}
	next = now_mono();
	for (;;) {
		int r = watch_step(&w, &err);

		if (r == -ESRCH)
			break;
		if (r) {
			cli_error(name, "%s", err.msg);
			rc = RW_EXIT_FAIL;
			break;
		}
		watch_rank(&w, top);
		watch_fill_view(&w, &v);
		if (json)
			out_json_watch_sample(stdout, &v);
		else
			out_table_watch_sample(stdout, &v);
		if (fflush(stdout) || ferror(stdout)) {
			cli_error(name, "writing standard output: %s", strerror(errno ? errno : EIO));
			rc = RW_EXIT_FAIL;
			break;
		}
		if (count && w.tl.seq >= count)
			break;
		/* as asked, or stretched by the cost budget (--max-cost) */
		next += watch_interval(&w);
		if (next < now_mono())
			next = now_mono();
		while (!stop_signal && now_mono() < next)
			sleep_until(next);
		if (stop_signal)
			break;
	}

	if (w.tl.seq) {
		watch_rank(&w, json ? SIZE_MAX : top);
		watch_fill_view(&w, &v);
		v.end = w.exited ? "exited" : stop_signal ? "interrupted" : "count";
		v.torn = w.torn_total;
		if (json)
			out_json_watch_summary(stdout, &v);
		else
			out_table_watch_summary(stdout, &v);
		fflush(stdout);
	}
	if (w.exited && !child) {
		cli_error(name, "process %d exited after %llu sample%s; the ranking covers %s", pid,
			  (unsigned long long)w.tl.seq, w.tl.seq == 1 ? "" : "s",
			  w.tl.seq == 1 ? "it" : "them");
		rc = RW_EXIT_FAIL;
	}
	watch_close(&w);
	if (child)
		return wait_child(child);
	return rc;
}
