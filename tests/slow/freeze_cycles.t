#!/bin/sh
# Slow: FREEZE_CYCLES (default 1000) freeze/thaw cycles with random delays against a target
# that creates and destroys threads continuously. Run by `make check-slow`.
. "$(dirname "$0")/../lib.sh"
N=${FREEZE_CYCLES:-1000}
start_target churn -n 8 -t 3600
pid=$TPID
beatfile=$out
fails=0; left=0
for i in $(seq "$N"); do
	"$RW" dump -p "$pid" --region '[stack]' --freeze --histogram > /dev/null 2> "$T/err" || {
		fails=$((fails + 1)); sed 's/^/# /' "$T/err" | grep -v 'stopping every thread' | head -2; }
	if grep -h '^TracerPid:' /proc/$pid/task/*/status 2>/dev/null | grep -vq 'TracerPid:[[:space:]]*0$'; then
		sleep 0.2
		grep -h '^TracerPid:' /proc/$pid/task/*/status 2>/dev/null | grep -vq 'TracerPid:[[:space:]]*0$' && left=$((left + 1))
	fi
	sleep "0.00$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))"
done
is "$fails" 0 "$N freeze/thaw cycles of a thread-churning target: none failed"
is "$left" 0 "... and none left a thread traced"
# "eventually": the heartbeat rises again within 10 s, a bound a loaded machine meets
b0=$(tail -1 "$beatfile" | cut -d' ' -f2); b1=$b0; n=0
while [ "$b1" -le "$b0" ] && [ $n -lt 100 ]; do sleep 0.1; b1=$(tail -1 "$beatfile" | cut -d' ' -f2); n=$((n + 1)); done
ok "the target still makes progress" test "$b1" -gt "$b0"
is "$(cat /proc/$pid/task/*/stat 2>/dev/null | sed 's/.*) //' | cut -d' ' -f1 | grep -c '[tT]')" 0 "no thread stopped"
done_testing
