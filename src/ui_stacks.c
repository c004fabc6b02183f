/* ui_stacks: thread backtraces. t asks first (how many threads will stop); on yes the loop
 * collects them in process with stacks_collect (the freeze, bounds and caps of the stacks
 * command; PTRACE_SEIZE, so if the monitor dies the kernel lets the target go), they are
 * formatted into lines once, and the view draws and scrolls those lines. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_int.h"
#include "procfs.h"
#include "stacks.h"

#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>

void ui_stacks_free(struct ui *u)
{
	for (size_t i = 0; i < u->nstack_lines; i++)
		free(u->stack_lines[i]);
	free(u->stack_lines);
	u->stack_lines = NULL;
	u->nstack_lines = u->stack_top = 0;
}

static void add_stack_line(struct ui *u, size_t *cap, const char *fmt, ...) RW_PRINTF(3, 4);
static void add_stack_line(struct ui *u, size_t *cap, const char *fmt, ...)
{
	char line[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (u->nstack_lines == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		u->stack_lines = xreallocarray(u->stack_lines, *cap, sizeof(*u->stack_lines));
	}
	u->stack_lines[u->nstack_lines++] = xstrdup(line);
}

/* One frame as `regionwatch stacks` prints it: #N 0xIP FUNCTION+0xOFF (MODULE), with
 * tail (why unwinding stopped) inside the parentheses. Names are escaped. */
static void add_frame_line(struct ui *u, size_t *cap, const struct unwind_frame *f, size_t k,
			   const char *tail)
{
	char fn[400], mod[400], where[900];

	if (f->module && !f->function && f->module[0] != '[')
		snprintf(where, sizeof(where), " (%s+0x%llx%s%s)", escape_ctl(f->module, mod, sizeof(mod)),
			 (unsigned long long)f->module_offset, tail ? "; " : "", tail ? tail : "");
	else if (f->module)
		snprintf(where, sizeof(where), " (%s%s%s)", escape_ctl(f->module, mod, sizeof(mod)),
			 tail ? "; " : "", tail ? tail : "");
	else
		snprintf(where, sizeof(where), " (%s)", tail ? tail : "anonymous memory or not mapped");
	if (f->function)
		add_stack_line(u, cap, "  #%zu 0x%llx %s+0x%llx%s", k, (unsigned long long)f->ip,
			       escape_ctl(f->function, fn, sizeof(fn)), (unsigned long long)f->offset, where);
	else
		add_stack_line(u, cap, "  #%zu 0x%llx ??%s", k, (unsigned long long)f->ip, where);
}

/* The structured result as lines: a summary of the stop, then each thread as the stacks
 * command prints it (thread TID (NAME) state S, stack START-END; its frames; why it ends). */
static void format_stacks(struct ui *u, const struct stacks_result *r)
{
	size_t cap = 0;

	add_stack_line(u, &cap, "target stopped for %.1f ms (%.1f ms to stop %zu thread%s, %.1f ms "
		       "unwinding); %s", r->stopped_ms, r->freeze_ms, r->nfrozen, r->nfrozen == 1 ? "" : "s",
		       r->unwind_ms, r->was_stopped ? "it was stopped before (SIGSTOP) and stays stopped"
						    : "running again");
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct unwind_thread *t = &r->threads[i];
		size_t last = t->count ? t->count - 1 : 0;
		int unknown_last = t->count && !t->frames[last].function;
		int stopped_early = t->stop == UNWIND_STOP_ERROR || t->stop == UNWIND_STOP_LOOP;
		char comm[300], stack[64] = "", tail[320];

		if (t->stack_end)
			snprintf(stack, sizeof(stack), ", stack %llx-%llx", (unsigned long long)t->stack_start,
				 (unsigned long long)t->stack_end);
		add_stack_line(u, &cap, "%s", "");
		add_stack_line(u, &cap, "thread %d (%s) state %c%s", (int)t->task.tid,
			       escape_ctl(t->task.comm, comm, sizeof(comm)), t->task.state, stack);
		snprintf(tail, sizeof(tail), "unknown frame: unwinding stopped: %s", t->reason);
		for (size_t k = 0; k < t->count; k++)
			add_frame_line(u, &cap, &t->frames[k], k,
				       k == last && unknown_last && stopped_early ? tail : NULL);
		if (t->stop == UNWIND_STOP_END && !t->count)
			add_stack_line(u, &cap, "  (no frames)");
		else if (stopped_early && !t->count)
			add_stack_line(u, &cap, "  unwinding failed: %s", t->reason);
		else if (stopped_early && !unknown_last)
			add_stack_line(u, &cap, "  #%zu ?? (unknown frame: unwinding stopped after #%zu: %s)",
				       t->count, last, t->reason);
		else if (t->stop == UNWIND_STOP_MAX_FRAMES || t->stop == UNWIND_STOP_TIME ||
			 t->stop == UNWIND_STOP_SKIPPED)
			add_stack_line(u, &cap, "  ... truncated: %s", t->reason);
		else if (t->stop == UNWIND_STOP_GONE)
			add_stack_line(u, &cap, "  (%s)", t->reason);
	}
}

/* t: say first that the target will be stopped, and how many threads; on yes ask the
 * loop to collect (UI_RESTACK). */
unsigned ui_stacks_ask(struct ui *u)
{
	char label[160];
	int nthreads = 0;

	if (u->w.exited)
		return UI_HANDLED;
	{
		/* Through the sampler's pinned dir fd: by path, a reused pid would count
		 * another process's threads. A process gone meanwhile counts 0. */
		pid_t *tids = NULL;
		size_t ntids = 0;
		if (!procfs_tids(&u->w.sm.proc, &tids, &ntids, NULL))
			nthreads = (int)ntids;
		free(tids);
	}
	/* short enough that "y/n" shows on 80 columns (about 1 ms per thread) */
	snprintf(label, sizeof(label), "backtraces stop %s %d thread%s of %d for ~%d ms. Go on? y/n: ",
		 nthreads == 1 ? "the" : "all", nthreads, nthreads == 1 ? "" : "s", u->o->pid,
		 nthreads > 1 ? nthreads : 1);
	return ui_prompt_open(u, PROMPT_STACKS, label, "");
}

/* The one key that answers t's question: y collects, anything else does not. */
unsigned ui_stacks_answer(struct ui *u, int ch)
{
	if (ch != 'y' && ch != 'Y') {
		ui_set_msg(u, "backtraces: not taken (the target was not stopped)");
		return UI_HANDLED | UI_REDRAW;
	}
	return UI_HANDLED | UI_REDRAW | UI_RESTACK;
}

/* The loop's step for UI_RESTACK: nothing is drawn while the target is stopped. */
void ui_stacks_collect(struct ui *u)
{
	struct stacks_result r;
	struct rw_err err;

	if (u->w.exited)
		return;
	if (stacks_collect(&u->w.sm.proc, NULL, &r, &err)) {
		ui_set_msg(u, "backtraces failed: %s", err.msg);
		stacks_free(&r);
		return;
	}
	ui_stacks_free(u);
	format_stacks(u, &r);
	stacks_free(&r);
	u->view = VIEW_STACKS;
}

void ui_stacks_draw(const struct ui *u)
{
	erase();
	attron(A_BOLD);
	ui_put_clipped(0, 0, COLS, "thread backtraces (regionwatch stacks): arrows scroll, t again, q back");
	attroff(A_BOLD);
	for (int r = 1; r < LINES - 1; r++) {
		size_t i = u->stack_top + (size_t)(r - 1);
		if (i >= u->nstack_lines)
			break;
		ui_put_clipped(r, 0, COLS, u->stack_lines[i]);
	}
	ui_draw_footer(u, "arrows scroll  t again  q back");
}

unsigned ui_stacks_key(struct ui *u, int ch)
{
	size_t page = LINES > 3 ? (size_t)LINES - 3 : 1;

	if (ch == 'q' || ch == 27 || ch == KEY_LEFT || ch == KEY_BACKSPACE)
		u->view = VIEW_TABLE;
	else if ((ch == KEY_DOWN || ch == 'j') && u->stack_top + 1 < u->nstack_lines)
		u->stack_top++;
	else if ((ch == KEY_UP || ch == 'k') && u->stack_top)
		u->stack_top--;
	else if (ch == KEY_NPAGE)
		u->stack_top = u->stack_top + page < u->nstack_lines ? u->stack_top + page : u->stack_top;
	else if (ch == KEY_PPAGE)
		u->stack_top = u->stack_top > page ? u->stack_top - page : 0;
	else if (ch == 't')
		return ui_stacks_ask(u);
	else
		return 0;
	return UI_HANDLED | UI_REDRAW;
}
