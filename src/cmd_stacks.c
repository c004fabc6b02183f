/* cmd_stacks: regionwatch stacks -p PID [--json] [--max-frames N]
 * Stops every thread for a moment (target: PTRACE_SEIZE + PTRACE_INTERRUPT), unwinds each
 * with libunwind-ptrace (unwind), lets them go, then prints: nothing is printed while the
 * target is stopped, so a slow terminal cannot lengthen the stop. */
#include "cli.h"
#include "out_json.h"
#include "out_table.h"
#include "procfs.h"
#include "stacks.h"
#include "unwind.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static void announce(void *ctx, size_t nthreads, const char *comm)
{
	int pid = *(const int *)ctx;
	char name[300];

	fprintf(stderr, "regionwatch: stacks: stopping the %zu thread%s of %d (%s) for a moment "
		"to read %s\n", nthreads, nthreads == 1 ? "" : "s", pid,
		escape_ctl(comm, name, sizeof(name)), nthreads == 1 ? "its stack" : "their stacks");
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
	size_t max_frames = STACKS_DEFAULT_FRAMES;
	struct procfs p;
	struct rw_err err;
	struct stacks_opts so;
	struct stacks_result r;

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
	so = (struct stacks_opts){ max_frames, announce, &pid };
	if (stacks_collect(&p, &so, &r, &err)) {
		cli_error(cx->name, "%s", err.msg);
		rc = RW_EXIT_FAIL;
		goto out;
	}
	fprintf(stderr, "regionwatch: stacks: target stopped for %.1f ms (%.1f ms to stop %zu "
		"thread%s, %.1f ms unwinding); %s\n", r.stopped_ms, r.freeze_ms, r.nfrozen,
		r.nfrozen == 1 ? "" : "s", r.unwind_ms,
		r.was_stopped ? "it was stopped before (SIGSTOP) and stays stopped" : "running again");

	if (json)
		out_json_stacks(stdout, pid, r.comm, r.stopped_ms, r.threads, r.nthreads);
	else
		out_table_stacks(stdout, r.threads, r.nthreads);
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(cx->name, "writing standard output failed");
		rc = RW_EXIT_FAIL;
	}
	if (r.ngone)
		fprintf(stderr, "regionwatch: stacks: %zu thread%s exited while %d was being read "
			"(listed, without frames)\n", r.ngone, r.ngone == 1 ? "" : "s", pid);
	if (r.ngone == r.nthreads) {
		cli_error(cx->name, "process %d exited while its stacks were read", pid);
		rc = RW_EXIT_FAIL;
	}
out:
	stacks_free(&r);
	procfs_close(&p);
	return rc;
}
