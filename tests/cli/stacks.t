#!/bin/sh
# stacks against the threads fixture: every thread listed with its name, stack mapping and
# frames; --json; --max-frames; nothing left stopped or traced afterwards, whatever
# happened; refused when already traced; no ATTACH, POKE, EXITKILL or signal (strace);
# threads that come and go; a Go program.
. "$(dirname "$0")/../lib.sh"

# How many threads of PID are traced or in a stopped state (t or T): 0 when all is well.
held() {
	n=0
	for s in /proc/"$1"/task/*/status; do
		# read once: a thread that exits between two greps is gone, not held
		st=$(cat "$s" 2>/dev/null) || continue
		[ -n "$st" ] || continue
		printf '%s\n' "$st" | grep -q '^TracerPid:[[:space:]]*0$' || n=$((n + 1))
		printf '%s\n' "$st" | grep -q '^State:[[:space:]]*[tT]' && n=$((n + 1))
	done
	echo $n
}
# The block of text output for the thread named NAME.
block() { awk -v want="($2)" '/^thread / { inb = index($0, want) > 0 } inb' "$1"; }
# Wait (up to 5 s) until PID has a tracer.
wait_traced() {
	i=0
	while grep -q '^TracerPid:[[:space:]]*0$' "/proc/$1/status"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}

start_target threads -t 300
pid=$TPID
wait_addr=$TADDR
is "$(ready_field threads)" 4 "fixture: 4 threads"

# 1. Text output.
"$RW" stacks -p "$pid" > "$T/s.txt" 2> "$T/s.err"
is "$?" 0 "stacks exits 0"
is "$(grep -c '^thread ' "$T/s.txt")" 4 "4 threads listed"
for name in threads worker-1 worker-2 worker-3; do
	like "$(cat "$T/s.txt")" "^thread [0-9]+ \\($name\\) state S" "thread $name listed, sleeping"
done
like "$(block "$T/s.txt" threads | sed -n 1p)" "^thread $pid " "the main thread comes first"
for name in worker-1 worker-2 worker-3; do
	like "$(block "$T/s.txt" "$name")" "  #[0-9]+ 0x[0-9a-f]+ rw_fixture_wait_here\\+0x[0-9a-f]+ \\(threads\\)" \
		"$name: rw_fixture_wait_here in its stack, in module threads"
	like "$(block "$T/s.txt" "$name")" "rw_fixture_worker_main\\+0x[0-9a-f]+ \\(threads\\)" \
		"$name: its caller too"
done
like "$(block "$T/s.txt" threads)" " main\\+0x[0-9a-f]+ \\(threads\\)" "main thread: main() in its stack"
like "$(block "$T/s.txt" threads)" "#0 0x[0-9a-f]+ [a-z_]*nanosleep\\+0x[0-9a-f]+ \\(libc\\.so\\.6\\)" \
	"main thread: innermost frame in libc's nanosleep"
is "$(grep -cE '^thread [0-9]+ \(.*\) state ., stack [0-9a-f]+-[0-9a-f]+$' "$T/s.txt")" 4 \
	"every thread's stack range is printed"
main_stack=$(block "$T/s.txt" threads | sed -n 's/^thread .*, stack \([0-9a-f-]*\)$/\1/p')
is "$main_stack" "$(awk '/\[stack\]$/ { print $1 }' "/proc/$pid/maps")" "main thread's stack is [stack]"
n=0
for r in $(sed -n 's/^thread .*(worker-.*, stack \([0-9a-f-]*\)$/\1/p' "$T/s.txt"); do
	grep -q "^$r " "/proc/$pid/maps" && n=$((n + 1))
done
is "$n" 3 "each worker's stack range is one mapping of the target"
is "$(sed -n 's/^thread .*(worker-.*, stack \([0-9a-f-]*\)$/\1/p' "$T/s.txt" | sort -u | wc -l)" 3 \
	"the workers' stacks are three different mappings"
ok "no frame is left unnamed above the thread start" sh -c "! grep -q 'unwinding stopped' '$T/s.txt'"
like "$(sed -n 1p "$T/s.err")" "^regionwatch: stacks: stopping the 4 threads of $pid \\(threads\\) for a moment" \
	"stderr: says first that it stops the target"
like "$(sed -n 2p "$T/s.err")" "^regionwatch: stacks: target stopped for [0-9.]+ ms \\([0-9.]+ ms to stop 4 threads, [0-9.]+ ms unwinding\\)" \
	"stderr: then how long"
diag "$(sed -n 2p "$T/s.err")"
is "$(held "$pid")" 0 "after stacks: no thread traced or stopped"
is "$(proc_state "$pid")" S "after stacks: the target sleeps"

# 2. JSON.
"$RW" stacks -p "$pid" --json > "$T/s.json" 2> /dev/null
is "$?" 0 "--json exits 0"
is "$(json_get "$T/s.json" '$d->{type}')" stacks "--json: type stacks"
is "$(json_get "$T/s.json" '$d->{pid}')" "$pid" "--json: pid"
ok "--json: frozen_ms > 0" test "$(json_get "$T/s.json" '$d->{frozen_ms} > 0 ? 1 : 0')" = 1
is "$(json_get "$T/s.json" 'scalar @{$d->{threads}}')" 4 "--json: 4 threads"
is "$(json_get "$T/s.json" 'join ",", sort map { $_->{comm} } @{$d->{threads}}')" \
	"threads,worker-1,worker-2,worker-3" "--json: their names"
is "$(json_get "$T/s.json" 'scalar grep { @{$_->{frames}} >= 4 } @{$d->{threads}}')" 4 "--json: every thread has frames"
is "$(json_get "$T/s.json" 'scalar grep { my $t = $_; $t->{comm} =~ /^worker-/ &&
	grep { ($_->{function} // "") eq "rw_fixture_wait_here" && $_->{module} eq "threads" } @{$t->{frames}} } @{$d->{threads}}')" \
	3 "--json: rw_fixture_wait_here (module threads) in every worker"
is "$(json_get "$T/s.json" 'my @f = grep { ($_->{function} // "") eq "rw_fixture_wait_here" } map { @{$_->{frames}} } @{$d->{threads}};
	scalar grep { hex($_->{ip}) - $_->{offset} == hex("'"$wait_addr"'") } @f')" 3 \
	"--json: ip - offset is the function's address the fixture printed"
is "$(json_get "$T/s.json" 'scalar grep { $_->{stack} && hex($_->{stack}{start}) <= hex($_->{sp}) && hex($_->{sp}) < hex($_->{stack}{end}) } @{$d->{threads}}')" \
	4 "--json: each thread's stack range holds its sp"
is "$(json_get "$T/s.json" 'scalar grep { !/^0x[0-9a-f]+$/ } (map { ($_->{sp}, $_->{stack}{start}, $_->{stack}{end}, map { $_->{ip} } @{$_->{frames}}) } @{$d->{threads}})')" \
	0 "--json: addresses are lowercase 0x hex strings"
is "$(json_get "$T/s.json" 'scalar grep { $_->{truncated} || defined $_->{error} } @{$d->{threads}}')" 0 \
	"--json: nothing truncated, no error"
is "$(json_get "$T/s.json" 'join ",", map { $_->{state} } @{$d->{threads}}')" "S,S,S,S" "--json: states before the stop"

# 3. --max-frames.
"$RW" stacks -p "$pid" --max-frames 2 > "$T/m.txt" 2> /dev/null
is "$?" 0 "--max-frames 2 exits 0"
is "$(grep -c '^  #2 ' "$T/m.txt")" 0 "--max-frames 2: no third frame"
is "$(grep -c '^  \.\.\. truncated: more than 2 frames (--max-frames 2)$' "$T/m.txt")" 4 "--max-frames 2: every thread says it was truncated"
"$RW" stacks -p "$pid" --max-frames 2 --json > "$T/m.json" 2> /dev/null
is "$(json_get "$T/m.json" 'scalar grep { @{$_->{frames}} == 2 && $_->{truncated} && $_->{truncated_by} eq "max-frames" } @{$d->{threads}}')" \
	4 "--max-frames 2 --json: 2 frames each, truncated by max-frames"
depth=$(json_get "$T/s.json" 'scalar @{(grep { $_->{comm} eq "worker-1" } @{$d->{threads}})[0]{frames}}')
"$RW" stacks -p "$pid" --max-frames "$depth" --json > "$T/e.json" 2> /dev/null
is "$(json_get "$T/e.json" '(grep { $_->{comm} eq "worker-1" } @{$d->{threads}})[0]{truncated} ? 1 : 0')" 0 \
	"--max-frames equal to the depth ($depth) is not a truncation"

# 4. Usage and runtime errors.
"$RW" stacks 2> /dev/null; is "$?" 2 "no -p: exit 2"
"$RW" stacks -p "$pid" --max-frames 0 2> /dev/null; is "$?" 2 "--max-frames 0: exit 2"
"$RW" stacks -p "$pid" --max-frames x 2> /dev/null; is "$?" 2 "--max-frames x: exit 2"
"$RW" stacks -p "$pid" extra 2> /dev/null; is "$?" 2 "extra argument: exit 2"
"$RW" stacks -p nope 2> /dev/null; is "$?" 2 "bad pid: exit 2"
"$RW" stacks --help > "$T/h.txt"; is "$?" 0 "--help: exit 0"
like "$(cat "$T/h.txt")" "Go frames may be cut short" "--help: says what to expect of Go"
"$RW" stacks -p 2147483 > /dev/null 2> "$T/err"; is "$?" 1 "no such process: exit 1"
is "$(wc -l < "$T/err" | tr -d ' ')" 1 "no such process: one line"
like "$(cat "$T/err")" "^regionwatch: stacks: no process with pid 2147483" "no such process: says so"

if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" --version > /dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" stacks -p "$pid" > /dev/null 2> "$T/err"
	is "$?" 1 "another user's process: exit 1"
	is "$(wc -l < "$T/err" | tr -d ' ')" 1 "another user's process: one line"
	like "$(cat "$T/err")" "permission denied" "another user's process: says permission denied"
	is "$(held "$pid")" 0 "another user's process: nothing stopped"
else
	skip "permission case not run: needs root, setpriv, and a binary user 65534 may run"
fi

# 5. A stopped process stays stopped.
kill -STOP "$pid"
sleep 0.1
"$RW" stacks -p "$pid" > "$T/stop.txt" 2> "$T/stop.err"
is "$?" 0 "a SIGSTOPped target: exit 0"
like "$(sed -n 2p "$T/stop.err")" "; it was stopped before \\(SIGSTOP\\) and stays stopped\$" "a SIGSTOPped target: stderr does not say it runs again"
like "$(block "$T/stop.txt" worker-1)" "rw_fixture_wait_here" "a SIGSTOPped target: unwound all the same"
is "$(proc_state "$pid")" T "a SIGSTOPped target stays stopped"
is "$(grep -h TracerPid /proc/$pid/task/*/status | grep -vc 'TracerPid:[[:space:]]*0$')" 0 "... and untraced"
kill -CONT "$pid"
sleep 0.1
is "$(held "$pid")" 0 "after SIGCONT it runs"

# 6. regionwatch killed while the target is frozen: the kernel lets the target go.
RW_TEST_PAUSE_AT=frozen "$RW" stacks -p "$pid" > /dev/null 2> "$T/k.err" &
rwpid=$!
i=0
while ! grep -q 'paused at frozen' "$T/k.err" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ok "regionwatch froze the target (test hook)" test "$(held "$pid")" -gt 0
kill -9 "$rwpid"; wait "$rwpid" 2>/dev/null
sleep 0.1
is "$(held "$pid")" 0 "killed with SIGKILL while frozen: nothing left traced or stopped"
is "$(proc_state "$pid")" S "... and the target sleeps as before"

# 7. Already traced by someone else.
if command -v strace > /dev/null; then
	strace -f -p "$pid" -o /dev/null 2> /dev/null &
	spid=$!
	PIDS="$PIDS $spid"
	if wait_traced "$pid"; then
		"$RW" stacks -p "$pid" > /dev/null 2> "$T/tr.err"
		is "$?" 1 "already traced: exit 1"
		like "$(cat "$T/tr.err")" "^regionwatch: stacks: cannot freeze process $pid: it is already traced by pid $spid" \
			"already traced: says so, and by whom"
		is "$(wc -l < "$T/tr.err" | tr -d ' ')" 1 "already traced: one line"
		kill "$spid"; wait "$spid" 2>/dev/null
		sleep 0.1
		is "$(held "$pid")" 0 "after the tracer left: nothing traced or stopped"
		is "$(proc_state "$pid")" S "after the tracer left: the target sleeps"
	else
		t_result 1 "strace did not attach within 5 s"
		kill "$spid" 2>/dev/null
	fi

	# 8. Under strace: no write to the target, no ATTACH, no EXITKILL, no signal to it.
	# (LeakSanitizer cannot run under ptrace: in an ASan build it would abort at exit.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o "$T/strace.log" -e trace=process_vm_writev,ptrace,kill,tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal \
		"$RW" stacks -p "$pid" > "$T/st.txt" 2>/dev/null
	is "$?" 0 "under strace: exit 0"
	is "$(grep -c '^thread ' "$T/st.txt")" 4 "under strace: 4 threads"
	is "$(grep -c process_vm_writev "$T/strace.log")" 0 "strace: no process_vm_writev"
	is "$(grep -cE 'PTRACE_(POKE|ATTACH|SETREGS|SETFPREGS|SETOPTIONS|CONT|SYSCALL|SINGLESTEP|KILL)' "$T/strace.log")" 0 \
		"strace: no POKE, ATTACH, SETREGS, SETOPTIONS, CONT, KILL"
	is "$(grep -c 'EXITKILL' "$T/strace.log")" 0 "strace: no PTRACE_O_EXITKILL"
	is "$(grep -cE '^[0-9]+ +(kill|tgkill|tkill|rt_sigqueueinfo|rt_tgsigqueueinfo|pidfd_send_signal)\(' "$T/strace.log")" 0 \
		"strace: no signal sent at all (so none to the target)"
	is "$(grep -c 'PTRACE_SEIZE' "$T/strace.log")" 4 "strace: PTRACE_SEIZE of each of the 4 threads"
	is "$(grep -c 'PTRACE_INTERRUPT' "$T/strace.log")" 4 "strace: PTRACE_INTERRUPT of each"
	is "$(grep -c 'PTRACE_DETACH' "$T/strace.log")" 4 "strace: PTRACE_DETACH of each"
	is "$(held "$pid")" 0 "after stacks under strace: nothing traced or stopped"
else
	skip "strace not installed: already-traced and strace cases not run"
fi
ok "the fixture is still running" kill -0 "$pid"
stop_target "$pid"

# 9. Threads that come and go: never fatal, never left stopped.
start_target threads -c -t 300
pid=$TPID
fails=0
missing=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	"$RW" stacks -p "$pid" --json > "$T/c.json" 2> "$T/c.err" || { fails=$((fails + 1)); diag "$(cat "$T/c.err")"; continue; }
	[ "$(json_get "$T/c.json" 'scalar grep { my $t = $_; $t->{comm} =~ /^worker-/ && grep { ($_->{function} // "") eq "rw_fixture_wait_here" } @{$t->{frames}} } @{$d->{threads}}')" = 3 ] ||
		missing=$((missing + 1))
done
is "$fails" 0 "churning threads: 20 runs, all exit 0"
is "$missing" 0 "churning threads: the workers unwound every time"
is "$(held "$pid")" 0 "churning threads: nothing left traced or stopped"
ok "churning threads: the fixture is still running" kill -0 "$pid"
stop_target "$pid"

# 10. Code without unwind information: the stack is not passed off as complete.
if [ "$(uname -m)" = x86_64 ]; then
	start_target threads -u -t 300
	pid=$TPID
	"$RW" stacks -p "$pid" > "$T/u.txt" 2> /dev/null
	is "$?" 0 "no CFI: stacks exits 0"
	is "$(grep -c '^thread ' "$T/u.txt")" 5 "no CFI: 5 threads listed"
	like "$(block "$T/u.txt" no-cfi)" "#0 0x[0-9a-f]+ rw_fixture_no_cfi\\+0x[0-9a-f]+ \\(threads\\)" "no CFI: frame #0 named"
	like "$(block "$T/u.txt" no-cfi)" "#1 \\?\\? \\(unknown frame: unwinding stopped after #0: no unwind information \\(CFI\\)" \
		"no CFI: says the unwinding stopped, and why"
	like "$(block "$T/u.txt" worker-2)" "rw_fixture_wait_here" "no CFI: the other threads are unwound as before"
	"$RW" stacks -p "$pid" --json > "$T/u.json" 2> /dev/null
	like "$(json_get "$T/u.json" '(grep { $_->{comm} eq "no-cfi" } @{$d->{threads}})[0]{error}')" "^no unwind information" \
		"no CFI: --json error says why"
	is "$(json_get "$T/u.json" 'scalar grep { defined $_->{error} } @{$d->{threads}}')" 1 "no CFI: --json error on that thread only"
	is "$(held "$pid")" 0 "no CFI: nothing left traced or stopped"
	stop_target "$pid"
fi

# 11. A Go program: it runs and lets go; frame names are not asserted (see --help).
if [ -x "$FIX/go_leak" ]; then
	start_target go_leak -t 120
	gpid=$TPID
	"$RW" stacks -p "$gpid" > "$T/go.txt" 2> "$T/go.err"
	is "$?" 0 "Go: stacks exits 0"
	ok "Go: threads listed" test "$(grep -c '^thread ' "$T/go.txt")" -ge 2
	ok "Go: frames listed" grep -q '^  #0 0x' "$T/go.txt"
	diag "Go: $(grep -c '^thread ' "$T/go.txt") threads, $(grep -c '^  #' "$T/go.txt") frames, $(grep -c ' ?? ' "$T/go.txt") unnamed; $(sed -n 2p "$T/go.err")"
	"$RW" stacks -p "$gpid" --json > "$T/go.json" 2> /dev/null
	is "$?" 0 "Go: --json exits 0"
	ok "Go: --json lists threads" test "$(json_get "$T/go.json" 'scalar @{$d->{threads}}')" -ge 2
	is "$(held "$gpid")" 0 "Go: nothing left traced or stopped"
	ok "Go: still running" kill -0 "$gpid"
	stop_target "$gpid"
else
	skip "build/fixtures/go_leak not built (no Go toolchain): Go case not run"
fi
done_testing
