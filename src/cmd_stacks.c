/* cmd_stacks: regionwatch stacks -p PID [--json] [--max-frames N]
 * Stops every thread for a moment (target: PTRACE_SEIZE + PTRACE_INTERRUPT), unwinds each
 * with libunwind-ptrace (unwind), lets them go, then prints: nothing is printed while the
 * target is stopped, so a slow terminal cannot lengthen the stop. */
#include "cli.h"
#include "out_json.h"
#include "procfs.h"
#include "region.h"
#include "snapfile.h"
#include "target.h"
#include "unwind.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STACKS_FREEZE_MS 2000.0     /* to stop every thread */
#define STACKS_THREAD_MS 200.0      /* to unwind one thread */
#define STACKS_TOTAL_MS 2000.0      /* to unwind them all: bounds the stop for many threads */
#define STACKS_DEFAULT_FRAMES 64
#define STACKS_MAX_FRAMES 4096

enum { OPT_MAX_FRAMES = CLI_OPT_OWN };

void cmd_stacks_help(FILE *fp)
{
	fprintf(fp,
		"usage: regionwatch stacks -p PID [--json] [--max-frames N]\n"
		"Print a backtrace of every thread of a live process. The threads are stopped for a\n"
		"moment (PTRACE_SEIZE + PTRACE_INTERRUPT: never PTRACE_ATTACH, nothing written to the\n"
		"target, and if regionwatch dies the kernel lets the target go), unwound with\n"
		"libunwind-ptrace, and let go before anything is printed. Standard error says so first\n"
		"and how long they were stopped after. Signals that arrive meanwhile are delivered\n"
		"afterwards; a process that was stopped (SIGSTOP) stays stopped.\n\n"
		"  -p, --pid PID         the process\n"
		"      --max-frames N    at most N frames per thread (default %d, at most %d)\n"
		"      --json            one JSON document: {\"type\":\"stacks\", \"pid\", \"frozen_ms\",\n"
		"                        \"threads\":[{\"tid\", \"comm\", \"state\", \"sp\", \"stack\":{\"start\",\n"
		"                        \"end\"}|null, \"frames\":[{\"ip\", \"function\", \"offset\", \"module\"}],\n"
		"                        \"truncated\", \"truncated_by\", \"error\"}]}\n"
		"  -h, --help            this help\n\n"
		"Each thread: 'thread TID (NAME) state S, stack START-END': its state before it was\n"
		"stopped (R running, S sleeping, D in uninterruptible wait, ...) and the mapping that\n"
		"holds its stack pointer; then its frames, innermost first:\n"
		"  #N 0xADDRESS FUNCTION+0xOFFSET (FILE)\n"
		"Names come from the ELF symbol tables (C++ names are not demangled). A frame with no\n"
		"name that can be trusted shows ?? and its offset in the file, (FILE+0xOFFSET), for\n"
		"addr2line or a debug-info package: a stripped library names only its exported\n"
		"functions, and the nearest exported name before a static one (glibc's start_thread)\n"
		"would be wrong. When the unwinder cannot find a caller, the last line says\n"
		"'unwinding stopped' and why: frames above it are unknown, not absent. Unwinding\n"
		"stops after %.0f ms per thread and %.0f ms in all (unwinders can loop; threads not\n"
		"reached are listed, not unwound), and both are reported.\n\n"
		"Go programs: Go code keeps frame pointers on amd64 but has no DWARF CFI that\n"
		"libunwind can always use, so Go frames may be cut short or unnamed. A Go thread's\n"
		"stack usually ends at runtime.mcall or runtime.mstart with 'unwinding stopped': the\n"
		"goroutine that switched to that stack is not followed. Its stack pointer may lie in\n"
		"a goroutine stack in the Go heap rather than in a thread stack. Goroutines not\n"
		"running on a thread are not shown: use the program's goroutine profile (pprof).\n\n"
		"Exit status: 0 listed (some stacks may be incomplete, as said above); 1 no such\n"
		"process, permission denied, already traced (a debugger or strace holds it), the\n"
		"threads could not all be stopped within %.0f ms, or the process exited; 2 usage error.\n",
		STACKS_DEFAULT_FRAMES, STACKS_MAX_FRAMES, STACKS_THREAD_MS, STACKS_TOTAL_MS,
		STACKS_FREEZE_MS);
}

/* Main thread first, then by tid. */
static pid_t sort_pid;

static int thread_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct unwind_thread *)a)->task.tid, y = ((const struct unwind_thread *)b)->task.tid;

	if (x == y)
		return 0;
	if (x == sort_pid)
		return -1;
	if (y == sort_pid)
		return 1;
	return (x > y) - (x < y);
}

static const struct procfs_task *find_task(const struct procfs_task *v, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tid == tid)
			return &v[i];
	return NULL;
}

/* The file mapped at addr, as a basename ("libc.so.6"), and addr's offset in it; or a
 * special name ("[vdso]"); NULL for anonymous memory or no mapping. Borrowed from the
 * snapshot. */
static const char *module_at(const struct snapshot *snap, uint64_t addr, int *mapped,
			     uint64_t *file_offset)
{
	long i = snapshot_find(snap, addr);
	const struct region *r;
	const char *slash;

	*mapped = i >= 0;
	*file_offset = 0;
	if (i < 0)
		return NULL;
	r = &snap->regions[i];
	if (r->path[0] == '[')
		return r->path;
	if (r->path[0] != '/')
		return NULL;
	*file_offset = addr - r->start + r->offset;
	slash = strrchr(r->path, '/');
	return slash[1] ? slash + 1 : r->path;
}

/* Stack mapping and modules from the snapshot. Returns how many addresses it could not
 * place (a mapping made after the snapshot was taken, or a wrong frame). */
static size_t attribute(const struct snapshot *snap, struct unwind_thread *v, size_t n)
{
	size_t unplaced = 0;

	for (size_t i = 0; i < n; i++) {
		struct unwind_thread *t = &v[i];
		if (t->sp) {
			long r = snapshot_find(snap, t->sp);
			if (r >= 0) {
				t->stack_start = snap->regions[r].start;
				t->stack_end = snap->regions[r].end;
			} else {
				unplaced++;
			}
		}
		for (size_t k = 0; k < t->count; k++) {
			struct unwind_frame *f = &t->frames[k];
			/* A return address may be one past its call's mapping: look up ip - 1. */
			uint64_t at = f->exact_ip ? f->ip : f->ip - 1;
			int mapped;
			f->module = module_at(snap, at, &mapped, &f->module_offset);
			if (f->module && f->module[0] != '[')
				f->module_offset += f->ip - at;
			unplaced += !mapped;
		}
	}
	return unplaced;
}

static void print_frame(FILE *fp, const struct unwind_frame *f, size_t k, const char *tail)
{
	char name[1100];

	if (f->function)
		fprintf(fp, "  #%zu 0x%llx %s+0x%llx", k, (unsigned long long)f->ip,
			escape_ctl(f->function, name, sizeof(name)), (unsigned long long)f->offset);
	else
		fprintf(fp, "  #%zu 0x%llx ??", k, (unsigned long long)f->ip);
	if (f->module) {
		/* Unnamed: where in the file, for addr2line or a debug-info package. */
		fprintf(fp, " (%s", escape_ctl(f->module, name, sizeof(name)));
		if (!f->function && f->module[0] != '[')
			fprintf(fp, "+0x%llx", (unsigned long long)f->module_offset);
		fprintf(fp, tail ? "; %s)\n" : ")\n", tail);
	} else if (tail)
		fprintf(fp, " (%s)\n", tail);
	else
		fprintf(fp, " (anonymous memory or not mapped)\n");
}

static void print_text(FILE *fp, const struct unwind_thread *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct unwind_thread *t = &v[i];
		char comm[300], tail[240];
		size_t last = t->count ? t->count - 1 : 0;
		int unknown_last = t->count && !t->frames[last].function;

		if (i)
			fputc('\n', fp);
		fprintf(fp, "thread %d (%s) state %c", (int)t->task.tid,
			escape_ctl(t->task.comm, comm, sizeof(comm)), t->task.state);
		if (t->stack_end)
			fprintf(fp, ", stack %llx-%llx", (unsigned long long)t->stack_start,
				(unsigned long long)t->stack_end);
		fputc('\n', fp);
		for (size_t k = 0; k < t->count; k++) {
			/* An unnamed frame the unwinder could not get past: say both at once. */
			if (k == last && unknown_last &&
			    (t->stop == UNWIND_STOP_ERROR || t->stop == UNWIND_STOP_LOOP)) {
				snprintf(tail, sizeof(tail), "unknown frame: unwinding stopped: %s", t->reason);
				print_frame(fp, &t->frames[k], k, tail);
			} else {
				print_frame(fp, &t->frames[k], k, NULL);
			}
		}
		switch (t->stop) {
		case UNWIND_STOP_END:
			if (!t->count)
				fprintf(fp, "  (no frames)\n");
			break;
		case UNWIND_STOP_ERROR:
		case UNWIND_STOP_LOOP:
			if (!t->count)
				fprintf(fp, "  unwinding failed: %s\n", t->reason);
			else if (!unknown_last)
				fprintf(fp, "  #%zu ?? (unknown frame: unwinding stopped after #%zu: %s)\n",
					t->count, last, t->reason);
			break;
		case UNWIND_STOP_MAX_FRAMES:
			fprintf(fp, "  ... truncated: %s (--max-frames %zu)\n", t->reason, t->count);
			break;
		case UNWIND_STOP_TIME:
		case UNWIND_STOP_SKIPPED:
			fprintf(fp, "  ... truncated: %s\n", t->reason);
			break;
		case UNWIND_STOP_GONE:
			fprintf(fp, "  (%s)\n", t->reason);
			break;
		}
	}
}


static void announce(int pid, size_t nthreads, const char *comm)
{
	char name[300];

	fprintf(stderr, "regionwatch: stacks: stopping the %zu thread%s of %d (%s) for a moment "
		"to read their stacks\n", nthreads, nthreads == 1 ? "" : "s", pid,
		escape_ctl(comm, name, sizeof(name)));
	fflush(stderr);
}

static int parse_frames(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > STACKS_MAX_FRAMES)
		return -1;
	*out = v;
	return 0;
}

int cmd_stacks(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-frames", required_argument, NULL, OPT_MAX_FRAMES },
		{ NULL, 0, NULL, 0 },
	};
	int pid, json, c, rc = RW_EXIT_OK;
	size_t max_frames = STACKS_DEFAULT_FRAMES, ntasks = 0, nthreads = 0, ngone = 0;
	struct procfs p;
	struct rw_err err;
	struct procfs_task *tasks = NULL;
	struct unwind_thread *threads = NULL;
	struct snapshot *snap = NULL;
	struct unwind_ctx *uw = NULL;
	struct target_freeze frz;
	int announced, was_stopped = 0;
	double t0, t_frozen, t_unwound, t1;

	while ((c = cli_getopt(cx, argc, argv, "", opts)) > 0) {
		switch (c) {
		case OPT_MAX_FRAMES:
			if (parse_frames(optarg, &max_frames)) {
				cli_error(cx->name, "--max-frames wants a number from 1 to %d, not '%s'",
					  STACKS_MAX_FRAMES, optarg);
				return RW_EXIT_USAGE;
			}
			break;
		}
	}
	if (c < 0)
		return cx->status;
	pid = cx->pid;
	json = cx->json;
	if (!pid) {
		cli_error(cx->name, "give -p PID");
		return RW_EXIT_USAGE;
	}
	if (procfs_open(pid, &p, &err)) {
		cli_error(cx->name, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	/* Everything that needs no stop is read before it: names, states (what the threads
	 * were doing, not the ptrace stop), and the map. */
	if (procfs_task_list(&p, &tasks, &ntasks, &err) || snapfile_capture(&p, &snap, &err)) {
		cli_error(cx->name, "%s", err.msg);
		rc = RW_EXIT_FAIL;
		goto out;
	}
	uw = unwind_new(pid);
	if (!uw) {
		cli_error(cx->name, "libunwind could not create an address space");
		rc = RW_EXIT_FAIL;
		goto out;
	}
	/* Traced by someone else: the freeze will be refused, so do not announce one. */
	announced = target_tracer(&p) == 0;
	if (announced)
		announce(pid, ntasks, snap->meta.comm);
	t0 = now_mono();
	if (target_freeze(&p, STACKS_FREEZE_MS, &frz, &err)) {
		cli_error(cx->name, "%s", err.msg);
		rc = RW_EXIT_FAIL;
		goto out;
	}
	t_frozen = now_mono();
	if (!announced)                  /* the tracer had let go meanwhile */
		announce(pid, ntasks, snap->meta.comm);
	/* Frozen threads, plus those listed before that exited before they could be stopped. */
	threads = xcalloc(frz.count + ntasks, sizeof(*threads));
	for (size_t i = 0; i < frz.count; i++) {
		const struct procfs_task *tk = find_task(tasks, ntasks, frz.threads[i].tid);
		struct unwind_thread *t = &threads[nthreads++];
		if (tk) {
			t->task = *tk;
		} else {
			t->task.tid = frz.threads[i].tid;
			t->task.state = '?';     /* filled in after the thaw */
		}
	}
	sort_pid = pid;
	qsort(threads, nthreads, sizeof(*threads), thread_cmp);
	for (size_t i = 0; i < nthreads; i++) {
		struct unwind_thread *t = &threads[i];
		double used = (now_mono() - t_frozen) * 1e3;

		if (used >= STACKS_TOTAL_MS) {
			t->stop = UNWIND_STOP_SKIPPED;
			snprintf(t->reason, sizeof(t->reason), "not unwound: the %.0f ms bound for the "
				 "whole process was used up", STACKS_TOTAL_MS);
			continue;
		}
		if (unwind_thread_run(uw, &p, t, max_frames,
				      STACKS_TOTAL_MS - used < STACKS_THREAD_MS ? STACKS_TOTAL_MS - used
										 : STACKS_THREAD_MS) == -ESRCH)
			ngone++;
	}
	t_unwound = now_mono();
	for (size_t i = 0; i < frz.count; i++)
		was_stopped |= frz.threads[i].group_stop;
	target_thaw(&frz);
	t1 = now_mono();
	/* Names after the thaw: reading symbol tables is the slow part. */
	for (size_t i = 0; i < nthreads; i++)
		unwind_symbolize(uw, pid, &threads[i]);
	fprintf(stderr, "regionwatch: stacks: target stopped for %.1f ms (%.1f ms to stop %zu "
		"thread%s, %.1f ms unwinding); %s\n", (t1 - t0) * 1e3,
		(t_frozen - t0) * 1e3, nthreads, nthreads == 1 ? "" : "s", (t_unwound - t_frozen) * 1e3,
		was_stopped ? "it was stopped before (SIGSTOP) and stays stopped" : "running again");

	/* Threads listed before the freeze that it did not find: they had exited. */
	for (size_t i = 0; i < ntasks; i++) {
		int found = 0;
		for (size_t k = 0; k < nthreads && !found; k++)
			found = threads[k].task.tid == tasks[i].tid;
		if (!found) {
			struct unwind_thread *t = &threads[nthreads++];
			t->task = tasks[i];
			t->stop = UNWIND_STOP_GONE;
			snprintf(t->reason, sizeof(t->reason), "exited before it could be stopped");
			ngone++;
		}
	}
	/* Threads born after the first list: their names, now that they run again. */
	{
		struct procfs_task *now = NULL;
		size_t nnow = 0;
		int missing = 0;
		for (size_t i = 0; i < nthreads; i++)
			missing |= threads[i].task.state == '?';
		if (missing && !procfs_task_list(&p, &now, &nnow, NULL))
			for (size_t i = 0; i < nthreads; i++) {
				const struct procfs_task *tk = find_task(now, nnow, threads[i].task.tid);
				if (threads[i].task.state == '?' && tk)
					threads[i].task = *tk;
			}
		free(now);
		for (size_t i = 0; i < nthreads; i++)
			if (!threads[i].task.comm[0])
				snprintf(threads[i].task.comm, sizeof(threads[i].task.comm), "?");
	}
	qsort(threads, nthreads, sizeof(*threads), thread_cmp);
	/* A mapping made since the first snapshot (a new thread's stack, a dlopen'd library):
	 * take the map again, now that the target runs. */
	if (attribute(snap, threads, nthreads)) {
		struct snapshot *again = NULL;
		if (!snapfile_capture(&p, &again, NULL)) {
			for (size_t i = 0; i < nthreads; i++)
				threads[i].stack_start = threads[i].stack_end = 0;
			attribute(again, threads, nthreads);
			snapshot_free(snap);
			snap = again;
		}
	}

	if (json)
		out_json_stacks(stdout, pid, snap->meta.comm, (t1 - t0) * 1e3, threads, nthreads);
	else
		print_text(stdout, threads, nthreads);
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	if (ngone)
		fprintf(stderr, "regionwatch: stacks: %zu thread%s exited while %d was being read "
			"(listed, without frames)\n", ngone, ngone == 1 ? "" : "s", pid);
	if (ngone == nthreads) {
		cli_error(cx->name, "process %d exited while its stacks were read", pid);
		rc = RW_EXIT_FAIL;
	}
out:
	for (size_t i = 0; i < nthreads; i++)
		unwind_thread_clear(&threads[i]);
	free(threads);
	unwind_free(uw);
	snapshot_free(snap);
	free(tasks);
	procfs_close(&p);
	return rc;
}
