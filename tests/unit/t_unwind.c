/* unwind: the /proc parsers on real and edge-case text, the thread list of a real child
 * read without stopping it, and backtraces of that child while frozen: names, the frame
 * cap (exact depth is not a truncation), a thread we do not hold refused cleanly. */
#include "tap.h"
#include "target.h"
#include "unwind.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int *ready;

__attribute__((noinline)) void t_unwind_wait_here(void);
__attribute__((noinline)) void t_unwind_wait_here(void)
{
	atomic_fetch_add(ready, 1);
	for (;;)
		pause();
}

static void *worker(void *arg)
{
	(void)arg;
	t_unwind_wait_here();
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

static void test_parsers(void)
{
	struct unwind_task t;
	char line[1024];
	size_t n;
	uint64_t sp;
	int rc;

	/* 52 fields as a 6.x kernel writes them, kstkesp (29) set as during a core dump. */
	n = (size_t)snprintf(line, sizeof(line), "4242 (a) b) c (d)) R");
	for (int f = 4; f <= 52; f++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %llu",
				      f == 29 ? 0x7ffd1234abcdULL : (unsigned long long)f);
	line[n++] = '\n';
	memset(&t, 0, sizeof(t));
	ok(unwind_parse_task_stat(line, line + n, &t) == 0, "stat: parsed");
	is_str(t.comm, "a) b) c (d)", "stat: comm up to the last ')'");
	ok(t.state == 'R', "stat: state");
	is_u64(t.sp, 0x7ffd1234abcdULL, "stat: kstkesp");
	ok(t.sp_source == UNWIND_SP_KSTKESP, "stat: source kstkesp");

	n = (size_t)snprintf(line, sizeof(line), "7 (w) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 "
			     "20 21 22 23 24 25 0 27 28");
	memset(&t, 0, sizeof(t));
	ok(unwind_parse_task_stat(line, line + n, &t) == 0 && t.sp == 0 && t.sp_source == UNWIND_SP_NONE,
	   "stat: kstkesp 0 (every live thread on current kernels): no sp");
	n = (size_t)snprintf(line, sizeof(line), "7 (w) S 1 2");
	memset(&t, 0, sizeof(t));
	ok(unwind_parse_task_stat(line, line + n, &t) == 0 && t.sp == 0, "stat: short line: no sp, no error");
	n = (size_t)snprintf(line, sizeof(line), "7 (w S 1 2");
	ok(unwind_parse_task_stat(line, line + n, &t) == -EINVAL, "stat: no ')': -EINVAL");
	n = (size_t)snprintf(line, sizeof(line), "7 (w) SS 1 2");
	ok(unwind_parse_task_stat(line, line + n, &t) == -EINVAL, "stat: a two-letter state: -EINVAL");
	/* comm of 15 bytes with every kind of odd byte but NUL. */
	n = (size_t)snprintf(line, sizeof(line), "9 (\x1b[31m) (\t\\x) S 1");
	memset(&t, 0, sizeof(t));
	ok(unwind_parse_task_stat(line, line + n, &t) == 0 && !strcmp(t.comm, "\x1b[31m) (\t\\x"),
	   "stat: control bytes in comm kept as they are (escaped when printed)");

	n = (size_t)snprintf(line, sizeof(line), "running\n");
	ok(unwind_parse_syscall(line, line + n, &sp) == -EAGAIN, "syscall: running: -EAGAIN");
	n = (size_t)snprintf(line, sizeof(line), "230 0x0 0x0 0x7ffcda39aad0 0x7ffcda39ab10 0x0 0x0 "
			     "0x7ffcda39aab8 0x7f0929249503\n");
	ok(unwind_parse_syscall(line, line + n, &sp) == 0, "syscall: in a syscall: parsed");
	is_u64(sp, 0x7ffcda39aab8ULL, "syscall: the SP is the next-to-last field, not the 2nd");
	n = (size_t)snprintf(line, sizeof(line), "-1 0x7ffd00001000 0x401000\n");
	ok(unwind_parse_syscall(line, line + n, &sp) == 0 && sp == 0x7ffd00001000ULL,
	   "syscall: blocked outside a syscall (-1 SP PC)");
	n = (size_t)snprintf(line, sizeof(line), "230 0x0 0x1");
	ok(unwind_parse_syscall(line, line + n, &sp) == 0 && sp == 0,
	   "syscall: 3 fields are read as -1 SP PC");
	n = (size_t)snprintf(line, sizeof(line), "230 0x0 0x1 0x2");
	ok(unwind_parse_syscall(line, line + n, &sp) == -EINVAL, "syscall: 4 fields: -EINVAL");
	ok(unwind_parse_syscall(line, line, &sp) == -EINVAL, "syscall: empty: -EINVAL");
	n = (size_t)snprintf(line, sizeof(line), "-1 0x1ffffffffffffffff 0x1");
	ok(unwind_parse_syscall(line, line + n, &sp) == -EINVAL, "syscall: overflow: -EINVAL");
	n = (size_t)snprintf(line, sizeof(line), "-1 0xzz 0x1");
	ok(unwind_parse_syscall(line, line + n, &sp) == -EINVAL, "syscall: not hex: -EINVAL");
	{
		static const char cut[] = "-1 0x10 0x2";
		rc = unwind_parse_syscall(cut, cut + 7, &sp);   /* "-1 0x10": 2 fields */
		ok(rc == -EINVAL, "syscall: stops at end, not at NUL");
	}
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

static int find_frame(const struct unwind_thread *t, const char *fn)
{
	for (size_t k = 0; k < t->count; k++)
		if (t->frames[k].function && !strcmp(t->frames[k].function, fn))
			return (int)k;
	return -1;
}

int main(void)
{
	struct procfs p;
	struct rw_err err;
	struct unwind_task *tasks;
	size_t ntasks, named = 0, with_sp = 0;
	struct target_freeze f;
	struct unwind_ctx *u;
	struct unwind_thread th[4];
	pid_t pid;

	test_parsers();

	ready = mmap(NULL, sizeof(*ready), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = start_child();
	ok(procfs_open(pid, &p, &err) == 0, "open child");

	/* Without stopping anything. */
	ok(unwind_task_list(&p, &tasks, &ntasks, &err) == 0, "task list");
	is_u64(ntasks, 3, "3 threads");
	for (size_t i = 0; i < ntasks; i++) {
		named += !strncmp(tasks[i].comm, "unit-w", 6);
		if (tasks[i].sp_source == UNWIND_SP_SYSCALL &&
		    in_mapping(pid, tasks[i].sp, tasks[i].tid == pid ? "[stack]" : NULL))
			with_sp++;
	}
	ok(ntasks && tasks[0].tid == pid && tasks[0].state == 'S', "sorted: the main thread first, sleeping");
	is_u64(named, 2, "the workers' names");
	is_u64(with_sp, 3, "every blocked thread's SP, from the syscall file, in a mapping ([stack] for main)");
	{
		char path[64], buf[4096];
		FILE *fp;
		int tracer = -1;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		fp = fopen(path, "r");
		while (fp && fgets(buf, sizeof(buf), fp))
			if (!strncmp(buf, "TracerPid:", 10))
				tracer = atoi(buf + 10);
		if (fp)
			fclose(fp);
		ok(tracer == 0, "the task list traces nothing");
	}

	/* A thread we do not hold: refused, no crash, no frames. */
	u = unwind_new(pid);
	ok(u != NULL, "unwind context");
	memset(th, 0, sizeof(th));
	th[0].task = tasks[1];
	unwind_thread_run(u, &p, &th[0], 64, 200);
	ok(th[0].stop == UNWIND_STOP_ERROR && th[0].count == 0 && th[0].reason[0],
	   "a thread not frozen by us: error, no frames (%s)", th[0].reason);
	unwind_thread_clear(&th[0]);
	unwind_free(u);

	/* Frozen: the worker's stack, then the cap. */
	ok(target_freeze(&p, 2000, &f, &err) == 0, "freeze");
	u = unwind_new(pid);
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 4; i++)
		th[i].task = tasks[1];
	unwind_thread_run(u, &p, &th[0], 64, 200);
	unwind_thread_run(u, &p, &th[1], th[0].count, 200);
	unwind_thread_run(u, &p, &th[2], th[0].count > 1 ? th[0].count - 1 : 1, 200);
	unwind_thread_run(u, &p, &th[3], 64, 0);      /* no time at all: one frame, then stop */
	target_thaw(&f);
	for (int i = 0; i < 4; i++)
		unwind_symbolize(u, pid, &th[i]);
	unwind_free(u);
	printf("# worker: %zu frames, stop %s %s\n", th[0].count, unwind_stop_name(th[0].stop), th[0].reason);
	for (size_t k = 0; k < th[0].count; k++)
		printf("#   #%zu 0x%llx %s+0x%llx\n", k, (unsigned long long)th[0].frames[k].ip,
		       th[0].frames[k].function ? th[0].frames[k].function : "??",
		       (unsigned long long)th[0].frames[k].offset);
	ok(th[0].stop == UNWIND_STOP_END, "worker unwound to its end");
	ok(find_frame(&th[0], "t_unwind_wait_here") >= 0, "t_unwind_wait_here in the worker's stack");
	ok(find_frame(&th[0], "worker") > find_frame(&th[0], "t_unwind_wait_here"), "its caller above it");
	{
		int k = find_frame(&th[0], "t_unwind_wait_here");
		ok(k >= 0 && th[0].frames[k].ip - th[0].frames[k].offset == (uint64_t)(uintptr_t)t_unwind_wait_here,
		   "ip - offset is the function's address");
	}
	ok(th[0].sp && th[0].sp == th[0].frames[0].sp, "sp is frame #0's");
	ok(th[1].stop == UNWIND_STOP_END && th[1].count == th[0].count,
	   "--max-frames equal to the depth: complete, not truncated");
	ok(th[2].stop == UNWIND_STOP_MAX_FRAMES && th[2].count == th[0].count - 1 && unwind_stop_truncated(th[2].stop),
	   "--max-frames one less: truncated (%s)", th[2].reason);
	ok(th[3].stop == UNWIND_STOP_TIME && th[3].count == 1 && unwind_stop_truncated(th[3].stop),
	   "time bound: stops between steps, truncated (%s)", th[3].reason);
	for (int i = 0; i < 4; i++)
		unwind_thread_clear(&th[i]);
	unwind_thread_clear(NULL);
	unwind_free(NULL);

	free(tasks);
	procfs_close(&p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ok(unwind_task_list(&p, &tasks, &ntasks, &err) < 0 || ntasks == 0, "a closed/gone process: no list");
	return done_testing();
}
