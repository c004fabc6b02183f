#!/bin/sh
# Pools: growth spread over many mappings is ranked as one row that holds it. For each leak
# the first row of a short watch must hold at least half of the process's RSS growth, and
# the controls (a sawtooth, thread churn) must show nothing growing.
. "$(dirname "$0")/../lib.sh"

# first_row_share PID: "SHARE KIND MEMBERS TREND" of watch -i 0.5 -n 8's first row
first_row() {
	"$RW" watch -p "$1" -i 0.5 -n 8 --json 2>/dev/null | tail -1 > "$T/sum.json"
	json_get "$T/sum.json" 'my $a = $d->{areas}[0]; my $g = $d->{rss} - $d->{rss_first};
		sprintf "%d %s %d %s", $g > 0 ? 100 * $a->{delta} / $g : 0, $a->{pool} // $a->{kind},
			scalar @{$a->{members} // []}, $a->{trend}'
}

check_leak() { # NAME POOL MIN_MEMBERS: after start_target or a background command in $TPID
	set -- "$1" "$2" "$3" $(first_row "$TPID")
	ok "$1: the first row holds at least half of the growth ($4%)" test "$4" -ge 50
	is "$5" "$2" "$1: ... and it is the $2 pool"
	ok "$1: ... with its members listed ($6)" test "$6" -ge "$3"
	is "$7" growing "$1: ... growing"
	stop_target "$TPID"
}

start_target grow_threads -n 3 -r 4096 -t 60
check_leak "malloc from 4 threads (cgo-like)" malloc 3

start_target grow_chunks -r 2048 -t 60
check_leak "256 KiB mmaps (V8-like)" anon-chunks 10

# A one-area leak stays one area: the arena, not a pool around it.
start_target grow_arena -r 2048 -t 60
set -- $(first_row "$TPID")
is "$2" glibc-arena "one growing arena: the first row is the arena itself, not its pool"
ok "... holding the growth ($1%)" test "$1" -ge 50
stop_target "$TPID"

if command -v python3 > /dev/null 2>&1; then
	python3 -c 'import time
x = []
print("ready", flush=True)
while True:
    x.extend(str(i) * 10 for i in range(20000)); time.sleep(0.05)' > "$T/py.out" &
	TPID=$!; PIDS="$PIDS $TPID"; sleep 1
	check_leak "python3 list of strings (obmalloc arenas)" anon-chunks 2
else
	skip "python3 not installed"
fi

if command -v node > /dev/null 2>&1; then
	node -e 'const a = []; setInterval(() => { for (let i = 0; i < 20000; i++)
		a.push(JSON.stringify({ id: i, user: "u" + i })); }, 50)' > "$T/node.out" 2>&1 &
	TPID=$!; PIDS="$PIDS $TPID"; sleep 1.5
	check_leak "node array of JSON strings (V8 pages)" anon-chunks 10
else
	skip "node not installed"
fi

# Controls: nothing grows.
start_target sawtooth -t 60
set -- $(first_row "$TPID")
ok "control sawtooth: the first row is not growing ($4)" test "$4" != growing
stop_target "$TPID"
start_target churn -n 8 -t 60
set -- $(first_row "$TPID")
ok "control thread churn: the first row is not growing ($4)" test "$4" != growing
stop_target "$TPID"

# dump --region top: the first row is the pool, and all its members are read.
start_target grow_threads -n 3 -r 4096 -t 60
"$RW" dump -p "$TPID" --region top --top 3 --json > "$T/top.json" 2> "$T/top.err"
is "$?" 0 "dump --region top of a pool: exit 0"
like "$(cat "$T/top.err")" "--region top: .*\\[pool: glibc malloc.*: its 4 members read as [0-9]+ range" \
	"dump --region top of a pool: reads all 4 members"
is "$(json_get "$T/top.json" '$d->{top_shapes}[0]{shape}')" "user_session id=# token=# role=viewer" \
	"... and the leaked record is the top shape"
ok "... read from every member: more than 3 arenas' worth of records" \
	test "$(json_get "$T/top.json" '$d->{top_shapes}[0]{count}')" -gt 1000
"$RW" dump -p "$TPID" --region top -o "$T/pool.bin" > /dev/null 2> "$T/top.err"
is "$?" 2 "dump --region top -o of a pool: exit 2 (a dump file is one range)"
like "$(cat "$T/top.err")" "is a pool of [0-9]+ ranges .*-o needs one range" "... says why"
ok "... and writes no file" test ! -e "$T/pool.bin"
stop_target "$TPID"

# Text: the rows' share of the growth, and the rest as "other".
start_target grow_threads -n 3 -r 4096 -t 60
"$RW" watch -p "$TPID" -i 0.5 -n 4 --top 3 > "$T/w.txt" 2>&1
like "$(cat "$T/w.txt")" "\\[pool: glibc malloc: \\[heap\\] and arenas, 4 areas\\]" "text: the pool row names itself and its members"
like "$(cat "$T/w.txt")" "the 3 rows above hold \\+[0-9.]+[KM] of the process's \\+[0-9.]+[KM] RSS growth in the window \\([0-9]+%\\); other: " \
	"text: how much of the growth the rows hold, and the other"
stop_target "$TPID"
done_testing
