#!/bin/sh
# watch against real leaking, flat and sawtooth processes: the leaking area ranks first with
# trend growing; nothing is "growing" in the flat and sawtooth cases; exits and -- CMD.
. "$(dirname "$0")/../lib.sh"

# watch_json PID: 15 samples at 0.2 s into $T/w.json; the summary into $T/sum.json
watch_json() {
	"$RW" watch -p "$1" -i 0.2 -n 15 --json > "$T/w.json" 2> "$T/w.err"
	wrc=$?
	tail -1 "$T/w.json" > "$T/sum.json"
}
first() { json_get "$T/sum.json" "\$d->{areas}[0]{$1}"; }
inside() { # ADDR: the first area holds ADDR
	json_get "$T/sum.json" "my \$a = hex('$1'); my \$s = hex(\$d->{areas}[0]{start}); my \$e = hex(\$d->{areas}[0]{end}); (\$a >= \$s && \$a < \$e) ? 1 : 0"
}
growing_count() { json_get "$T/sum.json" 'scalar grep { $_->{trend} eq "growing" } @{$d->{areas}}'; }

# 1. brk heap leak
start_target grow_brk -r 2048 -t 120
watch_json "$TPID"
is "$wrc" 0 "brk: watch exits 0 after -n 15"
is "$(grep -c '"type":"sample"' "$T/w.json")" 15 "brk: 15 sample lines"
is "$(json_get "$T/sum.json" '$d->{type}')" "summary" "brk: a summary line ends the stream"
is "$(first kind)" "heap" "brk: first area is the heap"
is "$(first trend)" "growing" "brk: trend growing"
is "$(inside "$TADDR")" 1 "brk: first area holds the fixture's heap address"
ok "brk: rate near 2 MiB/s" test "$(json_get "$T/sum.json" '$r = $d->{areas}[0]{rate_bytes_per_s}; ($r > 1.5*1048576 && $r < 2.6*1048576) ? 1 : 0')" = 1
is "$(head -1 "$T/w.json" | perl -MJSON::PP -ne 'print decode_json($_)->{cost_ms} >= 0 ? 1 : 0')" 1 "cost_ms is a number"
is "$(json_get "$T/sum.json" '$d->{end}')" "count" "brk: summary says the count was reached"
is "$(proc_state "$TPID" | tr -d 'SR')" "" "brk: target neither stopped nor traced after watch"
stop_target "$TPID"

# 2. thread arena leak next to a 256 MiB flat buffer
start_target grow_arena -r 2048 -f 256 -t 120
flat=$(ready_field flat)
watch_json "$TPID"
is "$(first kind)" "glibc-arena" "arena: first area is the glibc arena"
is "$(first trend)" "growing" "arena: trend growing"
is "$(inside "$TADDR")" 1 "arena: first area holds the arena address"
is "$(json_get "$T/sum.json" "scalar grep { hex(\$_->{start}) <= hex('$flat') && hex('$flat') < hex(\$_->{end}) && \$_->{trend} eq 'flat' } @{\$d->{areas}}")" 1 "arena: the flat buffer is an area of its own, flat"
like "$(json_get "$T/sum.json" 'join ",", map { "$_->{kind}:$_->{path}" } grep { $_->{path} =~ /^\[stack tid/ } @{$d->{areas}}')" "^stack:\\[stack tid [0-9]+ grow_arena\\]" "the worker thread's stack is named: kind stack, [stack tid N comm]"
stop_target "$TPID"

# 3. mmap chunks carved out of a PROT_NONE reservation: the rw boundary moves
start_target grow_mmap -r 2048 -t 120
watch_json "$TPID"
is "$(first trend)" "growing" "mmap: trend growing"
is "$(inside "$TADDR")" 1 "mmap: first area holds the growing chunks"
stop_target "$TPID"

# 4. Go heap: dozens of VMAs and a moving rw/---p boundary at 0xc000000000
if [ -x "$FIX/go_leak" ]; then
	start_target go_leak -r 2048 -t 120
	watch_json "$TPID"
	is "$(first kind)" "go-heap" "go: first area is the Go heap"
	is "$(first trend)" "growing" "go: trend growing"
	is "$(inside c000000000)" 1 "go: first area holds 0xc000000000"
	stop_target "$TPID"
else
	skip "Go fixture not built: Go case not run"
fi

# 5. sawtooth: fills 64 MiB over ~2 s, frees it all, again
start_target sawtooth -s 64 -p 2 -t 120
watch_json "$TPID"
is "$(growing_count)" 0 "sawtooth: no area is growing"
is "$(json_get "$T/sum.json" "scalar grep { \$_->{trend} eq 'sawtooth' && hex(\$_->{start}) <= hex('$TADDR') && hex('$TADDR') < hex(\$_->{end}) } @{\$d->{areas}}")" 1 "sawtooth: its region is called sawtooth"
stop_target "$TPID"

# 6. flat
start_target flat -s 256 -t 120
watch_json "$TPID"
is "$(growing_count)" 0 "flat: no area is growing"
stop_target "$TPID"

# 7. The target exits mid-watch: final ranking, exit 1, a clear message.
start_target grow_brk -r 2048 -t 2
"$RW" watch -p "$TPID" -i 0.2 -n 100 --json > "$T/w.json" 2> "$T/w.err"
is "$?" 1 "target exit mid-watch: exit 1"
tail -1 "$T/w.json" > "$T/sum.json"
is "$(json_get "$T/sum.json" '$d->{type} . " " . $d->{end}')" "summary exited" "target exit: summary says exited"
is "$(first kind)" "heap" "target exit: the ranking covers the samples taken"
like "$(cat "$T/w.err")" "^regionwatch: watch: process $TPID exited after [0-9]+ samples" "target exit: says so on stderr"
"$RW" watch -p "$TPID" -n 1 2> "$T/w.err"
is "$?" 1 "watching a pid that is gone: exit 1"

# 8. Text mode.
start_target grow_brk -r 2048 -t 120
"$RW" watch -p "$TPID" -i 0.2 -n 5 --top 3 > "$T/w.txt"
is "$?" 0 "text mode exits 0"
like "$(grep -A2 '^final ranking' "$T/w.txt" | tail -1)" "^ +# ADDRESS" "text: final ranking table"
like "$(grep -A3 '^final ranking' "$T/w.txt" | tail -1)" "^ +1 [0-9a-f]+-[0-9a-f]+ .* growing +heap +\[heap\]" "text: the heap ranks first, growing"
is "$(grep -c '^pid ' "$T/w.txt")" 6 "text: a header per sample and one in the summary"
stop_target "$TPID"

# 9. -- CMD: start it, watch it from its first sample, exit with its status.
"$RW" -i 0.2 -n 4 --json -- "$FIX/grow_brk" -r 2048 -t 1 > "$T/c.out" 2> "$T/c.err"
is "$?" 0 "-- CMD: exit status of CMD (0)"
is "$(grep -c '^ready pid=' "$T/c.out")" 1 "-- CMD: CMD's stdout passes through"
is "$(grep -c '"type":"summary"' "$T/c.out")" 1 "-- CMD: a summary"
"$RW" watch -i 0.1 -- sh -c 'exit 7' > /dev/null 2>&1
is "$?" 7 "-- CMD: exit status 7 passed on"
"$RW" watch -i 0.1 -- sh -c 'kill -TERM $$' > /dev/null 2>&1
is "$?" 143 "-- CMD: killed by SIGTERM gives 128+15"
"$RW" watch -- /nonexistent/cmd 2> "$T/c.err"
is "$?" 127 "-- CMD not found: 127"
like "$(cat "$T/c.err")" "cannot run '/nonexistent/cmd': No such file" "-- CMD not found: says so"

# 10. Ctrl-C: final ranking, exit 0.
start_target grow_brk -r 2048 -t 120
"$RW" watch -p "$TPID" -i 0.2 --json > "$T/w.json" 2>&1 &
wpid=$!
sleep 1.2
kill -INT "$wpid"
wait "$wpid"
is "$?" 0 "SIGINT: exit 0"
tail -1 "$T/w.json" > "$T/sum.json"
is "$(json_get "$T/sum.json" '$d->{end}')" "interrupted" "SIGINT: summary says interrupted"
stop_target "$TPID"

# 11. Torn reads: mappings that grow without pause (as a Go heap does in its first second)
# are printed twice within one read of smaps. watch resolves them, never fails on them, and
# counts them (torn_records). Started right after the target, as a user would.
# 64 areas with 2 filler mappings after each: /proc/PID/maps spans several pages too, so
# the cheap samples (maps + pagemap) meet torn reads, not only the full smaps ones.
fails=0; torn=0; runs=0
while [ $runs -lt 8 ]; do
	runs=$((runs + 1))
	start_target grow_fast -a 64 -m 2 -f 2 -t 60
	"$RW" watch -p "$TPID" -i 0.05 -n 80 --json > "$T/torn.json" 2> "$T/torn.err" || fails=$((fails + 1))
	stop_target "$TPID"
	tail -1 "$T/torn.json" > "$T/sum.json"
	[ "$(json_get "$T/sum.json" '$d->{type}')" = summary ] || fails=$((fails + 1))
	t=$(json_get "$T/sum.json" '$d->{torn_records} // 0' 2>/dev/null)
	torn=$((torn + ${t:-0}))
	[ $fails = 0 ] && [ $torn -gt 0 ] && break
done
is "$fails" 0 "torn reads: watch -i 0.05 -n 80 of fast-growing mappings never fails ($runs runs)"
ok "torn reads: ... and counts the torn records it resolved ($torn)" test "$torn" -gt 0
is "$(cat "$T/torn.err")" "" "torn reads: nothing on stderr"

# 12. The cost budget: a sample that costs more than --max-cost stretches the interval, and
# the JSON and the header say so; at the default budget a small process is not stretched.
start_target grow_brk -r 1024 -t 60
"$RW" watch -p "$TPID" -i 0.05 -n 1 --max-cost 0.0001 --json > "$T/cost.json" 2>/dev/null
head -1 "$T/cost.json" > "$T/s1.json"
is "$(json_get "$T/s1.json" '$d->{interval_stretched} ? 1 : 0')" 1 "--max-cost 0.0001: the interval is stretched"
ok "... to cost_ms / budget (interval_s > 0.05)" test "$(json_get "$T/s1.json" '$d->{interval_s} > 0.05 && abs($d->{interval_s} - $d->{cost_ms} / 1000 * 100 / 0.0001) < 1e-6 * $d->{interval_s} + 1e-9 ? 1 : 0')" = 1
"$RW" watch -p "$TPID" -i 0.05 -n 1 --max-cost 0.0001 > "$T/cost.txt" 2>/dev/null
like "$(head -1 "$T/cost.txt")" "interval stretched to [0-9.]+s \\(over the 0.0001% CPU budget\\)" "... and the text header says so"
"$RW" watch -p "$TPID" -i 0.5 -n 2 --json > "$T/cost.json" 2>/dev/null
head -1 "$T/cost.json" > "$T/s1.json"
is "$(json_get "$T/s1.json" '$d->{interval_stretched} ? 1 : 0')" 0 "default budget (5%): a small process is not stretched"
is "$(json_get "$T/s1.json" '$d->{max_cost_pct}')" 5 "... and the budget is in the JSON"
stop_target "$TPID"

# 13. Usage errors.
"$RW" watch 2> /dev/null; is "$?" 2 "no -p: exit 2"
"$RW" watch -p 1 -i 0 2> /dev/null; is "$?" 2 "-i 0: exit 2"
"$RW" watch -p 1 -n x 2> /dev/null; is "$?" 2 "-n x: exit 2"
"$RW" watch -p 1 --window -3 2> /dev/null; is "$?" 2 "--window -3: exit 2"
"$RW" watch -p 1 -- true 2> /dev/null; is "$?" 2 "-p and -- CMD together: exit 2"
"$RW" watch -p $$ -n 1 > /dev/full 2> "$T/e"; is "$?" 1 "stdout on a full disk: exit 1"
like "$(cat "$T/e")" "writing standard output: No space left on device" "... and says so"
"$RW" watch -p 1 --max-cost 101 2> "$T/e"; is "$?" 2 "--max-cost 101: exit 2"
like "$(cat "$T/e")" "--max-cost takes a percentage" "--max-cost 101: says what it takes"
done_testing
