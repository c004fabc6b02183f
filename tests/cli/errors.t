#!/bin/sh
# Messages that name the real cause (issue "Edges"): a kernel thread is not "exited", our
# own pid is not a permission problem, and a refused read says why it was refused.
. "$(dirname "$0")/../lib.sh"

# A kernel thread: pid 2 is kthreadd on Linux; any thread whose stat flags have PF_KTHREAD.
kt=$(awk '{ if (int($9 / 2097152) % 2 == 1) { print FILENAME; exit } }' /proc/[0-9]*/stat 2>/dev/null |
	sed 's,/proc/\([0-9]*\)/stat,\1,')
if [ -n "$kt" ]; then
	for cmd in "snap -p $kt -o $T/k.snap" "watch -p $kt -n 1" "stacks -p $kt" "dump -p $kt --region 0x1000 --histogram"; do
		"$RW" $cmd > /dev/null 2> "$T/err"
		st=$?
		is "$st" 1 "kernel thread: '${cmd%% *}' exits 1"
		like "$(cat "$T/err")" "process $kt \\(.*\\) is a kernel thread: it has no user memory" \
			"kernel thread: '${cmd%% *}' says it is a kernel thread, not that it exited"
	done
	ok "kernel thread: no snapshot file written" test ! -e "$T/k.snap"
else
	skip "no kernel thread visible in /proc"
fi

# Our own pid: a process cannot ptrace its own threads; not a permission problem.
sh -c 'exec "$0" stacks -p $$' "$RW" > /dev/null 2> "$T/err"
is "$?" 1 "stacks of its own pid: exit 1"
like "$(cat "$T/err")" "is this regionwatch itself: a process cannot stop and read its own threads" \
	"stacks of its own pid: says so (not 'permission denied')"
sh -c 'exec "$0" dump -p $$ --region "[stack]" --freeze --histogram' "$RW" > /dev/null 2> "$T/err"
is "$?" 1 "dump --freeze of its own pid: exit 1"
like "$(cat "$T/err")" "is this regionwatch itself" "dump --freeze of its own pid: says so"

# Another user's process, read without privilege: names the owner.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null 2>&1 && \
   setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	start_target flat -s 8 -t 60
	setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" snap -p "$TPID" > /dev/null 2> "$T/err"
	is "$?" 1 "another user's process: exit 1"
	like "$(cat "$T/err")" "permission denied \\(it belongs to uid 0; run as its owner or root\\)" \
		"another user's process: names its owner"
	stop_target "$TPID"
else
	skip "another user's process not checked: needs root and setpriv"
fi
done_testing
