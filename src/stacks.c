/* stacks: freeze, unwind every thread, thaw, then name and place the frames. Nothing is
 * printed or called back while the target is stopped, so a slow terminal (or a slow
 * caller) cannot lengthen the stop. */
#include "stacks.h"
#include "snapfile.h"
#include "target.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Main thread first, then by tid. */
static int thread_cmp(const void *a, const void *b, void *ctx)
{
	pid_t x = ((const struct unwind_thread *)a)->task.tid, y = ((const struct unwind_thread *)b)->task.tid;
	pid_t main_tid = *(const pid_t *)ctx;

	if (x == y)
		return 0;
	if (x == main_tid)
		return -1;
	if (y == main_tid)
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

static void announce(const struct stacks_opts *o, size_t nthreads, const char *comm)
{
	if (o && o->announce)
		o->announce(o->ctx, nthreads, comm);
}

/* Unwind the frozen threads in order, within the per-thread and whole-process bounds.
 * Returns how many turned out to be gone. */
static size_t unwind_all(struct unwind_ctx *uw, const struct procfs *p, struct unwind_thread *v,
			 size_t n, size_t max_frames, double t_frozen)
{
	size_t ngone = 0;

	for (size_t i = 0; i < n; i++) {
		struct unwind_thread *t = &v[i];
		double used = (now_mono() - t_frozen) * 1e3;

		if (used >= STACKS_TOTAL_MS) {
			t->stop = UNWIND_STOP_SKIPPED;
			snprintf(t->reason, sizeof(t->reason), "not unwound: the %.0f ms bound for the "
				 "whole process was used up", STACKS_TOTAL_MS);
			continue;
		}
		if (unwind_thread_run(uw, p, t, max_frames,
				      STACKS_TOTAL_MS - used < STACKS_THREAD_MS ? STACKS_TOTAL_MS - used
										 : STACKS_THREAD_MS) == -ESRCH)
			ngone++;
	}
	return ngone;
}

/* After the thaw: threads listed before the freeze that it did not find (they had
 * exited), and the names of threads born after the first list. */
static void complete_threads(const struct procfs *p, struct stacks_result *r,
			     const struct procfs_task *tasks, size_t ntasks)
{
	struct procfs_task *now = NULL;
	size_t nnow = 0;
	int missing = 0;

	for (size_t i = 0; i < ntasks; i++) {
		int found = 0;
		for (size_t k = 0; k < r->nthreads && !found; k++)
			found = r->threads[k].task.tid == tasks[i].tid;
		if (!found) {
			struct unwind_thread *t = &r->threads[r->nthreads++];
			t->task = tasks[i];
			t->stop = UNWIND_STOP_GONE;
			snprintf(t->reason, sizeof(t->reason), "exited before it could be stopped");
			r->ngone++;
		}
	}
	for (size_t i = 0; i < r->nthreads; i++)
		missing |= r->threads[i].task.state == '?';
	if (missing && !procfs_task_list(p, &now, &nnow, NULL))
		for (size_t i = 0; i < r->nthreads; i++) {
			const struct procfs_task *tk = find_task(now, nnow, r->threads[i].task.tid);
			if (r->threads[i].task.state == '?' && tk)
				r->threads[i].task = *tk;
		}
	free(now);
	for (size_t i = 0; i < r->nthreads; i++)
		if (!r->threads[i].task.comm[0])
			snprintf(r->threads[i].task.comm, sizeof(r->threads[i].task.comm), "?");
}

int stacks_collect(const struct procfs *p, const struct stacks_opts *o, struct stacks_result *out,
		   struct rw_err *err)
{
	size_t max_frames = o && o->max_frames ? o->max_frames : STACKS_DEFAULT_FRAMES;
	struct procfs_task *tasks = NULL;
	size_t ntasks = 0;
	struct unwind_ctx *uw = NULL;
	struct target_freeze frz;
	int announced, rc;
	double t0, t_frozen, t_unwound, t1;

	memset(out, 0, sizeof(*out));
	out->pid = p->pid;
	if (max_frames > STACKS_MAX_FRAMES)
		max_frames = STACKS_MAX_FRAMES;
	/* Everything that needs no stop is read before it: names, states (what the threads
	 * were doing, not the ptrace stop), and the map. */
	rc = procfs_task_list(p, &tasks, &ntasks, err);
	if (!rc)
		rc = snapfile_capture(p, &out->snap, err);
	if (rc)
		goto out_tasks;
	out->comm = out->snap->meta.comm;
	uw = unwind_new(p->pid);
	if (!uw) {
		rc = rw_err_set(err, ENOMEM, "libunwind could not create an address space");
		goto out_tasks;
	}
	/* Traced by someone else, or ourselves: the freeze will be refused, so do not
	 * announce one. */
	announced = target_tracer(p) == 0 && p->pid != getpid();
	if (announced)
		announce(o, ntasks, out->comm);
	t0 = now_mono();
	rc = target_freeze(p, STACKS_FREEZE_MS, &frz, err);
	if (rc)
		goto out_unwind;
	t_frozen = now_mono();
	out->nfrozen = frz.count;
	if (!announced)                  /* the tracer had let go meanwhile */
		announce(o, ntasks, out->comm);
	/* Frozen threads, plus those listed before that exited before they could be stopped. */
	out->threads = xcalloc(frz.count + ntasks, sizeof(*out->threads));
	for (size_t i = 0; i < frz.count; i++) {
		const struct procfs_task *tk = find_task(tasks, ntasks, frz.threads[i].tid);
		struct unwind_thread *t = &out->threads[out->nthreads++];
		if (tk) {
			t->task = *tk;
		} else {
			t->task.tid = frz.threads[i].tid;
			t->task.state = '?';     /* filled in after the thaw */
		}
	}
	qsort_r(out->threads, out->nthreads, sizeof(*out->threads), thread_cmp, &out->pid);
	out->ngone = unwind_all(uw, p, out->threads, out->nthreads, max_frames, t_frozen);
	t_unwound = now_mono();
	for (size_t i = 0; i < frz.count; i++)
		out->was_stopped |= frz.threads[i].group_stop;
	target_thaw(&frz);
	t1 = now_mono();
	out->stopped_ms = (t1 - t0) * 1e3;
	out->freeze_ms = (t_frozen - t0) * 1e3;
	out->unwind_ms = (t_unwound - t_frozen) * 1e3;
	/* Names after the thaw: reading symbol tables is the slow part. */
	for (size_t i = 0; i < out->nthreads; i++)
		unwind_symbolize(uw, p->pid, &out->threads[i]);
	complete_threads(p, out, tasks, ntasks);
	qsort_r(out->threads, out->nthreads, sizeof(*out->threads), thread_cmp, &out->pid);
	/* A mapping made since the first snapshot (a new thread's stack, a dlopen'd library):
	 * take the map again, now that the target runs. */
	if (attribute(out->snap, out->threads, out->nthreads)) {
		struct snapshot *again = NULL;
		if (!snapfile_capture(p, &again, NULL)) {
			for (size_t i = 0; i < out->nthreads; i++)
				out->threads[i].stack_start = out->threads[i].stack_end = 0;
			attribute(again, out->threads, out->nthreads);
			snapshot_free(out->snap);
			out->snap = again;
			out->comm = again->meta.comm;
		}
	}
out_unwind:
	unwind_free(uw);
out_tasks:
	free(tasks);
	return rc;
}

void stacks_free(struct stacks_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nthreads; i++)
		unwind_thread_clear(&r->threads[i]);
	free(r->threads);
	snapshot_free(r->snap);
	memset(r, 0, sizeof(*r));
}
