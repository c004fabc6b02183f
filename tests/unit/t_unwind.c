/* unwind: backtraces of a real child while frozen: names, the frame cap (exact depth is
 * not a truncation), a thread we do not hold refused cleanly. The thread list they start
 * from (procfs_task_list) and its parsers are tested in t_procfs. */
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
	struct procfs_task *tasks;
	size_t ntasks;
	struct target_freeze f;
	struct unwind_ctx *u;
	struct unwind_thread th[4];
	pid_t pid;

	ready = mmap(NULL, sizeof(*ready), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = start_child();
	ok(procfs_open(pid, &p, &err) == 0, "open child");

	/* Names and states, before the freeze (their checks are t_procfs's). */
	if (procfs_task_list(&p, &tasks, &ntasks, &err) || ntasks != 3) {
		printf("Bail out! no task list of 3 threads: %s\n", err.msg);
		return 1;
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
	return done_testing();
}
