/* unwind: thread backtraces through libunwind-ptrace (the only includer of libunwind).
 *
 * libunwind's ptrace accessors read registers (PTRACE_GETREGS / PEEKUSER) and memory
 * (PTRACE_PEEKDATA) of a thread in a ptrace-stop; the unwinder never asks them to write
 * because we never call unw_resume or unw_set_reg. */
#include "unwind.h"

#include <errno.h>
#include <libunwind-ptrace.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

/* libunwind reads the target's memory one word per PTRACE_PEEKDATA: about 140 syscalls a
 * frame here, mostly the binary search of .eh_frame_hdr and the FDE/CIE parse, all while
 * the target is stopped. Whole pages through process_vm_readv, kept for the freeze (the
 * threads are stopped, so nothing changes), serve the same words in a few calls. Only the
 * page holding the word asked for is read, so no page the target never touched is made
 * resident (design §4): stacks in use and mapped code are resident or file-backed. */
#define PAGE_CACHE_SLOTS 256
#define PAGE_BYTES 4096u

struct cached_page {
	uint64_t addr;           /* page address + 1, 0 when the slot is empty */
	unsigned char bytes[PAGE_BYTES];
};

#define SYM_CACHE_SLOTS 4096      /* a power of 2 */

/* Name and function range of the code at one address, remembered for the other threads
 * (they mostly wait in the same few places: naming reads /proc/PID/maps and maps the ELF
 * file each time, ~0.1 ms). */
struct sym_entry {
	uint64_t at;                  /* 0: empty slot */
	char *name;                   /* NULL: no trustworthy name */
	uint64_t sym_start;
	uint64_t func_start, func_end;
};

struct unwind_ctx {
	unw_addr_space_t as;
	pid_t pid;
	struct cached_page *pages;    /* PAGE_CACHE_SLOTS, direct-mapped by page number */
	uint64_t reads, hits;
	struct sym_entry *syms;       /* SYM_CACHE_SLOTS, open addressing by address */
	size_t nsyms;
	pid_t cur_tid;                /* the thread being unwound, 0 between threads */
#if defined(__x86_64__)
	struct user_regs_struct regs; /* its registers, once read */
#endif
	int regs_valid;
};

/* libunwind's accessors have no slot for our data and are called with the _UPT argument
 * (also from inside _UPT_find_proc_info), so the cache is found through this: one
 * context at a time. */
static struct unwind_ctx *active_ctx;

static int cached_read_word(struct unwind_ctx *u, unw_word_t addr, unw_word_t *val)
{
	uint64_t page = addr & ~(uint64_t)(PAGE_BYTES - 1), off = addr - page;
	struct cached_page *c = &u->pages[(page / PAGE_BYTES) % PAGE_CACHE_SLOTS];

	if (off + sizeof(*val) > PAGE_BYTES)
		return -1;               /* straddles two pages: let ptrace read it */
	if (c->addr != page + 1) {
		struct iovec local = { c->bytes, PAGE_BYTES };
		struct iovec remote = { (void *)(uintptr_t)page, PAGE_BYTES };
		c->addr = 0;
		u->reads++;
		if (process_vm_readv(u->pid, &local, 1, &remote, 1, 0) != (ssize_t)PAGE_BYTES)
			return -1;
		c->addr = page + 1;
	} else {
		u->hits++;
	}
	memcpy(val, c->bytes + off, sizeof(*val));
	return 0;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
		      void *arg)
{
	struct unwind_ctx *u = active_ctx;

	/* The unwinder never writes (no unw_resume, no unw_set_reg); refuse if it tried. */
	if (write)
		return -UNW_EREADONLYREG;
	if (u && u->as == as && u->pages && !cached_read_word(u, addr, val))
		return 0;
	return _UPT_access_mem(as, addr, val, 0, arg);
}

#if defined(__x86_64__)
/* Where each of libunwind's x86_64 registers is in PTRACE_GETREGS's struct. */
#define REG(unw, field) [UNW_X86_64_##unw] = offsetof(struct user_regs_struct, field)
static const size_t x86_64_reg_offset[UNW_X86_64_RIP + 1] = {
	REG(RAX, rax), REG(RDX, rdx), REG(RCX, rcx), REG(RBX, rbx), REG(RSI, rsi),
	REG(RDI, rdi), REG(RBP, rbp), REG(RSP, rsp), REG(R8, r8), REG(R9, r9),
	REG(R10, r10), REG(R11, r11), REG(R12, r12), REG(R13, r13), REG(R14, r14),
	REG(R15, r15), REG(RIP, rip),
};
#undef REG
#endif

/* libunwind-ptrace also fetches the whole register set (PTRACE_GETREGSET) for each
 * register it wants, ~50 times a thread: one PTRACE_GETREGS per thread serves them all. */
static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
		      void *arg)
{
	struct unwind_ctx *u = active_ctx;

	if (write)
		return -UNW_EREADONLYREG;
#if defined(__x86_64__)
	if (u && u->as == as && u->cur_tid && reg >= UNW_X86_64_RAX && reg <= UNW_X86_64_RIP) {
		const struct user_regs_struct *g = &u->regs;
		if (!u->regs_valid) {
			if (ptrace(PTRACE_GETREGS, u->cur_tid, NULL, &u->regs) < 0)
				return _UPT_access_reg(as, reg, val, 0, arg);
			u->regs_valid = 1;
		}
		memcpy(val, (const char *)g + x86_64_reg_offset[reg], sizeof(*val));
		return 0;
	}
#else
	(void)u;
#endif
	return _UPT_access_reg(as, reg, val, 0, arg);
}

struct unwind_ctx *unwind_new(pid_t pid)
{
	struct unwind_ctx *u = xcalloc(1, sizeof(*u));
	unw_accessors_t acc = _UPT_accessors;

	acc.access_mem = access_mem;
	acc.access_reg = access_reg;
	u->pid = pid;
	u->as = unw_create_addr_space(&acc, 0);
	if (!u->as) {
		free(u);
		return NULL;
	}
	/* Threads of one process share their code: unwind info found for one serves all. */
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	u->pages = xcalloc(PAGE_CACHE_SLOTS, sizeof(*u->pages));
	u->syms = xcalloc(SYM_CACHE_SLOTS, sizeof(*u->syms));
	active_ctx = u;
	return u;
}

void unwind_free(struct unwind_ctx *u)
{
	if (!u)
		return;
	if (active_ctx == u)
		active_ctx = NULL;
	unw_destroy_addr_space(u->as);
	free(u->pages);
	for (size_t i = 0; i < SYM_CACHE_SLOTS; i++)
		free(u->syms[i].name);
	free(u->syms);
	free(u);
}

const char *unwind_stop_name(enum unwind_stop s)
{
	switch (s) {
	case UNWIND_STOP_END:
		return "end";
	case UNWIND_STOP_MAX_FRAMES:
		return "max-frames";
	case UNWIND_STOP_TIME:
		return "time";
	case UNWIND_STOP_ERROR:
		return "error";
	case UNWIND_STOP_LOOP:
		return "loop";
	case UNWIND_STOP_GONE:
		return "gone";
	case UNWIND_STOP_SKIPPED:
		return "skipped";
	}
	return "?";
}

int unwind_stop_truncated(enum unwind_stop s)
{
	return s == UNWIND_STOP_MAX_FRAMES || s == UNWIND_STOP_TIME || s == UNWIND_STOP_SKIPPED;
}

void unwind_thread_clear(struct unwind_thread *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->count; i++)
		free(t->frames[i].function);
	free(t->frames);
	t->frames = NULL;
	t->count = t->cap = 0;
}

/* The thread still exists and is not a zombie (read-only: no signal 0 probe, which a
 * strace of us would count as a signal sent to the target). */
static int thread_alive(const struct procfs *p, pid_t tid)
{
	struct procfs_stat st;

	return !procfs_task_stat(p, tid, &st, NULL) && st.state != 'Z' && st.state != 'X';
}

/* Why libunwind gave up, in words a person can act on. */
static const char *step_error_text(int r)
{
	switch (-r) {
	case UNW_ENOINFO:
		return "no unwind information for this code (no DWARF CFI, e.g. Go, JIT or "
		       "stripped code) and the frame-pointer fallback did not apply";
	case UNW_EINVALIDIP:
		return "invalid return address (not in any code the unwinder knows)";
	case UNW_EBADFRAME:
		return "bad frame (the unwind information does not match the stack)";
	case UNW_EBADREG:
		return "could not read a register";
	default:
		return unw_strerror(r);
	}
}

static double ms_now(void)
{
	return now_mono() * 1e3;
}

static struct unwind_frame *add_frame(struct unwind_thread *t)
{
	struct unwind_frame *f;

	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->frames = xreallocarray(t->frames, t->cap, sizeof(*t->frames));
	}
	f = &t->frames[t->count++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* Look up f's function in the unwind info (.eh_frame_hdr, then the FDE), filling
 * func_start/func_end: 1 found, 0 none. Not unw_get_proc_info on the cursor: that
 * bypasses libunwind's cache of register rules, which made the freeze several times
 * longer, and without unwind info it succeeds with a made-up range [ip, ip + 1). */
static int has_unwind_info(struct unwind_ctx *u, struct unwind_frame *f, void *upt)
{
	unw_proc_info_t pi;
	unw_word_t at = f->exact_ip ? f->ip : f->ip - 1;

	memset(&pi, 0, sizeof(pi));
	if (unw_get_proc_info_by_ip(u->as, at, &pi, upt) < 0 || pi.end_ip <= pi.start_ip ||
	    at < pi.start_ip || at >= pi.end_ip)
		return 0;
	f->func_start = pi.start_ip;
	f->func_end = pi.end_ip;
	return 1;
}

int unwind_thread_run(struct unwind_ctx *u, const struct procfs *p, struct unwind_thread *t,
		      size_t max_frames, double max_ms)
{
	pid_t tid = t->task.tid;
	double t0 = ms_now(), deadline = t0 + max_ms;
	unw_cursor_t cur;
	void *upt;
	int r, rc = 0, exact_ip = 1;

	t->stop = UNWIND_STOP_END;
	t->reason[0] = '\0';
	u->cur_tid = tid;
	u->regs_valid = 0;
	upt = _UPT_create(tid);
	if (!upt) {
		t->stop = UNWIND_STOP_ERROR;
		snprintf(t->reason, sizeof(t->reason), "libunwind could not set up (out of memory)");
		goto out;
	}
	r = unw_init_remote(&cur, u->as, upt);
	if (r < 0) {
		if (!thread_alive(p, tid)) {
			t->stop = UNWIND_STOP_GONE;
			snprintf(t->reason, sizeof(t->reason), "the thread exited while it was unwound");
			rc = -ESRCH;
		} else {
			t->stop = UNWIND_STOP_ERROR;
			snprintf(t->reason, sizeof(t->reason), "cannot read its registers (is it in a "
				 "ptrace-stop of ours?): %s", unw_strerror(r));
		}
		goto out_upt;
	}
	for (;;) {
		unw_word_t ip = 0, sp = 0, fp;
		struct unwind_frame *f;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) < 0) {
			t->stop = UNWIND_STOP_ERROR;
			snprintf(t->reason, sizeof(t->reason), "could not read the frame's registers");
			break;
		}
		if (!t->count)
			t->sp = sp;
		else if (!ip)
			break;             /* a zero return address ends the chain */
		if (t->count && t->frames[t->count - 1].ip == ip && t->frames[t->count - 1].sp == sp) {
			t->stop = UNWIND_STOP_LOOP;
			snprintf(t->reason, sizeof(t->reason), "the same frame (ip 0x%llx, sp 0x%llx) "
				 "came back: the unwinder was looping", (unsigned long long)ip,
				 (unsigned long long)sp);
			break;
		}
		/* The cursor stands on a real frame past the cap: a truncation, not the end. */
		if (t->count == max_frames) {
			t->stop = UNWIND_STOP_MAX_FRAMES;
			snprintf(t->reason, sizeof(t->reason), "more than %zu frames", max_frames);
			break;
		}
		f = add_frame(t);
		f->ip = ip;
		f->sp = sp;
		f->exact_ip = exact_ip;
		/* The caller of a signal frame was interrupted, not calling (sigreturn). */
		exact_ip = unw_is_signal_frame(&cur) > 0;
		if (ms_now() > deadline) {
			t->stop = UNWIND_STOP_TIME;
			snprintf(t->reason, sizeof(t->reason), "stopped after %.0f ms (time bound per "
				 "thread)", max_ms);
			break;
		}
		fp = 0;
#if defined(__x86_64__)
		unw_get_reg(&cur, UNW_X86_64_RBP, &fp);
#endif
		r = unw_step(&cur);
		if (r == 0) {
			/* With unwind info, 0 is the outermost frame (its CFI says "no return
			 * address"). Without, libunwind (x86_64 Gstep.c) follows the frame pointer
			 * and also answers 0 when that pointer does not look like a frame: a guess
			 * given up, not an end. A zero frame pointer is the end by convention
			 * (_start, clone3, Go's stack bases clear it). */
			if (fp && !has_unwind_info(u, f, upt)) {
				t->stop = UNWIND_STOP_ERROR;
				snprintf(t->reason, sizeof(t->reason), "no unwind information (CFI) here, "
					 "and the frame pointer 0x%llx leads to no frame the unwinder trusts "
					 "(another stack, or not a frame pointer)", (unsigned long long)fp);
			}
			break;
		}
		if (r < 0) {
			if (!thread_alive(p, tid)) {
				t->stop = UNWIND_STOP_GONE;
				snprintf(t->reason, sizeof(t->reason), "the thread exited while it was unwound");
				rc = -ESRCH;
			} else {
				t->stop = UNWIND_STOP_ERROR;
				snprintf(t->reason, sizeof(t->reason), "%s", step_error_text(r));
			}
			break;
		}
	}
out_upt:
	_UPT_destroy(upt);
out:
	u->cur_tid = 0;
	u->regs_valid = 0;
	t->ms = ms_now() - t0;
	return rc;
}

static struct sym_entry *sym_slot(struct unwind_ctx *u, uint64_t at)
{
	size_t i = (size_t)((at * 0x9e3779b97f4a7c15ULL) >> 52) & (SYM_CACHE_SLOTS - 1);

	for (size_t n = 0; n < SYM_CACHE_SLOTS; n++, i = (i + 1) & (SYM_CACHE_SLOTS - 1))
		if (u->syms[i].at == at || !u->syms[i].at)
			return &u->syms[i];
	return NULL;
}

static void sym_resolve(struct unwind_ctx *u, void *upt, struct unwind_frame *f, uint64_t at,
			struct sym_entry *e)
{
	unw_word_t off = 0;
	char name[512];
	int r;

	memset(e, 0, sizeof(*e));
	e->at = at;
	/* The unwind tables are read-only file mappings: reading them now that the target
	 * runs again (process_vm_readv) gives what the freeze would have. */
	if (!f->func_end)
		has_unwind_info(u, f, upt);
	e->func_start = f->func_start;
	e->func_end = f->func_end;
	name[0] = '\0';
	r = _UPT_get_proc_name(u->as, at, name, sizeof(name), &off, upt);
	/* -UNW_ENOMEM: the name was cut to fit, the offset is still right. */
	if ((r != 0 && r != -UNW_ENOMEM) || !name[0] || off > at)
		return;
	if (e->func_end && (at - off < e->func_start || at - off >= e->func_end))
		return;                  /* the nearest symbol belongs to another function */
	name[sizeof(name) - 1] = '\0';
	e->name = xstrdup(name);
	e->sym_start = at - off;
}

void unwind_symbolize(struct unwind_ctx *u, pid_t pid, struct unwind_thread *t)
{
	/* libunwind's ptrace accessors name an ip from /proc/PID/maps and the ELF file on
	 * disk (_Uelf64_get_proc_name): no ptrace, so the target runs meanwhile. */
	void *upt;

	/* Called after the thaw: what was cached of the target's memory may change now. */
	for (size_t i = 0; i < PAGE_CACHE_SLOTS; i++)
		u->pages[i].addr = 0;
	upt = _UPT_create(pid);
	if (!upt)
		return;
	for (size_t k = 0; k < t->count; k++) {
		struct unwind_frame *f = &t->frames[k];
		/* A return address may be the first byte after its call's function (a call to
		 * a noreturn function ends it): name the call instruction, ip - 1. */
		uint64_t at = f->exact_ip ? f->ip : f->ip - 1;
		struct sym_entry *e, local;

		if (!at)
			continue;
		e = u->nsyms < SYM_CACHE_SLOTS / 4 * 3 ? sym_slot(u, at) : NULL;
		if (!e || e->at != at) {
			if (!e)
				e = &local;
			else
				u->nsyms++;
			sym_resolve(u, upt, f, at, e);
		}
		f->func_start = e->func_start;
		f->func_end = e->func_end;
		free(f->function);
		f->function = e->name ? xstrdup(e->name) : NULL;
		f->offset = e->name ? f->ip - e->sym_start : 0;
		if (e == &local)
			free(local.name);
	}
	_UPT_destroy(upt);
}
