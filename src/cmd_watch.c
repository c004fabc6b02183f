/* cmd_watch: regionwatch watch -p PID [-i S] [-n N] [--window S] [--top K] [--json]
 *            regionwatch [watch options] -- CMD [ARG...]
 * Samples /proc/PID/smaps, groups regions into areas across samples, ranks them. */
#include "analysis.h"
#include "cli.h"
#include "inspect.h"
#include "metrics.h"
#include "out_json.h"
#include "out_table.h"
#include "trigger.h"
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
		"      --metrics-textfile PATH  after each sample, replace PATH (atomically: a temporary\n"
		"                       file in its directory, renamed) with the Prometheus text\n"
		"                       exposition of the process and its top rows; name it *.prom\n"
		"                       in node_exporter's textfile directory\n"
		"      --metrics-listen ADDR:PORT  serve the same text on GET /metrics at exactly\n"
		"                       ADDR (numeric: 127.0.0.1 or [::1]; no host names). Keep it\n"
		"                       on loopback unless you mean to expose it: it shows the\n"
		"                       process's mapping names to anyone who can connect\n"
		"      --metrics-top K  rows (areas or pools) exported per sample (default %d)\n"
		"      --json           JSON Lines: {\"type\":\"sample\"} per sample, then {\"type\":\"summary\"}\n"
		"                       with every live row (area or pool) ranked by score\n"
		"      --content        at the end, read the pages of the first %d growing rows that\n"
		"                       became resident since the first sample (present-page runs\n"
		"                       are recorded then from pagemap; nothing is read then) and\n"
		"                       census them: top strings and shapes, with counts per MiB\n"
		"                       against as many of the row's older pages, byte histogram,\n"
		"                       and where their 8-byte words point (Go heap, glibc malloc,\n"
		"                       anon, ...). Present pages only, through pagemap, as dump.\n"
		"                       Not when the target exited.\n"
		"      --content-budget SIZE  bytes of new pages read per row (default 64M); beyond\n"
		"                       it, pieces spread evenly over the new pages are read\n"
		"      --content-top N  shapes and strings kept per row (default 10, at most %d)\n"
		"      --encoding E     ascii (default), utf16le or both: strings in the census\n"
		"      --grep REGEX     PCRE2 matches in the new pages (count, first few listed)\n"
		"      --histogram      the text output shows the byte histogram too (JSON always has it)\n"
		"      --batch          with regionwatch -p PID: print this output even on a terminal\n"
		"                       (without it, a terminal gets the live monitor)\n"
		"      --iterations N   the same as -n (the monitor quits after N samples)\n"
		"      --color WHEN     monitor colours: auto (default; NO_COLOR honoured), never, always\n"
		"      --ascii          monitor sparklines in ASCII\n"
		"      --trigger EXPR   after each sample, test EXPR on each ranked row (or, with\n"
		"                       process:, on the process): growth>200M/10m, rss>2G,\n"
		"                       rate>1M/s, ttl<30m (sizes K/M/G/T, durations s/m/h;\n"
		"                       regionwatch(1), TRIGGERS); repeatable. A firing prints one\n"
		"                       event line (JSON with --json) and takes the actions\n"
		"      --on-trigger A   actions, comma-separated: dump (the row's pages new since the\n"
		"                       first sample, as a sparse dump + manifest + census.json),\n"
		"                       stacks (every thread's backtrace: a short stop), report\n"
		"                       (the HTML report: needs --report FILE.html)\n"
		"      --out DIR        an existing directory: each firing's files go in a new\n"
		"                       DIR/regionwatch-PID-TIME-N, renamed into place when complete\n"
		"      --max-triggers N firings that take actions (default 3); later ones only print\n"
		"      --trigger-cooldown D  an expression that fired rests this long (default 10m)\n"
		"      --out-budget SIZE  disk all firings may use in DIR (default 1G); 5%% of the\n"
		"                       filesystem (at most 256M) is always left free\n"
		"  -- CMD [ARG...]      start CMD (stdin/stdout/stderr passed through), watch it from\n"
		"                       its first sample, and exit with CMD's exit status\n"
		"  -h, --help           this help\n\n"
		"Exit status: 0 done (count reached or interrupted); 1 the target exited or vanished\n"
		"(the final ranking covers the samples taken), no such process, permission denied;\n"
		"2 usage error. With -- CMD: CMD's exit status (128+N if killed by signal N).\n",
		METRICS_TOP_DEFAULT, INSPECT_GROWTH_ROWS, INSPECT_TOPN);
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

/* --content at the end: the new pages of the first growing rows (a pool's row: its
 * members). Returns why there is none (NULL when rows were read). */
static const char *read_content(struct watch *w, const struct inspect_baseline *base,
				uint64_t budget, const struct analysis_opts *ao,
				struct inspect_growth *grown, size_t *rows, size_t *ngrown)
{
	const struct snapshot *s;
	struct rw_err err;

	*ngrown = 0;
	if (w->exited)
		return "the target exited: its pages were not read";
	if (w->tl.seq < 2)
		return "one sample: nothing is new since the baseline";
	s = sampler_full_snapshot(&w->sm, &err);
	if (!s)
		return "the target went away before its pages were read";
	for (size_t i = 0; i < w->nrank && *ngrown < INSPECT_GROWTH_ROWS; i++) {
		const struct area *row = w->rank[i];
		const struct pool *pl = w->rank_pool[i];
		size_t n = pl ? pl->nmembers : 1;
		struct inspect_span *spans;
		int rc;

		/* grew over the window: ranked by score first, then a row that grew and
		 * stopped (score 0) */
		if (w->rank_st[i].delta <= 0)
			continue;
		spans = xcalloc(n ? n : 1, sizeof(*spans));
		for (size_t k = 0; k < n; k++) {
			const struct area *a = pl ? pl->members[k] : row;
			spans[k] = (struct inspect_span){ a->id, a->start, a->end, a->born_seq > 0 };
		}
		rc = inspect_growth(&grown[*ngrown], &w->sm.proc, s, base, spans, n, budget, ao, &err);
		free(spans);
		rows[(*ngrown)++] = i;
		if (rc == -ESRCH)
			break;
	}
	return *ngrown ? NULL : "nothing grew";
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
		{ "content", no_argument, NULL, CLI_OPT_OWN },
		{ "content-budget", required_argument, NULL, CLI_OPT_OWN + 1 },
		{ "content-top", required_argument, NULL, CLI_OPT_OWN + 2 },
		{ "metrics-textfile", required_argument, NULL, CLI_OPT_OWN + 3 },
		{ "metrics-listen", required_argument, NULL, CLI_OPT_OWN + 4 },
		{ "metrics-top", required_argument, NULL, CLI_OPT_OWN + 5 },
		/* triggers (trigger.c): CLI_OPT_OWN + 6 + TRIGGER_OPT_* */
		{ "trigger", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_EXPR },
		{ "on-trigger", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_ACTIONS },
		{ "out", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_OUT },
		{ "max-triggers", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_MAX },
		{ "trigger-cooldown", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_COOLDOWN },
		{ "out-budget", required_argument, NULL, CLI_OPT_OWN + 6 + TRIGGER_OPT_BUDGET },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = cx->name;
	int pid, json, c, rc = RW_EXIT_OK, exec_errno = 0, batch = 0, color = -1;
	int ascii = 0, r;
	unsigned long count = 0, top = 10;
	double next;
	pid_t child = 0;
	struct watch w;
	struct watch_opts wo = { 0, 1.0, 120.0, WATCH_MAX_COST_DEFAULT };
	struct rw_err err;
	struct watch_view v;
	struct analysis_opts ao;
	int content = 0, baseline_taken = 0;
	unsigned long content_top = 10;
	uint64_t budget = INSPECT_BUDGET_DEFAULT;
	struct inspect_baseline base;
	struct inspect_growth grown[INSPECT_GROWTH_ROWS];
	size_t ngrown = 0, grown_rows[INSPECT_GROWTH_ROWS];
	const char *content_note = NULL;
	const char *metrics_path = NULL;
	unsigned long metrics_top = METRICS_TOP_DEFAULT;
	int metrics_listen = 0;
	struct metrics_addr maddr;
	struct metrics_server *msrv = NULL;
	struct trigger_set ts;

	trigger_init(&ts);
	memset(&ao, 0, sizeof(ao));
	memset(&base, 0, sizeof(base));
	cx->analysis = &ao;
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
		case CLI_OPT_OWN:
			content = 1;
			break;
		case CLI_OPT_OWN + 1:
			if (parse_size(optarg, &budget) || budget < 4096) {
				cli_error(name, "invalid --content-budget '%s' (a size of at least 4K, "
					  "such as 256K or 64M)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case CLI_OPT_OWN + 2:
			if (parse_count(optarg, &content_top) || content_top > INSPECT_TOPN) {
				cli_error(name, "invalid --content-top '%s' (1 to %d)", optarg, INSPECT_TOPN);
				return RW_EXIT_USAGE;
			}
			break;
		case CLI_OPT_OWN + 3:
			if (!*optarg) {
				cli_error(name, "--metrics-textfile needs a path");
				return RW_EXIT_USAGE;
			}
			metrics_path = optarg;
			break;
		case CLI_OPT_OWN + 4:
			if (metrics_parse_addr(optarg, &maddr, &err)) {
				cli_error(name, "%s", err.msg);
				return RW_EXIT_USAGE;
			}
			metrics_listen = 1;
			break;
		case CLI_OPT_OWN + 5:
			if (parse_count(optarg, &metrics_top) || metrics_top > 1000) {
				cli_error(name, "invalid --metrics-top '%s' (1 to 1000)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		default:
			/* --trigger and its options: parsed by trigger.c */
			if (c >= CLI_OPT_OWN + 6 && c < CLI_OPT_OWN + 6 + TRIGGER_OPT_COUNT &&
			    trigger_option(&ts, c - (CLI_OPT_OWN + 6), optarg, &err)) {
				cli_error(name, "%s", err.msg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	/* triggers: the options fit together, --out is a writable directory; the report
	 * action has no callback yet (NULL: refused), the lead connects --report here */
	if ((r = trigger_check(&ts, NULL, NULL, &err))) {
		cli_error(name, "%s", err.msg);
		return r == -EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	}
	if (!content && (ao.grep || ao.histogram || ao.encodings)) {
		cli_error(name, "--encoding, --grep and --histogram go with --content");
		return RW_EXIT_USAGE;
	}
	ao.top = content_top;
	if (!ao.encodings)
		ao.encodings = SCAN_ENC_ASCII;
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
		if (content || metrics_path || metrics_listen || trigger_active(&ts)) {
			cli_error(name, "--content, --metrics-* and --trigger are for the batch output "
				  "(add --batch or --json)");
			return RW_EXIT_USAGE;
		}
		return ui_run(&uo);
	}
	install_stop_handlers();
	/* Listen before the target is started or sampled: a busy port is an error up front. */
	if (metrics_listen && metrics_server_open(&msrv, &maddr, &err)) {
		cli_error(name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if (!pid) {
		child = spawn(argv + optind, &exec_errno);
		if (child < 0) {
			cli_error(name, "cannot start '%s': %s", argv[optind], strerror((int)-child));
			metrics_server_close(msrv);
			return RW_EXIT_FAIL;
		}
		if (exec_errno) {
			wait_child(child);
			cli_error(name, "cannot run '%s': %s", argv[optind], strerror(exec_errno));
			metrics_server_close(msrv);
			return exec_errno == ENOENT ? 127 : 126;
		}
		pid = child;
	}
	wo.pid = pid;
	if (watch_open(&w, &wo, &err)) {
		cli_error(name, "%s", err.msg);
		metrics_server_close(msrv);
		return child ? wait_child(child) : RW_EXIT_FAIL;
	}
	/* triggers: where event lines go (trigger.c) */
	trigger_open(&ts, name ? name : "watch", stdout, json);
	next = now_mono();
	for (;;) {
		r = watch_step(&w, &err);

		if (r == -ESRCH)
			break;
		if (r) {
			cli_error(name, "%s", err.msg);
			rc = RW_EXIT_FAIL;
			break;
		}
		if (content && !baseline_taken) {
			/* The baseline: present-page runs of the areas a leak grows in. */
			baseline_taken = 1;
			inspect_baseline_init(&base);
			for (size_t i = 0; i < w.tl.nareas; i++) {
				const struct area *a = &w.tl.areas[i];
				int br;
				if (!inspect_growth_kind(a->kind))
					continue;
				br = inspect_baseline_add(&base, &w.sm.proc, a->id, a->start, a->end, &err);
				if (br == -ESRCH)
					break;
			}
		}
		/* The metrics may want more rows than the table shows. */
		watch_rank(&w, metrics_path || msrv ? (top > metrics_top ? top : metrics_top) : top);
		watch_fill_view(&w, &v);
		/* triggers: test the expressions on this sample's rows, fire (event lines,
		 * actions), set v.triggers_total for the metrics */
		trigger_eval(&ts, &w, &v);
		if (metrics_path || msrv) {
			size_t mlen;
			char *mtext = metrics_format_dup(&v, metrics_top, &mlen);
			int mr = metrics_path ? metrics_textfile_write(metrics_path, mtext, mlen, &err) : 0;
			if (msrv)
				metrics_server_set(msrv, mtext, mlen);
			free(mtext);
			if (mr) {
				cli_error(name, "%s", err.msg);
				rc = RW_EXIT_FAIL;
				break;
			}
		}
		if (v.n > top)
			v.n = top;
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
		if (msrv)
			metrics_server_wait(msrv, next, &stop_signal);   /* answers /metrics meanwhile */
		while (!stop_signal && now_mono() < next)
			sleep_until(next);
		if (stop_signal)
			break;
	}

	if (w.tl.seq) {
		watch_rank(&w, json ? SIZE_MAX : top);
		if (content)
			content_note = read_content(&w, &base, budget, &ao, grown, grown_rows, &ngrown);
		watch_fill_view(&w, &v);
		v.content_asked = content;
		v.content = grown;
		v.content_rows = grown_rows;
		v.ncontent = ngrown;
		v.content_note = content_note;
		v.content_budget = budget;
		v.content_histogram = ao.histogram;
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
	for (size_t i = 0; i < ngrown; i++)
		inspect_growth_free(&grown[i]);
	inspect_baseline_free(&base);
	trigger_close(&ts);          /* triggers: their history and baseline */
	metrics_server_close(msrv);
	watch_close(&w);
	if (child)
		return wait_child(child);
	return rc;
}
