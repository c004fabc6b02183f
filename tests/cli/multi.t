#!/bin/sh
# watch over several processes: -p A,B and --cgroup DIR (a cgroup v2 directory whose
# processes come and go), against real fixtures.
. "$(dirname "$0")/../lib.sh"

# JSON lines of TYPE for PID, counted
count_lines() { # FILE TYPE PID (PID '': any line of TYPE)
	if [ -n "$3" ]; then
		n=$(grep -c "\"type\":\"$2\".*\"pid\":$3[,}]" "$1" 2>/dev/null)
	else
		n=$(grep -c "\"type\":\"$2\"" "$1" 2>/dev/null)
	fi
	echo "${n:-0}"
}

# --- -p A,B
start_target grow_brk -r 1024 -t 60
A=$TPID
start_target grow_mmap -r 1024 -t 60
B=$TPID
"$RW" watch -p "$A,$B" -i 0.2 -n 4 --json > "$T/ab.json" 2> "$T/ab.err"
rc=$?
is "$rc" 0 "-p A,B: exit 0 when the count is reached"
is "$(grep -c '"type":"sample"' "$T/ab.json")" 8 "-p A,B: a sample line per process per sample"
is "$(count_lines "$T/ab.json" summary "$A")" 1 "-p A,B: a summary of the first"
is "$(count_lines "$T/ab.json" summary "$B")" 1 "-p A,B: a summary of the second"
b_top=$(grep "\"type\":\"summary\".*\"pid\":$B[,}]" "$T/ab.json" > "$T/b.json" &&
	json_get "$T/b.json" '$d->{areas}[0]{start}')
is "$b_top" "$(ready_field addr)" "-p A,B: the second's first row is its own growing mapping"

"$RW" watch -p "$A,$B" -i 0.2 -n 2 > "$T/ab.txt" 2>&1
is "$(grep -c "^pid $A .* sample [12] " "$T/ab.txt")" 3 "-p A,B text: a block per sample for the first, and its summary's"
is "$(grep -c "^pid $B .* sample [12] " "$T/ab.txt")" 3 "-p A,B text: a block per sample for the second, and its summary's"
is "$(grep -c "^final ranking: pid [0-9]" "$T/ab.txt")" 2 "-p A,B text: a final ranking each"

# one of them exits: its summary then, the others go on, and the status says so
start_target grow_brk -r 512 -t 1.2
C=$TPID
"$RW" watch -p "$A,$C" -i 0.2 -n 15 --json > "$T/ac.json" 2> "$T/ac.err"
rc=$?
is "$rc" 1 "-p A,C where C exits: exit 1"
like "$(cat "$T/ac.err")" "process $C exited after [0-9]+ samples" "-p A,C: C's exit is said"
like "$(grep "\"type\":\"summary\".*\"pid\":$C[,}]" "$T/ac.json")" '"end":"exited"' \
	"-p A,C: C's summary says exited"
is "$(count_lines "$T/ac.json" sample "$A")" 15 "-p A,C: A is sampled to the count"
stop_target "$C"

# the metrics of several processes: one family each, a sample per process
"$RW" watch -p "$A,$B" -i 0.2 -n 2 --metrics-textfile "$T/m.prom" > /dev/null 2>&1
is "$(grep -c '^# TYPE regionwatch_process_rss_bytes ' "$T/m.prom")" 1 "metrics of two: one TYPE line per family"
is "$(grep -c '^regionwatch_process_rss_bytes{' "$T/m.prom")" 2 "metrics of two: a sample per process"

# lists that are wrong
"$RW" watch -p "$A,,$B" -n 1 > /dev/null 2> "$T/e1"
is "$?" 2 "-p A,,B: usage error"
like "$(cat "$T/e1")" "invalid pid list" "-p A,,B: says the list is wrong"
"$RW" watch -p "$A,$A" -n 1 > /dev/null 2> "$T/e2"
is "$?" 2 "-p A,A: usage error"
like "$(cat "$T/e2")" "pid $A is given twice" "-p A,A: says which"
"$RW" snap -p "$A,$B" -o "$T/x.snap" > /dev/null 2> "$T/e3"
is "$?" 2 "snap -p A,B: usage error"
like "$(cat "$T/e3")" "only watch takes a list" "snap -p A,B: says only watch takes a list"
"$RW" watch -p "$A,999999999" -n 1 > /dev/null 2> "$T/e4"
is "$?" 1 "-p A,NOPID: exit 1"
like "$(cat "$T/e4")" "999999999" "-p A,NOPID: names the missing one"
"$RW" watch -p "$A" --cgroup / -n 1 > /dev/null 2> "$T/e5"
is "$?" 2 "-p and --cgroup: usage error"

# --- --cgroup
"$RW" watch --cgroup "$T/nonexistent" -n 1 > /dev/null 2> "$T/e6"
is "$?" 1 "--cgroup DIR that does not exist: exit 1"
like "$(cat "$T/e6")" "nonexistent: No such file" "--cgroup DIR that does not exist: says so"
"$RW" watch --cgroup "$T" -n 1 > /dev/null 2> "$T/e7"
is "$?" 1 "--cgroup on a plain directory: exit 1"
like "$(cat "$T/e7")" "is not a cgroup v2 directory" "--cgroup on a plain directory: says why"

# a cgroup v2 mount we may make a directory in
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
CG=""
if [ -n "$CGROOT" ] && mkdir "$CGROOT/rwtest.$$" 2>/dev/null; then
	CG="$CGROOT/rwtest.$$"
	mkdir "$CG/sub"
fi
cg_cleanup() {
	t_cleanup
	[ -n "$CG" ] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rmdir "$CG/sub" "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
}
trap cg_cleanup EXIT

if [ -z "$CG" ]; then
	for i in 1 2 3 4 5 6; do skip "no writable cgroup v2 mount here"; done
else
	start_target grow_brk -r 1024 -t 60
	G1=$TPID
	echo "$G1" > "$CG/cgroup.procs"
	"$RW" watch --cgroup "$CG" -i 0.2 -n 30 --json > "$T/cg.json" 2> "$T/cg.err" &
	W=$!
	PIDS="$PIDS $W"
	# a second process joins, in a sub-cgroup, once the watch runs
	i=0
	while [ "$(count_lines "$T/cg.json" cgroup '')" -lt 3 ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	start_target grow_mmap -r 1024 -t 60
	G2=$TPID
	echo "$G2" > "$CG/sub/cgroup.procs"
	i=0
	while [ "$(count_lines "$T/cg.json" sample "$G2")" -lt 3 ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	stop_target "$G1"
	wait "$W"
	rc=$?
	is "$rc" 0 "--cgroup: exit 0 when the count is reached, though a process left"
	like "$(grep '"type":"cgroup"' "$T/cg.json" | head -1)" '"processes":1' "--cgroup: one process at first"
	like "$(grep '"type":"cgroup"' "$T/cg.json" | grep -c '"processes":2')" '^[1-9]' \
		"--cgroup: two once the second joined a sub-cgroup"
	like "$(grep '"type":"cgroup"' "$T/cg.json" | tail -1)" '"processes":1' "--cgroup: one again after the first was killed"
	like "$(grep "\"type\":\"summary\".*\"pid\":$G1[,}]" "$T/cg.json")" '"end":"exited"' \
		"--cgroup: the process that left has its summary, exited"
	like "$(grep "\"type\":\"summary\".*\"pid\":$G2[,}]" "$T/cg.json")" '"end":"count"' \
		"--cgroup: the one still there has its summary at the count"
	stop_target "$G2"
fi

done_testing
