/* procfs: the stat, status and syscall parsers on real and edge-case text (comm with
 * spaces and ')', a zombie, kernel threads, a tracer, a running and a blocked thread),
 * then the task readers on a real child through its dir fd: while it runs, as a zombie,
 * and after it is reaped (the pinned fd says ESRCH, it does not follow the pid). */
#include "tap.h"
#include "procfs.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* Parse a string literal (without its NUL). */
#define STAT(lit, st) procfs_parse_stat((lit), (lit) + sizeof(lit) - 1, (st))
#define STATUS(lit, st) procfs_parse_status((lit), (lit) + sizeof(lit) - 1, (st))
#define SYSCALL(lit, sp) procfs_parse_syscall((lit), (lit) + sizeof(lit) - 1, (sp))

static void test_stat(void)
{
	struct procfs_stat st;
	char line[1024];
	size_t n;

	/* 52 fields as a 6.x kernel writes them, kstkesp (29) set as during a core dump. */
	n = (size_t)snprintf(line, sizeof(line), "4242 (a) b) c (d)) R");
	for (int f = 4; f <= 52; f++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %llu",
				      f == 29 ? 0x7ffd1234abcdULL : (unsigned long long)f);
	line[n++] = '\n';
	ok(procfs_parse_stat(line, line + n, &st) == 0, "stat: parsed");
	is_str(st.comm, "a) b) c (d)", "stat: comm with spaces and ')' runs to the last ')'");
	ok(st.state == 'R', "stat: state");
	ok(st.has_start, "stat: has a start time");
	is_u64(st.start_ticks, 22, "stat: start time is field 22");
	is_u64(st.kstkesp, 0x7ffd1234abcdULL, "stat: kstkesp is field 29");

	/* comm ") S 1 2 3": a name that looks like the fields that follow it. */
	n = (size_t)snprintf(line, sizeof(line), "5 () S 1 2 3) T 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
			     "18 777\n");
	ok(procfs_parse_stat(line, line + n, &st) == 0 && !strcmp(st.comm, ") S 1 2 3") && st.state == 'T' &&
	   st.has_start && st.start_ticks == 777, "stat: a comm that mimics fields does not shift them");

	ok(STAT("7 (w) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 0 27 28", &st) == 0 &&
	   st.kstkesp == 0, "stat: kstkesp 0 (every live thread on current kernels)");
	ok(STAT("7 (w) S 1 2", &st) == 0 && st.state == 'S' && !st.has_start && st.kstkesp == 0,
	   "stat: short line: no start time, no sp, no error");
	ok(STAT("7 (w) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x1", &st) == 0 && !st.has_start,
	   "stat: a start time that is not a number is not one");
	ok(STAT("7 (w S 1 2", &st) == -EINVAL && st.state == '?', "stat: no ')': -EINVAL");
	ok(STAT("7 w) S 1 2", &st) == -EINVAL, "stat: no '(': -EINVAL");
	ok(STAT("7 (w) SS 1 2", &st) == -EINVAL, "stat: a two-letter state: -EINVAL");
	ok(STAT("7 (w)", &st) == -EINVAL, "stat: no state: -EINVAL");
	ok(procfs_parse_stat(line, line, &st) == -EINVAL, "stat: empty: -EINVAL");

	/* comm of 15 bytes with every kind of odd byte but NUL. */
	ok(STAT("9 (\x1b[31m) (\t\\x) S 1", &st) == 0 && !strcmp(st.comm, "\x1b[31m) (\t\\x"),
	   "stat: control bytes in comm kept as they are (escaped when printed)");

	/* Real lines (6.x): a zombie, kthreadd, a kworker with its workqueue in the name
	 * (longer than TASK_COMM_LEN: fs/proc/array.c proc_task_name). */
	ok(STAT("4870 (python3) Z 4829 4827 17137 0 -1 4227148 225 0 0 0 0 0 0 0 20 0 1 0 51927 0 0 "
		"18446744073709551615 0 0 0 0 0 0 0 16781312 2 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", &st) == 0 &&
	   st.state == 'Z' && !strcmp(st.comm, "python3") && st.start_ticks == 51927 && st.kstkesp == 0 &&
	   !(st.flags & PROCFS_PF_KTHREAD),
	   "stat: a zombie (a user process: flags without PF_KTHREAD)");
	ok(STAT("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 14 0 0 18446744073709551615 0 0 0 "
		"0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", &st) == 0 &&
	   st.state == 'S' && !strcmp(st.comm, "kthreadd") && st.start_ticks == 14 &&
	   (st.flags & PROCFS_PF_KTHREAD),
	   "stat: kthreadd (tty -1, rsslim 2^64-1), flags say kernel thread");
	ok(STAT("10 (kworker/0:0H-events_highpri) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 14 0 0 "
		"18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", &st) == 0 &&
	   st.state == 'I' && !strcmp(st.comm, "kworker/0:0H-events_highpri") && st.start_ticks == 14,
	   "stat: an idle kworker, comm longer than 15 bytes");

	/* A comm longer than the buffer is cut, the fields after it still found. */
	n = (size_t)snprintf(line, sizeof(line), "11 (");
	for (int i = 0; i < 100; i++)
		line[n++] = 'k';
	n += (size_t)snprintf(line + n, sizeof(line) - n, ") D 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99");
	ok(procfs_parse_stat(line, line + n, &st) == 0 && strlen(st.comm) == sizeof(st.comm) - 1 &&
	   st.state == 'D' && st.start_ticks == 99, "stat: a 100-byte comm cut to %zu bytes", sizeof(st.comm) - 1);
}

static const char empty[] = "";

static void test_status(void)
{
	struct procfs_status st;

	ok(STATUS("Name:\tstrace me\nUmask:\t0022\nState:\tt (tracing stop)\nTgid:\t4242\nNgid:\t0\n"
		  "Pid:\t4242\nPPid:\t1\nTracerPid:\t4711\nUid:\t1000\t1000\t1000\t1000\n", &st) == 0 &&
	   st.state == 't' && st.tracer_pid == 4711, "status: traced (TracerPid 4711, State t)");
	ok(STATUS("Name:\tsleepy\nState:\tS (sleeping)\nTracerPid:\t0\n", &st) == 0 && st.state == 'S' &&
	   st.tracer_pid == 0, "status: not traced");
	ok(STATUS("TracerPid:\t12\nState:\tZ (zombie)", &st) == 0 && st.tracer_pid == 12 && st.state == 'Z',
	   "status: any order, first line, no final newline");
	ok(STATUS("Name:\tx\nState:\tR (running)\n", &st) == -EINVAL && st.state == 'R' && st.tracer_pid == 0,
	   "status: no TracerPid: -EINVAL, State still filled");
	ok(STATUS("Name:\tTracerPid:\t9\nXTracerPid:\t8\nState:\tS (sleeping)\nTracerPid:\t7\n", &st) == 0 &&
	   st.tracer_pid == 7, "status: a key only counts at the start of a line");
	ok(STATUS("State:\tS (sleeping)\nTracerPid:\tabc\n", &st) == -EINVAL && st.tracer_pid == 0,
	   "status: TracerPid not a number: -EINVAL");
	ok(STATUS("State:\tS (sleeping)\nTracerPid:\t99999999999\n", &st) == -EINVAL && st.tracer_pid == 0,
	   "status: TracerPid beyond a pid: -EINVAL");
	ok(STATUS("State:\tsleeping\nTracerPid:\t0\n", &st) == -EINVAL && st.state == '?',
	   "status: State without its letter: -EINVAL");
	ok(procfs_parse_status(empty, empty, &st) == -EINVAL && st.state == '?' && st.tracer_pid == 0,
	   "status: empty: -EINVAL");
}

static void test_syscall(void)
{
	uint64_t sp = 1;
	int rc;

	ok(SYSCALL("running\n", &sp) == -EAGAIN && sp == 1, "syscall: a running thread: -EAGAIN, no SP");
	ok(SYSCALL("230 0x0 0x0 0x7ffcda39aad0 0x7ffcda39ab10 0x0 0x0 0x7ffcda39aab8 0x7f0929249503\n", &sp) == 0,
	   "syscall: blocked in clock_nanosleep: parsed");
	is_u64(sp, 0x7ffcda39aab8ULL, "syscall: the SP is the next-to-last field, not the 2nd");
	ok(SYSCALL("-1 0x7ffd00001000 0x401000\n", &sp) == 0 && sp == 0x7ffd00001000ULL,
	   "syscall: blocked outside a syscall (-1 SP PC)");
	ok(SYSCALL("-1 0x0 0x0\n", &sp) == 0 && sp == 0, "syscall: a zombie (-1 0x0 0x0): SP 0");
	ok(SYSCALL("230 0x0 0x1", &sp) == 0 && sp == 0, "syscall: 3 fields are read as -1 SP PC");
	ok(SYSCALL("230 0x0 0x1 0x2", &sp) == -EINVAL, "syscall: 4 fields: -EINVAL");
	ok(procfs_parse_syscall(empty, empty, &sp) == -EINVAL, "syscall: empty: -EINVAL");
	ok(SYSCALL("-1 0x1ffffffffffffffff 0x1", &sp) == -EINVAL, "syscall: overflow: -EINVAL");
	ok(SYSCALL("-1 0xzz 0x1", &sp) == -EINVAL, "syscall: not hex: -EINVAL");
	{
		static const char cut[] = "-1 0x10 0x2";
		rc = procfs_parse_syscall(cut, cut + 7, &sp);   /* "-1 0x10": 2 fields */
		ok(rc == -EINVAL, "syscall: stops at end, not at NUL");
	}
	ok(!strcmp(procfs_sp_source_name(PROCFS_SP_SYSCALL), "syscall") &&
	   !strcmp(procfs_sp_source_name(PROCFS_SP_KSTKESP), "kstkesp") &&
	   !strcmp(procfs_sp_source_name(PROCFS_SP_NONE), "none"), "sp source names");
}

/* ---- A real child: the main thread and two named workers, all blocked in pause(). ---- */

static atomic_int *ready;

static void *worker(void *arg)
{
	(void)arg;
	atomic_fetch_add(ready, 1);
	for (;;)
		pause();
	return NULL;
}

static pid_t start_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < 2; i++) {
			pthread_t t;
			char name[32];       /* pthread_setname_np takes at most 15 bytes: these are 7 */
			pthread_create(&t, NULL, worker, NULL);
			snprintf(name, sizeof(name), "unit-w%d", i + 1);
			pthread_setname_np(t, name);
		}
		for (;;)
			pause();
	}
	while (atomic_load(ready) < 2)
		usleep(1000);
	usleep(50000);                /* from the counter into pause() */
	return pid;
}

/* The mapping of pid holding addr, from /proc/PID/maps: 1 when found. */
static int in_mapping(pid_t pid, uint64_t addr, const char *want_path)
{
	char path[64], line[512];
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		unsigned long long s = strtoull(line, NULL, 16), e = strtoull(strchr(line, '-') + 1, NULL, 16);
		if (s <= addr && addr < e) {
			found = !want_path || strstr(line, want_path);
			break;
		}
	}
	if (fp)
		fclose(fp);
	return found;
}

static void test_live(void)
{
	struct procfs p;
	struct rw_err err;
	struct procfs_task *tasks;
	struct procfs_stat st;
	struct procfs_status status;
	pid_t *tids, pid;
	size_t ntids, ntasks, named = 0, with_sp = 0;
	uint64_t sp = 0;
	int rc;

	ready = mmap(NULL, sizeof(*ready), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = start_child();
	ok(procfs_open(pid, &p, &err) == 0, "open child");

	ok(procfs_tids(&p, &tids, &ntids, &err) == 0, "tids");
	ok(ntids == 3 && tids[0] == pid && tids[0] < tids[1] && tids[1] < tids[2],
	   "tids: 3, sorted, the main thread first");
	free(tids);

	ok(procfs_task_stat(&p, pid, &st, &err) == 0 && st.state == 'S' && st.has_start &&
	   st.start_ticks == p.start_ticks, "task stat of the main thread: sleeping, the process's start time");
	rc = procfs_task_syscall_sp(&p, pid, &sp, &err);
	ok(rc == 0 && in_mapping(pid, sp, "[stack]"), "task syscall: the blocked main thread's SP is in [stack]");
	ok(procfs_task_stat(&p, 999999999, &st, &err) == -ESRCH && err.code == ESRCH,
	   "task stat of no such thread: -ESRCH (%s)", err.msg);

	ok(procfs_task_list(&p, &tasks, &ntasks, &err) == 0, "task list");
	is_u64(ntasks, 3, "3 threads");
	for (size_t i = 0; i < ntasks; i++) {
		named += !strncmp(tasks[i].comm, "unit-w", 6);
		if (tasks[i].sp_source == PROCFS_SP_SYSCALL &&
		    in_mapping(pid, tasks[i].sp, tasks[i].tid == pid ? "[stack]" : NULL))
			with_sp++;
	}
	ok(ntasks && tasks[0].tid == pid && tasks[0].state == 'S', "sorted: the main thread first, sleeping");
	is_u64(named, 2, "the workers' names");
	is_u64(with_sp, 3, "every blocked thread's SP, from the syscall file, in a mapping ([stack] for main)");
	free(tasks);

	ok(procfs_status(&p, &status, &err) == 0 && status.state == 'S' && status.tracer_pid == 0,
	   "status: sleeping, and the task list traced nothing");
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
		ok(procfs_status(&p, &status, &err) == 0 && status.tracer_pid == getpid(),
		   "status: TracerPid is us once we seize it");
	} else {
		ok(1, "# SKIP cannot seize the child: %s", strerror(errno));
	}

	/* A zombie: the workers are gone, the leader is left until it is reaped. */
	kill(pid, SIGKILL);
	for (int i = 0; i < 2000; i++) {
		int leader_only = !procfs_tids(&p, &tids, &ntids, NULL) && ntids == 1;
		free(tids);
		if (leader_only && !procfs_task_stat(&p, pid, &st, NULL) && st.state == 'Z')
			break;
		usleep(1000);
	}
	ok(st.state == 'Z', "zombie: task stat state Z");
	ok(procfs_status(&p, &status, &err) == 0 && status.state == 'Z', "zombie: status State Z");
	ok(procfs_tids(&p, &tids, &ntids, &err) == 0 && ntids == 1 && tids[0] == pid,
	   "zombie: the leader alone in task/");
	free(tids);
	ok(procfs_task_list(&p, &tasks, &ntasks, &err) == 0 && ntasks == 1 && tasks[0].state == 'Z' &&
	   tasks[0].sp == 0 && tasks[0].sp_source == PROCFS_SP_NONE, "zombie: listed, no SP");
	free(tasks);

	/* Reaped: the pid may be reused, the dir fd still names the old process. */
	waitpid(pid, NULL, 0);
	ok(procfs_tids(&p, &tids, &ntids, &err) == -ESRCH && !tids && !ntids, "reaped: tids -ESRCH (%s)", err.msg);
	ok(procfs_task_list(&p, &tasks, &ntasks, &err) == -ESRCH && !tasks && !ntasks, "reaped: task list -ESRCH");
	ok(procfs_task_stat(&p, pid, &st, NULL) == -ESRCH, "reaped: task stat -ESRCH");
	ok(procfs_status(&p, &status, NULL) == -ESRCH && status.tracer_pid == 0, "reaped: status -ESRCH");
	ok(procfs_check_alive(&p, NULL) == -ESRCH, "reaped: not alive");
	procfs_close(&p);
}

int main(void)
{
	test_stat();
	test_status();
	test_syscall();
	test_live();
	return done_testing();
}
