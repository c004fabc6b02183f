/* target against a real multi-threaded child: every thread stopped while frozen, none
 * traced or stopped afterwards, signals sent during a freeze delivered, a SIGSTOPped
 * process stays stopped, an already-traced process refused with a clear message. */
#include "tap.h"
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	atomic_long ticks[4];
	atomic_long usr1;
};
static struct shared *sh;

static void *spin(void *arg)
{
	atomic_long *c = arg;
	for (;;) {
		atomic_fetch_add(c, 1);
		usleep(100);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sh->usr1, 1);
}

static pid_t start_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR1, on_usr1);
		signal(SIGRTMIN + 1, on_usr1);
		for (int i = 1; i < 4; i++)
			pthread_create(&t, NULL, spin, &sh->ticks[i]);
		spin(&sh->ticks[0]);
	}
	usleep(100000);
	return pid;
}

/* Count threads in a given state letter, and threads with a tracer. */
static void scan_tasks(pid_t pid, int *nthreads, int *nstate_t, int *ntraced, char want)
{
	char path[512], buf[4096];
	*nthreads = *nstate_t = *ntraced = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		FILE *fp;
		if (e->d_name[0] == '.')
			continue;
		(*nthreads)++;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		fp = fopen(path, "r");
		while (fp && fgets(buf, sizeof(buf), fp)) {
			if (!strncmp(buf, "State:", 6) && buf[strspn(buf + 6, " \t") + 6] == want)
				(*nstate_t)++;
			if (!strncmp(buf, "TracerPid:", 10) && atoi(buf + 10) != 0)
				(*ntraced)++;
		}
		if (fp)
			fclose(fp);
	}
	if (d)
		closedir(d);
}

int main(void)
{
	struct target_freeze f;
	struct procfs p;
	struct rw_err err;
	pid_t pid;
	int n, nt, ntr;
	long before;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = start_child();
	ok(procfs_open(pid, &p, &err) == 0, "open child");

	ok(target_freeze(&p, 2000, &f, &err) == 0, "freeze%s%s", f.count ? "" : ": ", f.count ? "" : err.msg);
	is_u64(f.count, 4, "four threads frozen");
	printf("# freeze took %.2f ms\n", f.freeze_ms);
	scan_tasks(pid, &n, &nt, &ntr, 't');
	ok(n == 4 && nt == 4 && ntr == 4, "all 4 threads in tracing stop while frozen (%d/%d/%d)", n, nt, ntr);
	before = atomic_load(&sh->ticks[1]);
	usleep(20000);
	ok(atomic_load(&sh->ticks[1]) == before, "a frozen thread makes no progress");
	kill(pid, SIGUSR1);
	usleep(20000);
	target_thaw(&f);
	usleep(50000);
	scan_tasks(pid, &n, &nt, &ntr, 't');
	ok(nt == 0 && ntr == 0, "after thaw: no thread stopped or traced (%d stopped, %d traced)", nt, ntr);
	ok(atomic_load(&sh->ticks[1]) > before, "threads run again");
	is_u64(atomic_load(&sh->usr1), 1, "the SIGUSR1 sent during the freeze was delivered");

	/* 100 freezes with a real-time signal each (SIGRTMIN+1: queued, never merged): none lost. */
	{
		struct sigaction sa;
		(void)sa;
		long u0 = atomic_load(&sh->usr1);
		int fails = 0;
		for (int i = 0; i < 100; i++) {
			if (target_freeze(&p, 2000, &f, &err)) {
				fails++;
				continue;
			}
			kill(pid, SIGRTMIN + 1);
			target_thaw(&f);
			usleep(2000);
		}
		usleep(100000);
		ok(fails == 0, "100 freezes succeed");
		is_u64(atomic_load(&sh->usr1) - u0, 100, "100 real-time signals sent during 100 freezes, 100 delivered");
	}

	/* A stopped process stays stopped. */
	kill(pid, SIGSTOP);
	usleep(50000);
	ok(target_freeze(&p, 2000, &f, &err) == 0, "freeze a SIGSTOPped process");
	target_thaw(&f);
	usleep(50000);
	scan_tasks(pid, &n, &nt, &ntr, 'T');
	ok(nt == 4 && ntr == 0, "still stopped (T) and untraced after thaw (%d stopped)", nt);
	kill(pid, SIGCONT);
	usleep(50000);
	scan_tasks(pid, &n, &nt, &ntr, 'T');
	ok(nt == 0, "runs again after SIGCONT");

	/* Already traced by someone else: refused, nothing left seized by us. */
	{
		int pfd[2];
		pid_t tracer;
		char c;
		if (pipe(pfd))
			return 1;
		tracer = fork();
		if (tracer == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			ptrace(PTRACE_SEIZE, pid, NULL, NULL);
			if (write(pfd[1], "x", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		if (read(pfd[0], &c, 1) != 1)
			return 1;
		ok(target_freeze(&p, 2000, &f, &err) == -EPERM && strstr(err.msg, "already traced by pid"),
		   "already traced: refused (%s)", err.msg);
		kill(tracer, SIGKILL);
		waitpid(tracer, NULL, 0);
		usleep(50000);
		scan_tasks(pid, &n, &nt, &ntr, 't');
		ok(ntr == 0 && nt == 0, "nothing left traced or stopped (%d stopped, %d traced)", nt, ntr);
	}
	procfs_close(&p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return done_testing();
}
