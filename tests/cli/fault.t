#!/bin/sh
# The fault suite: attack regionwatch during a freeze and check that the target is never
# harmed. Each case ends by checking, within 2 s, that no thread of the target is traced
# or stopped (unless it was stopped before), that the target still makes progress (its
# heartbeat rises again, within a bound a loaded machine meets), and that no file is left
# behind.
. "$(dirname "$0")/../lib.sh"

# released PID [STATE]: within 2 s every thread has TracerPid 0 and is not in t/T
# (or, with STATE=T, every thread is in T: stopped as it was before).
released() {
	i=0
	# The release itself takes a few ms (make bench measures it); 2 s is the bound that a
	# machine with both cores busy still meets.
	while [ $i -lt 200 ]; do
		traced=$(grep -h '^TracerPid:' /proc/$1/task/*/status 2>/dev/null | grep -vc 'TracerPid:[[:space:]]*0$')
		states=$(cat /proc/$1/task/*/stat 2>/dev/null | sed 's/.*) //' | cut -d' ' -f1 | sort -u | tr -d '\n')
		if [ "$traced" = 0 ]; then
			case "${2:-}:$states" in
			T:T) return 0 ;;
			:*t*|:*T*) ;;
			:*) return 0 ;;
			esac
		fi
		sleep 0.01
		i=$((i + 1))
	done
	echo "# after 2 s: traced=$traced states=$states"
	return 1
}
beat() { tail -1 "$beatfile" 2>/dev/null | sed -n 's/^beat \([0-9]*\).*/\1/p'; }
alive() { # the heartbeat rises again: an "eventually" property, so the bound is generous
	# (10 s) for a loaded machine; the safety bound is released() above. Right after the
	# target's ready line there may be no beat yet (or a half-written one): wait for one.
	b0=$(beat); i=0
	while [ $i -lt 100 ]; do
		sleep 0.1
		b1=$(beat)
		[ -z "$b0" ] && b0=$b1
		[ -n "$b0" ] && [ -n "$b1" ] && [ "$b1" -gt "$b0" ] && return 0
		i=$((i + 1))
	done
	echo "# heartbeat stuck at ${b1:-none} (from ${b0:-none}) for 10 s"
	return 1
}
no_files() { [ -z "$(ls -A "$T/out")" ]; }
wait_err() { # FILE TEXT: until FILE contains TEXT (5 s)
	i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i + 1)); [ $i -gt 500 ] && return 1; sleep 0.01; done
}

start_target churn -n 8 -t 300
pid=$TPID
beatfile=$out          # start_target's output file: the heartbeat
mkdir "$T/out"
dump_bg() { # PHASE: a frozen dump paused at PHASE, in the background ($rw)
	RW_TEST_PAUSE_AT=$1 "$RW" dump -p "$pid" --region '[stack]' --freeze --histogram -o "$T/out/d.bin" \
		> /dev/null 2> "$T/err" &
	rw=$!
	wait_err "$T/err" "paused at $1"
}

# 1. SIGKILL at each phase of a freeze.
for phase in seized interrupted frozen detaching; do
	dump_bg $phase
	ok "SIGKILL at '$phase': regionwatch was paused there" grep -q "paused at $phase" "$T/err"
	kill -9 $rw; wait $rw 2>/dev/null
	ok "SIGKILL at '$phase': target released within 2 s" released "$pid"
	ok "SIGKILL at '$phase': target still makes progress" alive
	ok "SIGKILL at '$phase': no file left" no_files
done

# 2. SIGINT, SIGTERM, SIGHUP, SIGPIPE while frozen: clean detach, non-zero exit.
for sig in INT TERM HUP PIPE; do
	dump_bg frozen
	kill -$sig $rw; { wait $rw; st=$?; } 2>/dev/null   # the shell would print "Hangup" etc.
	ok "SIG$sig while frozen: non-zero exit ($st)" test "$st" -ne 0
	ok "SIG$sig while frozen: target released within 2 s" released "$pid"
	ok "SIG$sig while frozen: target still makes progress" alive
	ok "SIG$sig while frozen: no file left" no_files
done

# 3. A target creating and destroying threads continuously, frozen 50 times.
fails=0; bad=0
for i in $(seq 50); do
	"$RW" dump -p "$pid" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err" || fails=$((fails + 1))
	released "$pid" > /dev/null || bad=$((bad + 1))
done
is "$fails" 0 "50 freezes of a thread-churning target succeed"
is "$bad" 0 "... and after each one nothing is left traced or stopped"
ok "the churning target still makes progress" alive

# 4. The target exits during a freeze: reported, exit 1, nothing left.
start_target churn -n 4 -t 300
victim=$TPID
RW_TEST_PAUSE_AT=frozen RW_TEST_PAUSE_MS=400 "$RW" dump -p "$victim" --region '[stack]' --freeze --histogram -o "$T/out/v.bin" > /dev/null 2> "$T/err" &
rw=$!
wait_err "$T/err" "paused at frozen"
kill -9 "$victim"
wait $rw; st=$?
is "$st" 1 "target killed during a freeze: exit 1"
like "$(cat "$T/err")" "exited" "target killed during a freeze: says it exited"
ok "target killed during a freeze: no file left" no_files

# 4b. The target exits during a dump without --freeze: what was read is reported, exit 1.
start_target churn -n 4 -t 300
victim=$TPID
RW_TEST_PAUSE_AT=reading RW_TEST_PAUSE_MS=300 "$RW" dump -p "$victim" --region '[stack]' --histogram -o "$T/out/w.bin" > /dev/null 2> "$T/err" &
rw=$!
wait_err "$T/err" "paused at reading"
kill -9 "$victim"
wait $rw; st=$?
is "$st" 1 "target killed during a dump: exit 1"
like "$(cat "$T/err")" "exited during the read" "target killed during a dump: says so"
ok "target killed during a dump: no file left" no_files

# 4c. The target execs during a freeze: it is let go and runs the new program.
sh -c 'sleep 0.3; exec sleep 30' &
execer=$!
PIDS="$PIDS $execer"
RW_TEST_PAUSE_AT=frozen RW_TEST_PAUSE_MS=500 "$RW" dump -p "$execer" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err"
st=$?
ok "target that execs around a freeze: regionwatch ends cleanly ($st)" test "$st" -le 1
ok "target that execs around a freeze: released" released "$execer"
sleep 0.5
like "$(cat /proc/$execer/comm)" "^sleep\$" "target that execs around a freeze: the new program runs"

# 5. A target already stopped with SIGSTOP stays stopped.
kill -STOP "$pid"
sleep 0.1
"$RW" dump -p "$pid" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err"
is "$?" 0 "freeze of a SIGSTOPped target"
ok "a SIGSTOPped target stays stopped, untraced" released "$pid" T
kill -CONT "$pid"
ok "after SIGCONT it runs again" alive

# 6. A target already traced: refused, nothing left seized.
if command -v strace > /dev/null; then
	strace -f -qq -p "$pid" -o /dev/null &
	tracer=$!
	i=0; while grep -q 'TracerPid:[[:space:]]*0$' /proc/$pid/status && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
	"$RW" dump -p "$pid" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err"
	is "$?" 1 "already traced: exit 1"
	like "$(cat "$T/err")" "already traced by pid $tracer" "already traced: names the tracer"
	kill $tracer; wait $tracer 2>/dev/null
	ok "already traced: nothing left after the tracer is gone" released "$pid"
fi

# 7. Permission: an unprivileged user against a root process.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$RW"; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" dump -p "$pid" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err"
	is "$?" 1 "unprivileged against root: exit 1"
	like "$(cat "$T/err")" "permission denied" "unprivileged against root: says permission denied"
	ok "unprivileged against root: nothing stopped" released "$pid"
else
	skip "permission case not run: needs root and setpriv"
fi

# 8. strace of a frozen dump and a watch: no write to the target, no ATTACH, no EXITKILL,
#    no signal to it.
if command -v strace > /dev/null; then
	strace -f -qq -o "$T/strace.log" -e trace=process_vm_writev,ptrace,kill,tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal \
		"$RW" dump -p "$pid" --region '[stack]' --freeze --strings > /dev/null 2>&1
	strace -f -qq -o "$T/strace2.log" -e trace=process_vm_writev,ptrace,kill,tgkill,tkill,pidfd_send_signal \
		"$RW" watch -p "$pid" -i 0.1 -n 3 > /dev/null 2>&1
	cat "$T/strace2.log" >> "$T/strace.log"
	if command -v tmux > /dev/null; then
		# the monitor, in a terminal, with a region opened
		tmux -L "rwf$$" new-session -d -x 100 -y 30 "strace -f -qq -o '$T/strace3.log' -e trace=process_vm_writev,process_vm_readv,openat,ptrace,kill,tgkill,tkill,pidfd_send_signal '$RW' -p $pid -i 0.2 --iterations 15"
		sleep 1.5
		tmux -L "rwf$$" send-keys Enter 2>/dev/null
		i=0; while tmux -L "rwf$$" has-session 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		ok "the monitor ran under strace, opened a region and quit by itself" test "$i" -lt 100
		tmux -L "rwf$$" kill-server 2>/dev/null
		# A positive control: an empty trace would pass the checks below. The monitor
		# read the target's map and, for the opened region, its memory.
		ok "strace (monitor): the trace shows the map read (openat smaps or maps)" \
			grep -qE 'openat\(.*"(smaps|maps)"' "$T/strace3.log"
		ok "strace (monitor): ... and the region read (process_vm_readv of the target)" \
			grep -qE "process_vm_readv\($pid," "$T/strace3.log"
		cat "$T/strace3.log" >> "$T/strace.log" 2>/dev/null
	fi
	is "$(grep -cE 'process_vm_writev|PTRACE_(POKE|ATTACH|SETREGS|SETOPTIONS)|EXITKILL' "$T/strace.log")" 0 "strace: no write, ATTACH, SETOPTIONS or EXITKILL"
	is "$(grep -E '(kill|tgkill|tkill|rt_sigqueueinfo|rt_tgsigqueueinfo|pidfd_send_signal)\(' "$T/strace.log" | grep -c "$pid")" 0 "strace: no signal sent to the target"
	ok "strace: the freeze is SEIZE + INTERRUPT + DETACH" grep -q 'PTRACE_INTERRUPT' "$T/strace.log"
fi
done_testing
