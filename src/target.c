/* target: PTRACE_SEIZE/INTERRUPT/DETACH of every thread (ptrace(2), "Attaching and
 * detaching", "Group-stop", "PTRACE_EVENT_STOP"). */
#include "target.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

/* What a signal handler must release: the set currently seized. Written only outside
 * handlers, with the count published last. */
#define EMERGENCY_MAX 65536
static pid_t emergency_tids[EMERGENCY_MAX];
static int emergency_sigs[EMERGENCY_MAX];
static volatile sig_atomic_t emergency_count;

void target_emergency_thaw(void)
{
	int n = emergency_count;

	emergency_count = 0;
	for (int i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, emergency_tids[i], NULL, (void *)(long)emergency_sigs[i]);
}

static void publish(const struct target_freeze *f)
{
	size_t n = f->count < EMERGENCY_MAX ? f->count : EMERGENCY_MAX;

	emergency_count = 0;
	for (size_t i = 0; i < n; i++) {
		emergency_tids[i] = f->threads[i].tid;
		emergency_sigs[i] = f->threads[i].pending_sig;
	}
	emergency_count = (sig_atomic_t)n;
}

void target_test_pause(const char *phase)
{
	const char *want = getenv("RW_TEST_PAUSE_AT");

	if (want && !strcmp(want, phase)) {
		const char *ms = getenv("RW_TEST_PAUSE_MS");
		long wait_ms = ms ? atol(ms) : 30000;
		struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
		fprintf(stderr, "regionwatch: test hook: paused at %s\n", phase);
		fflush(stderr);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static double ms_now(void)
{
	return now_mono() * 1e3;
}

static struct target_thread *find(struct target_freeze *f, pid_t tid)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->threads[i].tid == tid)
			return &f->threads[i];
	return NULL;
}

static void forget(struct target_freeze *f, pid_t tid)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->threads[i].tid == tid) {
			f->threads[i] = f->threads[--f->count];
			return;
		}
}

pid_t target_tracer(const struct procfs *p)
{
	struct procfs_status st;

	procfs_status(p, &st, NULL);      /* tracer_pid stays 0 when unknown */
	return st.tracer_pid;
}

/* A thread that is gone, a zombie or dead: ptrace refuses it with EPERM, harmlessly. */
static int thread_exiting(const struct procfs *p, pid_t tid)
{
	struct procfs_stat st;

	if (procfs_task_stat(p, tid, &st, NULL))
		return 1;
	return st.state == 'Z' || st.state == 'X' || st.state == 'x';
}

/* Wait until thread t is in a ptrace stop, or the deadline. 1 stopped, 0 gone, -1 timeout. */
static int wait_stopped(struct target_freeze *f, struct target_thread *t, double deadline)
{
	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r == t->tid) {
			if (WIFEXITED(status) || WIFSIGNALED(status)) {
				f->threads_gone++;
				return 0;
			}
			if (WIFSTOPPED(status)) {
				int sig = WSTOPSIG(status), event = status >> 16;
				if (event == PTRACE_EVENT_STOP) {
					/* Interrupt-stop (SIGTRAP) or group-stop (a stop signal). */
					if (sig != SIGTRAP)
						t->group_stop = 1;
				} else if (event == 0) {
					/* Signal-delivery-stop: keep the signal for detach. */
					t->pending_sig = sig;
				}
				return 1;
			}
		} else if (r < 0 && errno != EINTR) {
			f->threads_gone++;
			return 0;
		}
		if (ms_now() > deadline)
			return -1;
		{
			struct timespec ts = { 0, 200000 };   /* 0.2 ms */
			nanosleep(&ts, NULL);
		}
	}
}

int target_freeze(const struct procfs *p, double timeout_ms, struct target_freeze *f,
		  struct rw_err *err)
{
	double t0 = ms_now(), deadline = t0 + timeout_ms;
	int rounds = 0, rc = 0;

	memset(f, 0, sizeof(*f));
	f->pid = p->pid;
	/* ptrace(2): a thread cannot attach to its own thread group (EPERM). Say so, rather
	 * than blame a permission. */
	if (p->pid == getpid())
		return rw_err_set(err, EPERM, "process %d is this regionwatch itself: a process "
				  "cannot stop and read its own threads", (int)p->pid);
	for (;;) {
		pid_t *tids;
		size_t ntids;
		int added = 0;

		rc = procfs_tids(p, &tids, &ntids, err);
		if (rc)
			goto fail;
		for (size_t k = 0; k < ntids; k++) {
			pid_t tid = tids[k];
			struct target_thread *t;

			if (find(f, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
				int e2 = errno;
				if (e2 == ESRCH || (e2 == EPERM && thread_exiting(p, tid)))
					continue;         /* the thread exited meanwhile (an exiting
							   * thread gives EPERM: kernel/ptrace.c) */
				free(tids);
				if (e2 == EPERM) {
					pid_t tracer = target_tracer(p);
					if (tracer > 0)
						rc = rw_err_set(err, EPERM, "cannot freeze process %d: it is already "
								"traced by pid %d (a debugger or strace)",
								(int)p->pid, (int)tracer);
					else
						rc = rw_err_set(err, EPERM, "cannot freeze process %d: permission "
								"denied (ptrace: run as its owner with ptrace allowed, or root)",
								(int)p->pid);
				} else {
					rc = rw_err_set(err, e2, "cannot freeze thread %d: %s", (int)tid, strerror(e2));
				}
				goto fail;
			}
			if (f->count == f->cap) {
				f->cap = f->cap ? f->cap * 2 : 64;
				f->threads = xreallocarray(f->threads, f->cap, sizeof(*f->threads));
			}
			t = &f->threads[f->count++];
			memset(t, 0, sizeof(*t));
			t->tid = tid;
			publish(f);
			added++;
		}
		free(tids);
		if (!rounds)
			target_test_pause("seized");
		for (size_t i = 0; i < f->count; i++)
			if (!f->threads[i].stopped)
				ptrace(PTRACE_INTERRUPT, f->threads[i].tid, NULL, NULL);
		if (!rounds)
			target_test_pause("interrupted");
		for (size_t i = 0; i < f->count;) {
			struct target_thread *t = &f->threads[i];
			int w;
			if (t->stopped) {
				i++;
				continue;
			}
			w = wait_stopped(f, t, deadline);
			if (w == 0) {
				forget(f, t->tid);
				publish(f);
				continue;
			}
			if (w < 0) {
				rc = rw_err_set(err, ETIMEDOUT, "could not stop every thread of %d within %.0f ms",
						(int)p->pid, timeout_ms);
				goto fail;
			}
			t->stopped = 1;
			i++;
		}
		rounds++;
		/* New threads may have been created before we stopped their creators. */
		if (!added && rounds > 1)
			break;
		if (ms_now() > deadline) {
			rc = rw_err_set(err, ETIMEDOUT, "threads of %d kept appearing for %.0f ms",
					(int)p->pid, timeout_ms);
			goto fail;
		}
	}
	if (!f->count) {
		rc = rw_err_set(err, ESRCH, "process %d exited", (int)p->pid);
		goto fail;
	}
	f->freeze_ms = ms_now() - t0;
	target_test_pause("frozen");
	return 0;
fail:
	target_thaw(f);
	return rc;
}

void target_thaw(struct target_freeze *f)
{
	if (f->count)
		target_test_pause("detaching");
	emergency_count = 0;
	for (size_t i = 0; i < f->count; i++) {
		struct target_thread *t = &f->threads[i];
		if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_sig) == 0 || errno != ESRCH)
			continue;
		/* ESRCH: gone, or seized but not yet stopped (detach needs a ptrace-stop).
		 * Stop it the same way and detach; if we cannot, our exit detaches it. */
		if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) == 0 &&
		    wait_stopped(f, t, ms_now() + 100) == 1)
			ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_sig);
	}
	free(f->threads);
	f->threads = NULL;
	f->count = f->cap = 0;
}
