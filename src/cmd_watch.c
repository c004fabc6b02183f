/* cmd_watch: regionwatch watch -p PID [-i S] [-n N] [--window S] [--top K] [--json]
 *            regionwatch [watch options] -- CMD [ARG...]
 * Samples /proc/PID/smaps, groups regions into areas across samples, ranks them. */
#include "analysis.h"
#include "cgroup.h"
#include "cli.h"
#include "inspect.h"
#include "metrics.h"
#include "out_json.h"
#include "out_table.h"
#include "report.h"
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
		"usage: regionwatch watch -p PID[,PID...] [-i SECONDS] [-n COUNT] [--window SECONDS] [--top K] [--json]\n"
		"       regionwatch watch --cgroup DIR [same options]\n"
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
		"  -p, --pid PID[,PID...]  the process, or several: each is ranked and printed on its\n"
		"                       own; one that exits gets its summary and the others go on\n"
		"      --cgroup DIR     every process of a cgroup v2 directory and those below it\n"
		"                       (a path, or one under /sys/fs/cgroup: system.slice/x.service);\n"
		"                       processes that join are picked up, those that leave dropped\n"
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
		"      --report FILE.html  at the end, write one self-contained HTML page (inline SVG\n"
		"                       charts of RSS over time, verdicts, rows, what grew, events;\n"
		"                       no scripts) to FILE.html, atomically; at most %d points per\n"
		"                       chart line, thinned by halving on long watches. Several\n"
		"                       processes: one page each, FILE.PID.html\n"
		"      --json           JSON Lines: {\"type\":\"sample\"} per sample, then {\"type\":\"summary\"}\n"
		"                       with every live row (area or pool) ranked by score\n"
		"      --content        at the end, read the pages of the first %d growing rows that\n"
		"                       became resident since the first sample (present-page runs\n"
		"                       are recorded then from pagemap; nothing is read then) and\n"
		"                       census them: top strings and shapes, with counts per MiB\n"
		"                       against as many of the row's older pages, byte histogram,\n"
		"                       and where their 8-byte words point (Go heap, glibc malloc,\n"
		"                       anon, ...); mostly pointers (a heuristic: >= 50%% of the\n"
		"                       words), what they point at too, one hop away.\n"
		"                       Present pages only, through pagemap, as dump.\n"
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
		"                       (rewrite the --report page, with the event and its stacks)\n"
		"      --out DIR        an existing directory: each firing's files go in a new\n"
		"                       DIR/regionwatch-PID-TIME-N, renamed into place when complete\n"
		"      --max-triggers N firings that take actions (default 3, all processes\n"
		"                       together); later ones only print\n"
		"      --trigger-cooldown D  an expression that fired rests this long (default 10m;\n"
		"                       per process)\n"
		"      --out-budget SIZE  disk all firings may use in DIR (default 1G); 5%% of the\n"
		"                       filesystem (at most 256M) is always left free\n"
		"  -- CMD [ARG...]      start CMD (stdin/stdout/stderr passed through), watch it from\n"
		"                       its first sample, and exit with CMD's exit status\n"
		"  -h, --help           this help\n\n"
		"Exit status: 0 done (count reached or interrupted); 1 the target (or one of a -p\n"
		"list; not so for --cgroup) exited or vanished (the final ranking covers the samples\n"
		"taken), no such process, permission denied;\n"
		"2 usage error. With -- CMD: CMD's exit status (128+N if killed by signal N).\n",
		METRICS_TOP_DEFAULT, REPORT_POINTS, INSPECT_GROWTH_ROWS, INSPECT_TOPN);
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

/* One watched process. */
struct wtarget {
	pid_t pid;
	struct watch w;
	struct inspect_baseline base;   /* --content: present-page runs at the first sample */
	int baseline_taken;
	struct watch_view v;            /* of the latest sample */
	struct report *rep;             /* --report */
	struct trigger_set ts;          /* --trigger: this process's history and cooldowns */
	struct wcmd *wc;
};

/* One run of watch: its options, then its state. */
struct wcmd {
	const char *name;
	int json, batch, color, ascii, content, metrics_listen;
	unsigned long count, top, content_top, metrics_top;
	struct watch_opts wo;
	struct analysis_opts ao;
	uint64_t budget;
	const char *metrics_path, *cgroup_dir, *report_path;
	int argc;                       /* the command line, for the report */
	char **argv;
	struct metrics_addr maddr;
	struct trigger_set trig;        /* --trigger: the options, and the limits' counters */
	int *pids;                      /* -p: the list (cx->pids) */
	size_t npids;
	char **cmd;                     /* -- CMD [ARG...] */
	/* state */
	pid_t child;
	struct metrics_server *msrv;
	struct cgroup cg;
	int cg_open, many;              /* many: -p A,B or --cgroup (several processes) */
	int cg_full_said;               /* more than CLI_MAX_PIDS: said once */
	struct wtarget **t;
	size_t nt;
	pid_t *skip;                    /* --cgroup: pids that cannot be watched (said once) */
	size_t nskip;
	uint64_t rounds;                /* samples taken of the whole set */
	int exited_any, rc;
};

static int on_report(void *ctx, const struct trigger_event *ev);

static int parse_options(struct cli_ctx *cx, int argc, char **argv, struct wcmd *wc)
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
		{ "cgroup", required_argument, NULL, CLI_OPT_OWN + 6 },
		{ "report", required_argument, NULL, CLI_OPT_OWN + 7 },
		/* triggers (trigger.c): CLI_OPT_OWN + 8 + TRIGGER_OPT_* */
		{ "trigger", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_EXPR },
		{ "on-trigger", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_ACTIONS },
		{ "out", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_OUT },
		{ "max-triggers", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_MAX },
		{ "trigger-cooldown", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_COOLDOWN },
		{ "out-budget", required_argument, NULL, CLI_OPT_OWN + 8 + TRIGGER_OPT_BUDGET },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = cx->name;
	struct rw_err err;
	int c;

	cx->analysis = &wc->ao;
	while ((c = cli_getopt(cx, argc, argv, "n:", opts)) > 0) {
		switch (c) {
		case 'n':
			if (parse_count(optarg, &wc->count)) {
				cli_error(name, "invalid count '%s' (a positive number)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'w':
			if (cli_parse_seconds(optarg, &wc->wo.window)) {
				cli_error(name, "invalid window '%s' (seconds)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 't':
			if (parse_count(optarg, &wc->top) || wc->top > 100000) {
				cli_error(name, "invalid --top '%s' (a positive number)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'b':
			wc->batch = 1;
			break;
		case 'C':
			if (!strcmp(optarg, "never"))
				wc->color = 0;
			else if (!strcmp(optarg, "always"))
				wc->color = 1;
			else if (!strcmp(optarg, "auto"))
				wc->color = -1;
			else {
				cli_error(name, "--color takes never, auto or always, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case 'a':
			wc->ascii = 1;
			break;
		case 'M': {
			char *e;
			errno = 0;
			wc->wo.max_cost = strtod(optarg, &e);
			if (errno || e == optarg || *e || !(wc->wo.max_cost >= 0) || wc->wo.max_cost > 100) {
				cli_error(name, "--max-cost takes a percentage of one core from 0 (no "
					  "budget) to 100, not '%s'", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
		case CLI_OPT_OWN:
			wc->content = 1;
			break;
		case CLI_OPT_OWN + 1:
			if (parse_size(optarg, &wc->budget) || wc->budget < 4096) {
				cli_error(name, "invalid --content-budget '%s' (a size of at least 4K, "
					  "such as 256K or 64M)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case CLI_OPT_OWN + 2:
			if (parse_count(optarg, &wc->content_top) || wc->content_top > INSPECT_TOPN) {
				cli_error(name, "invalid --content-top '%s' (1 to %d)", optarg, INSPECT_TOPN);
				return RW_EXIT_USAGE;
			}
			break;
		case CLI_OPT_OWN + 3:
			if (!*optarg) {
				cli_error(name, "--metrics-textfile needs a path");
				return RW_EXIT_USAGE;
			}
			wc->metrics_path = optarg;
			break;
		case CLI_OPT_OWN + 4:
			if (metrics_parse_addr(optarg, &wc->maddr, &err)) {
				cli_error(name, "%s", err.msg);
				return RW_EXIT_USAGE;
			}
			wc->metrics_listen = 1;
			break;
		case CLI_OPT_OWN + 5:
			if (parse_count(optarg, &wc->metrics_top) || wc->metrics_top > 1000) {
				cli_error(name, "invalid --metrics-top '%s' (1 to 1000)", optarg);
				return RW_EXIT_USAGE;
			}
			break;
		case CLI_OPT_OWN + 6:
			if (!*optarg) {
				cli_error(name, "--cgroup needs a directory");
				return RW_EXIT_USAGE;
			}
			wc->cgroup_dir = optarg;
			break;
		case CLI_OPT_OWN + 7:
			if (!*optarg) {
				cli_error(name, "--report needs a path");
				return RW_EXIT_USAGE;
			}
			wc->report_path = optarg;
			break;
		default:
			/* --trigger and its options: parsed by trigger.c */
			if (c >= CLI_OPT_OWN + 8 && c < CLI_OPT_OWN + 8 + TRIGGER_OPT_COUNT &&
			    trigger_option(&wc->trig, c - (CLI_OPT_OWN + 8), optarg, &err)) {
				cli_error(name, "%s", err.msg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	/* the options fit together, --out is a writable directory, `report` has --report */
	if ((c = trigger_check(&wc->trig, wc->report_path ? on_report : NULL, NULL, &err))) {
		cli_error(name, "%s", err.msg);
		return c == -EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	}
	if (!wc->content && (wc->ao.grep || wc->ao.histogram || wc->ao.encodings)) {
		cli_error(name, "--encoding, --grep and --histogram go with --content");
		return RW_EXIT_USAGE;
	}
	wc->ao.top = wc->content_top;
	if (!wc->ao.encodings)
		wc->ao.encodings = SCAN_ENC_ASCII;
	wc->json = cx->json;
	wc->pids = cx->pids;
	wc->npids = cx->npids;
	if (cx->interval)
		wc->wo.interval = cx->interval;
	if (optind < argc && !strcmp(argv[optind - 1], "--")) {
		if (cx->pid || wc->cgroup_dir) {
			cli_error(name, "give -p PID, --cgroup DIR or -- CMD, not two of them");
			return RW_EXIT_USAGE;
		}
		wc->cmd = argv + optind;
	} else if (optind < argc) {
		cli_error(name, "unexpected argument '%s' (a command to run goes after --)", argv[optind]);
		return RW_EXIT_USAGE;
	} else if (cx->pid && wc->cgroup_dir) {
		cli_error(name, "give either -p PID or --cgroup DIR, not both");
		return RW_EXIT_USAGE;
	} else if (!cx->pid && !wc->cgroup_dir) {
		cli_error(name, "which process? give -p PID, --cgroup DIR, or -- CMD to start one");
		return RW_EXIT_USAGE;
	}
	wc->many = wc->npids > 1 || wc->cgroup_dir;
	return -1;
}

/* --content at the end: the new pages of the first growing rows (a pool's row: its
 * members). Returns why there is none (NULL when rows were read). */
static const char *read_content(struct wtarget *t, uint64_t budget, const struct analysis_opts *ao,
				struct inspect_growth *grown, size_t *rows, size_t *ngrown)
{
	struct watch *w = &t->w;
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
		rc = inspect_growth(&grown[*ngrown], &w->sm.proc, s, &t->base, spans, n, budget, ao, &err);
		free(spans);
		rows[(*ngrown)++] = i;
		if (rc == -ESRCH)
			break;
	}
	return *ngrown ? NULL : "nothing grew";
}

/* Start watching pid. Returns 0, or -errno with err set (no such process, denied...). */
static int target_add(struct wcmd *wc, pid_t pid, struct rw_err *err)
{
	struct wtarget *t = xcalloc(1, sizeof(*t));
	struct watch_opts o = wc->wo;
	int rc;

	o.pid = pid;
	t->pid = pid;
	rc = watch_open(&t->w, &o, err);
	if (rc) {
		free(t);
		return rc;
	}
	inspect_baseline_init(&t->base);
	if (wc->report_path)
		t->rep = report_new(wc->argc, wc->argv);
	t->wc = wc;
	trigger_fork(&wc->trig, &t->ts, t);
	trigger_open(&t->ts, wc->name ? wc->name : "watch", stdout, wc->json);
	wc->t = xreallocarray(wc->t, wc->nt + 1, sizeof(*wc->t));
	wc->t[wc->nt++] = t;
	return 0;
}

static void target_free(struct wtarget *t)
{
	trigger_close(&t->ts);
	report_free(t->rep);
	inspect_baseline_free(&t->base);
	watch_close(&t->w);
	free(t);
}

static int skipped(const struct wcmd *wc, pid_t pid)
{
	for (size_t i = 0; i < wc->nskip; i++)
		if (wc->skip[i] == pid)
			return 1;
	return 0;
}

/* --cgroup: pick up the processes that joined since the last sample. Those that left are
 * found by their watch (-ESRCH). A process that cannot be watched is said once. */
static int cgroup_refresh(struct wcmd *wc, struct rw_err *err)
{
	pid_t *pids = xcalloc(CLI_MAX_PIDS, sizeof(*pids));
	int more = 0;
	ssize_t n = cgroup_pids(&wc->cg, pids, CLI_MAX_PIDS, &more, err);

	if (more && !wc->cg_full_said) {
		char path[512];
		cli_error(wc->name, "cgroup %s holds more than %d processes: only the first %d "
			  "found are watched", escape_ctl(wc->cg.path, path, sizeof(path)),
			  CLI_MAX_PIDS, CLI_MAX_PIDS);
		wc->cg_full_said = 1;
	}

	for (ssize_t i = 0; i < n; i++) {
		struct rw_err e2;
		int have = skipped(wc, pids[i]);

		for (size_t k = 0; k < wc->nt && !have; k++)
			have = wc->t[k]->pid == pids[i];
		if (have || pids[i] == getpid())
			continue;
		if (target_add(wc, pids[i], &e2) && e2.code != ESRCH) {
			cli_error(wc->name, "%s (not watched)", e2.msg);
			wc->skip = xreallocarray(wc->skip, wc->nskip + 1, sizeof(*wc->skip));
			wc->skip[wc->nskip++] = pids[i];
		}
	}
	free(pids);
	return n < 0 ? (int)n : 0;
}

/* Start the watch: the listener, CMD, the processes. Returns -1 to go on, or an exit
 * status. */
static int setup(struct wcmd *wc)
{
	struct rw_err err;
	int exec_errno = 0;

	/* Listen before the target is started or sampled: a busy port is an error up front. */
	if (wc->metrics_listen && metrics_server_open(&wc->msrv, &wc->maddr, &err)) {
		cli_error(wc->name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if (wc->cgroup_dir) {
		if (cgroup_open(&wc->cg, wc->cgroup_dir, &err)) {
			cli_error(wc->name, "%s", err.msg);
			return RW_EXIT_FAIL;
		}
		wc->cg_open = 1;
		if (cgroup_refresh(wc, &err)) {
			cli_error(wc->name, "%s", err.msg);
			return RW_EXIT_FAIL;
		}
		return -1;
	}
	if (wc->cmd) {
		pid_t child = spawn(wc->cmd, &exec_errno);
		if (child < 0) {
			cli_error(wc->name, "cannot start '%s': %s", wc->cmd[0], strerror((int)-child));
			return RW_EXIT_FAIL;
		}
		if (exec_errno) {
			wait_child(child);
			cli_error(wc->name, "cannot run '%s': %s", wc->cmd[0], strerror(exec_errno));
			return exec_errno == ENOENT ? 127 : 126;
		}
		wc->child = child;
		if (target_add(wc, child, &err)) {
			cli_error(wc->name, "%s", err.msg);
			return wait_child(child);
		}
		return -1;
	}
	for (size_t i = 0; i < wc->npids; i++)
		if (target_add(wc, wc->pids[i], &err)) {
			/* a list: every process named must be there at the start */
			cli_error(wc->name, "%s", err.msg);
			return RW_EXIT_FAIL;
		}
	return -1;
}

/* --content: the baseline is the present-page runs of the areas a leak grows in. */
static void take_baseline(struct wtarget *t)
{
	struct rw_err err;

	t->baseline_taken = 1;
	for (size_t i = 0; i < t->w.tl.nareas; i++) {
		const struct area *a = &t->w.tl.areas[i];
		if (inspect_growth_kind(a->kind) &&
		    inspect_baseline_add(&t->base, &t->w.sm.proc, a->id, a->start, a->end, &err) == -ESRCH)
			break;
	}
	inspect_baseline_index(&t->base);
}

/* --report FILE.html; several processes: FILE.PID.html each. 0 or -errno with err. */
static int write_report(struct wcmd *wc, struct wtarget *t, const struct watch_view *v,
			struct rw_err *err)
{
	const char *path = wc->report_path, *dot;
	char *own = NULL;
	int rc;

	if (wc->many) {
		size_t n = strlen(path);
		dot = strrchr(path, '.');
		if (!dot || strchr(dot, '/'))
			dot = path + n;
		own = xmalloc(n + 16);
		snprintf(own, n + 16, "%.*s.%d%s", (int)(dot - path), path, (int)t->pid, dot);
		path = own;
	}
	rc = report_write(t->rep, v, path, err);
	free(own);
	return rc;
}

/* DIR/NAME, at most max bytes (NUL-terminated), or NULL. */
static char *read_small(const char *dir, const char *name, size_t max)
{
	char path[4096 + 64];
	char *buf;
	ssize_t n;
	size_t have = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = xmalloc(max + 1);
	while (have < max && (n = read(fd, buf + have, max - have)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		have += (size_t)n;
	}
	close(fd);
	buf[have] = 0;
	return buf;
}

/* The `report` action: the event and its stacks (the stacks.txt it wrote) into the
 * report, which is rewritten now. */
static int on_report(void *ctx, const struct trigger_event *ev)
{
	struct wtarget *t = ctx;
	char *line = NULL, *stacks = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&line, &n);
	struct rw_err err;
	int rc;

	if (!t->rep)
		return -EINVAL;
	if (fp) {
		trigger_event_text(fp, ev);
		fclose(fp);
		if (line && n && line[n - 1] == '\n')
			line[n - 1] = 0;
	}
	for (size_t i = 0; ev->dir && i < ev->nfiles; i++)
		if (!strcmp(ev->files[i], "stacks.txt"))
			stacks = read_small(ev->dir, "stacks.txt", REPORT_STACKS_MAX);
	report_add_event(t->rep, ev->elapsed, line ? line : "", stacks);
	free(line);
	free(stacks);
	rc = write_report(t->wc, t, &t->v, &err);
	if (rc)
		cli_error(t->wc->name, "%s", err.msg);
	return rc;
}

/* The final ranking of one process: when it exits (several), or at the end. */
static void summarize(struct wcmd *wc, struct wtarget *t, int stopped)
{
	struct watch *w = &t->w;
	struct inspect_growth grown[INSPECT_GROWTH_ROWS];
	size_t ngrown = 0, grown_rows[INSPECT_GROWTH_ROWS];
	const char *content_note = NULL;
	struct watch_view v;

	if (!w->tl.seq)
		return;
	watch_rank(w, wc->json ? SIZE_MAX : wc->top);
	if (wc->content)
		content_note = read_content(t, wc->budget, &wc->ao, grown, grown_rows, &ngrown);
	watch_fill_view(w, &v);
	v.content_asked = wc->content;
	v.content = grown;
	v.content_rows = grown_rows;
	v.ncontent = ngrown;
	v.content_note = content_note;
	v.content_budget = wc->budget;
	v.content_histogram = wc->ao.histogram;
	v.end = w->exited ? "exited" : stopped ? "interrupted" : "count";
	v.torn = w->torn_total;
	if (wc->json)
		out_json_watch_summary(stdout, &v);
	else
		out_table_watch_summary(stdout, &v);
	fflush(stdout);
	if (t->rep) {
		struct rw_err err;
		if (write_report(wc, t, &v, &err)) {
			cli_error(wc->name, "%s", err.msg);
			wc->rc = RW_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < ngrown; i++)
		inspect_growth_free(&grown[i]);
}

/* A process of several exited: its summary, a note, and it is dropped. */
static void target_gone(struct wcmd *wc, size_t i)
{
	struct wtarget *t = wc->t[i];

	/* --cgroup: a process seen once (a short-lived helper) is only noted */
	if (!wc->cgroup_dir || t->w.tl.seq >= 2)
		summarize(wc, t, 0);
	if (!wc->cgroup_dir || t->w.tl.seq >= 2)
		cli_error(wc->name, "process %d exited after %llu sample%s", t->pid,
			  (unsigned long long)t->w.tl.seq, t->w.tl.seq == 1 ? "" : "s");
	wc->exited_any = 1;
	target_free(t);
	memmove(&wc->t[i], &wc->t[i + 1], (wc->nt - i - 1) * sizeof(*wc->t));
	wc->nt--;
}

/* The metrics of every process, to the textfile and the endpoint. */
static int publish_metrics(struct wcmd *wc)
{
	const struct watch_view **vs = xcalloc(wc->nt ? wc->nt : 1, sizeof(*vs));
	struct rw_err err;
	size_t mlen;
	char *mtext;
	int mr = 0;

	for (size_t i = 0; i < wc->nt; i++)
		vs[i] = &wc->t[i]->v;
	mtext = metrics_format_set_dup(vs, wc->nt, wc->metrics_top, &mlen);
	if (wc->metrics_path)
		mr = metrics_textfile_write(wc->metrics_path, mtext, mlen, &err);
	if (wc->msrv)
		metrics_server_set(wc->msrv, mtext, mlen);
	free(mtext);
	free(vs);
	if (mr)
		cli_error(wc->name, "%s", err.msg);
	return mr;
}

/* One sample of every process. Returns 0 to go on, 1 to stop (all gone, or an error:
 * wc->rc). */
static int sample_all(struct wcmd *wc, double *cost_avg)
{
	size_t rows = wc->top;
	struct rw_err err;

	if (wc->metrics_path || wc->msrv)
		rows = wc->top > wc->metrics_top ? wc->top : wc->metrics_top;
	if (wc->cg_open && cgroup_refresh(wc, &err)) {
		cli_error(wc->name, "%s", err.msg);
		wc->rc = RW_EXIT_FAIL;
		return 1;
	}
	*cost_avg = 0;
	for (size_t i = 0; i < wc->nt;) {
		struct wtarget *t = wc->t[i];
		int r = watch_step(&t->w, &err);

		if (r == -ESRCH && wc->many) {
			target_gone(wc, i);
			continue;
		}
		if (r == -ESRCH)
			return 1;
		if (r) {
			cli_error(wc->name, "%s", err.msg);
			wc->rc = RW_EXIT_FAIL;
			return 1;
		}
		if (wc->content && !t->baseline_taken)
			take_baseline(t);
		/* The metrics may want more rows than the table shows. */
		watch_rank(&t->w, rows);
		watch_fill_view(&t->w, &t->v);
		report_add_sample(t->rep, &t->v);   /* NULL: no report */
		/* test the expressions on this sample's rows, fire (event lines, actions), set
		 * v.triggers_total for the metrics */
		trigger_eval(&t->ts, &t->w, &t->v);
		*cost_avg += watch_cost_avg(&t->w);
		i++;
	}
	wc->rounds++;
	if (!wc->nt && !wc->cgroup_dir)
		return 1;   /* every process of the list exited */
	return 0;
}

static int print_samples(struct wcmd *wc, double interval)
{
	if ((wc->metrics_path || wc->msrv) && publish_metrics(wc)) {
		wc->rc = RW_EXIT_FAIL;
		return 1;
	}
	if (wc->cg_open) {
		char path[512];
		if (wc->json)
			out_json_watch_cgroup(stdout, wc->cg.path, wc->rounds, wc->nt);
		else
			printf("cgroup %s  sample %llu  %zu process%s\n%s",
			       escape_ctl(wc->cg.path, path, sizeof(path)), (unsigned long long)wc->rounds,
			       wc->nt, wc->nt == 1 ? "" : "es", wc->nt ? "" : "\n");
	}
	for (size_t i = 0; i < wc->nt; i++) {
		struct watch_view *v = &wc->t[i]->v;

		/* one budget for all: the interval is the set's */
		v->interval = interval;
		v->stretched = interval > wc->wo.interval;
		if (v->n > wc->top)
			v->n = wc->top;
		if (wc->json)
			out_json_watch_sample(stdout, v);
		else
			out_table_watch_sample(stdout, v);
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(wc->name, "writing standard output: %s", strerror(errno ? errno : EIO));
		wc->rc = RW_EXIT_FAIL;
		return 1;
	}
	return 0;
}

static void run(struct wcmd *wc)
{
	double next = now_mono();

	for (;;) {
		double cost_avg, interval;

		if (sample_all(wc, &cost_avg))
			break;
		interval = watch_interval_for(&wc->wo, cost_avg);
		if (print_samples(wc, interval))
			break;
		if (wc->count && wc->rounds >= wc->count)
			break;
		/* as asked, or stretched by the cost budget (--max-cost) */
		next += interval;
		if (next < now_mono())
			next = now_mono();
		if (wc->msrv)
			metrics_server_wait(wc->msrv, next, &stop_signal);   /* answers /metrics meanwhile */
		while (!stop_signal && now_mono() < next)
			sleep_until(next);
		if (stop_signal)
			break;
	}
}

/* The summaries of the processes still watched, and the exit status. */
static int finish(struct wcmd *wc)
{
	int rc = 0;

	for (size_t i = 0; i < wc->nt; i++) {
		struct wtarget *t = wc->t[i];

		summarize(wc, t, stop_signal != 0);
		if (t->w.exited && !wc->child) {
			cli_error(wc->name, "process %d exited after %llu sample%s; the ranking covers %s",
				  t->pid, (unsigned long long)t->w.tl.seq, t->w.tl.seq == 1 ? "" : "s",
				  t->w.tl.seq == 1 ? "it" : "them");
			rc = RW_EXIT_FAIL;
		}
	}
	/* -p A,B: one that exited is an exit of the target, as for one process */
	if (wc->exited_any && !wc->cgroup_dir && !rc)
		rc = RW_EXIT_FAIL;
	return wc->rc ? wc->rc : rc;   /* an error on the way (a report not written) */
}

int cmd_watch(struct cli_ctx *cx, int argc, char **argv)
{
	struct wcmd wc;
	int rc;

	memset(&wc, 0, sizeof(wc));
	wc.name = cx->name;
	trigger_init(&wc.trig);
	wc.argc = argc;
	wc.argv = argv;
	wc.color = -1;
	wc.top = 10;
	wc.content_top = 10;
	wc.metrics_top = METRICS_TOP_DEFAULT;
	wc.budget = INSPECT_BUDGET_DEFAULT;
	wc.wo = (struct watch_opts){ 0, 1.0, 120.0, WATCH_MAX_COST_DEFAULT };
	rc = parse_options(cx, argc, argv, &wc);
	if (rc >= 0)
		return rc;

	/* regionwatch -p PID on a terminal: the live monitor. */
	if (!wc.name && cx->pid && !wc.json && !wc.batch && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO)) {
		struct ui_opts uo = { cx->pid, wc.wo.interval, wc.wo.window, wc.wo.max_cost, wc.count,
				      wc.color, wc.ascii };
		if (wc.content || wc.metrics_path || wc.metrics_listen || wc.report_path || wc.many ||
		    trigger_active(&wc.trig)) {
			cli_error(wc.name, "--content, --metrics-*, --report, --trigger and several "
				  "processes are for the batch output (add --batch or --json)");
			return RW_EXIT_USAGE;
		}
		return ui_run(&uo);
	}
	install_stop_handlers();
	rc = setup(&wc);
	if (rc < 0) {
		run(&wc);
		rc = finish(&wc);
	}
	for (size_t i = 0; i < wc.nt; i++)
		target_free(wc.t[i]);
	free(wc.t);
	free(wc.skip);
	if (wc.cg_open)
		cgroup_close(&wc.cg);
	metrics_server_close(wc.msrv);
	if (wc.child)
		return wait_child(wc.child);
	return rc;
}
