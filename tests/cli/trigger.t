#!/bin/sh
# watch --trigger against real processes: a leak crosses growth>... once and leaves exactly
# one complete set of files (dump, manifest, census, stacks) whose census names the leaked
# record; the cooldown and --max-triggers hold; a full disk gives one line and nothing
# partial; grammar errors say the column; process:rss, rate and process:ttl fire (and their
# thresholds above the leak do not); the target keeps running.
. "$(dirname "$0")/../lib.sh"

RECORD="user_session id=# token=# role=viewer"
events() { grep -c '"event":"trigger"' "$1"; }
dirs() { find "$1" -mindepth 1 -maxdepth 1 -type d -name 'regionwatch-*' | wc -l; }
hidden() { find "$1" -mindepth 1 -maxdepth 1 -name '.*' | wc -l; }

# 1. grammar: one line, exit 2, the column of the fault
gram() { # EXPR WANT-RE DESC
	"$RW" watch -p $$ -n 1 --trigger "$1" > "$T/g.out" 2> "$T/g.err"
	is "$?" 2 "grammar: '$1' exits 2"
	like "$(cat "$T/g.err")" "$2" "grammar: $3"
	is "$(wc -l < "$T/g.err" | tr -d ' ')" 1 "grammar: '$1' is one line"
}
gram 'growth>200X/10m' "^regionwatch: watch: --trigger 'growth>200X/10m': column 11: unknown size suffix 'X' \(K, M, G or T\)$" "unknown size suffix, at its column"
gram 'growth>200M' "column 12: growth needs its window" "growth without a window"
gram 'growth>200M/10' "column 15: a duration needs its unit: s, m or h" "duration without a unit"
gram 'rss<2G' "column 4: rss takes '>'" "wrong operator"
gram 'ttl>30m' "column 4: ttl takes '<'" "ttl takes <"
gram 'heap>1G' "column 1: unknown condition 'heap' \(growth, rss, rate or ttl\)" "unknown condition"
gram 'proc:rss>1G' "column 1: unknown scope 'proc:'" "unknown scope"
gram 'rss>1G x' "column 8: unexpected 'x' after the expression" "trailing text"
gram 'rate>1M/d' "column 9: unknown duration unit 'd' \(s, m or h\)" "unknown rate unit"

# options that do not fit together
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --on-trigger dump > /dev/null 2> "$T/o.err"
is "$?" 2 "options: dump without --out exits 2"
like "$(cat "$T/o.err")" "give --out DIR" "options: says --out DIR is needed"
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --on-trigger stacks --out "$T/nonexistent" > /dev/null 2> "$T/o.err"
is "$?" 1 "options: --out that does not exist exits 1"
like "$(cat "$T/o.err")" "nonexistent: No such file or directory \(it must be an existing directory\)" "options: says the directory is missing"
: > "$T/afile"
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --on-trigger stacks --out "$T/afile" > /dev/null 2> "$T/o.err"
like "$(cat "$T/o.err")" "afile: not a directory" "options: --out a file is refused"
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --on-trigger report > /dev/null 2> "$T/o.err"
is "$?" 2 "options: report without --report exits 2"
like "$(cat "$T/o.err")" "report needs --report FILE.html" "options: says report needs --report"
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --on-trigger dump,core --out "$T" > /dev/null 2> "$T/o.err"
like "$(cat "$T/o.err")" "unknown action 'core' \(dump, stacks or report" "options: unknown action"
"$RW" watch -p $$ -n 1 --on-trigger stacks --out "$T" > /dev/null 2> "$T/o.err"
like "$(cat "$T/o.err")" "go with --trigger EXPR" "options: actions without --trigger"
"$RW" watch -p $$ -n 1 --trigger 'rss>1G' --trigger-cooldown 10x > /dev/null 2> "$T/o.err"
like "$(cat "$T/o.err")" "invalid --trigger-cooldown '10x'" "options: bad cooldown"

# 2. a leak crosses growth>3M/2s: one firing (the default cooldown is 10 minutes), one set
start_target grow_brk -r 4096 -t 120
P1=$TPID
mkdir "$T/out"
"$RW" watch -p "$TPID" -i 0.3 -n 12 --trigger 'growth>3M/2s' --on-trigger dump,stacks \
	--out "$T/out" --json > "$T/w.json" 2> "$T/w.err"
is "$?" 0 "leak: watch exits 0"
state=$(proc_state "$TPID")
ok "leak: the target is not left stopped after the stacks action (state $state)" test "$state" != t -a "$state" != T
is "$(events "$T/w.json")" 1 "leak: exactly one firing"
is "$(dirs "$T/out")" 1 "leak: exactly one directory of files"
is "$(hidden "$T/out")" 0 "leak: no temporary directory left"
D=$(find "$T/out" -mindepth 1 -maxdepth 1 -type d -name 'regionwatch-*')
like "$(basename "$D")" "^regionwatch-$TPID-[0-9]{8}T[0-9]{6}Z-1$" "leak: the directory is named regionwatch-PID-TIME-N"
is "$(ls "$D" | sort | tr '\n' ' ')" "census.json dump.bin dump.bin.json stacks.txt " "leak: dump, manifest, census and stacks"
grep '"event":"trigger"' "$T/w.json" > "$T/ev.json"
is "$(json_get "$T/ev.json" '$d->{row}{kind}')" heap "leak: the row that fired is the heap"
is "$(json_get "$T/ev.json" 'join ",", @{$d->{actions}}')" "dump,stacks" "leak: the event lists its actions"
is "$(json_get "$T/ev.json" '$d->{dir}')" "$D" "leak: the event names the directory"
is "$(json_get "$T/ev.json" '$d->{value} > $d->{threshold} ? 1 : 0')" 1 "leak: value above the threshold"
is "$(json_get "$T/ev.json" '($d->{covered_s} > 0 && $d->{covered_s} <= 2.0) ? 1 : 0')" 1 "leak: the growth covers at most the window"
is "$(json_get "$T/ev.json" 'join ",", sort @{$d->{files}}')" "census.json,dump.bin,dump.bin.json,stacks.txt" "leak: the event lists the files"
is "$(json_get "$D/census.json" '$d->{top_shapes}[0]{text}')" "$RECORD" "leak: the census names the leaked record"
is "$(json_get "$D/census.json" '$d->{new_bytes} > 1000000 ? 1 : 0')" 1 "leak: the census counts new pages"
is "$(json_get "$D/dump.bin.json" '$d->{type}')" dump-manifest "leak: the manifest is dump's"
is "$(json_get "$D/dump.bin.json" '$d->{pid}')" "$TPID" "leak: the manifest names the pid"
is "$(json_get "$D/dump.bin.json" '$d->{region}{path}')" "[heap]" "leak: the manifest names the region"
is "$(json_get "$D/dump.bin.json" '$d->{bytes_read} > 1000000 ? 1 : 0')" 1 "leak: the dump read the new pages"
is "$(json_get "$D/dump.bin.json" "(hex(\$d->{runs_read}[0][0]) > hex('$TADDR')) ? 1 : 0")" 1 "leak: the dump starts past the heap's first pages (new pages only)"
ok "leak: the dump holds the records" grep -q -a "user_session id=" "$D/dump.bin"
is "$(stat -c %a "$D/dump.bin")" 600 "leak: the dump is mode 0600"
like "$(head -1 "$D/stacks.txt")" "^# regionwatch trigger 1: growth>3M/2s; pid $TPID \(grow_brk\); stopped for" "leak: stacks.txt header"
like "$(sed -n 2p "$D/stacks.txt")" "^thread $TPID \(grow_brk\) state " "leak: stacks.txt is the stacks text"
like "$(cat "$T/w.err")" "trigger 1: stopping the 1 thread of $TPID" "leak: says before stopping the target"
last=$(tail -1 "$T/w.json")
like "$last" '"type":"summary"' "leak: the summary still ends the stream"

# text: the event line between the samples
"$RW" watch -p "$TPID" -i 0.3 -n 6 --trigger 'growth>2M/2s' > "$T/w.txt" 2> "$T/w.err"
like "$(grep '^trigger ' "$T/w.txt")" "^trigger 1: 'growth>2M/2s' fired on heap \[heap\] [0-9a-f]+-[0-9a-f]+: growth [0-9.]+[KM] in [0-9.]+s \(threshold 2M/2s\)$" "text: one event line"

# 3. the cooldown: a steady leak, rss above the threshold every sample
"$RW" watch -p "$TPID" -i 0.2 -n 8 --trigger 'process:rss>1M' --json > "$T/c.json" 2> "$T/c.err"
is "$(events "$T/c.json")" 1 "cooldown: the default (10m) lets one firing through in 8 samples"
"$RW" watch -p "$TPID" -i 0.2 -n 8 --trigger 'process:rss>1M' --trigger-cooldown 0 --json > "$T/c.json" 2> "$T/c.err"
is "$(events "$T/c.json")" 8 "cooldown 0: one firing per sample"
grep '"event":"trigger"' "$T/c.json" | head -1 > "$T/p.json"
is "$(json_get "$T/p.json" '$d->{scope}')" process "process: the scope is the process"
is "$(json_get "$T/p.json" 'defined $d->{row} ? 1 : 0')" 0 "process: no row"
is "$(json_get "$T/p.json" '$d->{value} > 1048576 ? 1 : 0')" 1 "process: the value is the RSS"

# 4. --max-triggers: actions for the first N firings only, said once
mkdir "$T/max"
"$RW" watch -p "$TPID" -i 0.2 -n 6 --trigger 'process:rss>1M' --trigger-cooldown 0 \
	--on-trigger stacks --out "$T/max" --max-triggers 2 --json > "$T/m.json" 2> "$T/m.err"
is "$(events "$T/m.json")" 6 "max: every firing is reported"
is "$(dirs "$T/max")" 2 "max: exactly 2 sets of files"
is "$(grep -c -- '--max-triggers 2 reached' "$T/m.err")" 1 "max: said once on stderr"
is "$(grep '"event":"trigger"' "$T/m.json" | grep -c '"actions":\[\]')" 4 "max: the later 4 took no actions"
state=$(proc_state "$TPID")
ok "max: the target is running after the freezes (state $state)" test "$state" != t -a "$state" != T

# 5. the metric counts firings
"$RW" watch -p "$TPID" -i 0.2 -n 3 --trigger 'process:rss>1M' --trigger-cooldown 0 \
	--metrics-textfile "$T/rw.prom" --json > "$T/x.json" 2> /dev/null
like "$(cat "$T/rw.prom")" "^regionwatch_triggers_total\{pid=\"$TPID\",comm=\"grow_brk\"\} 3$" "metrics: regionwatch_triggers_total counts the firings"

# 5a. rate and ttl on the real leak (grow_brk -r 4096: [heap] grows 4 MiB/s)
"$RW" watch -p "$TPID" -i 0.3 -n 8 --trigger 'rate>1M/s' --trigger 'rate>64M/s' --json > "$T/rt.json" 2> /dev/null
is "$(grep -c "\"event\":\"trigger\".*\"expr\":\"rate>1M/s\"" "$T/rt.json")" 1 "rate>1M/s: fires once on a 4 MiB/s leak"
is "$(grep -c "\"expr\":\"rate>64M/s\"" "$T/rt.json")" 0 "rate>64M/s: does not fire on it"
grep '"expr":"rate>1M/s"' "$T/rt.json" > "$T/rt1.json"
is "$(json_get "$T/rt1.json" '$d->{row}{path}')" "[heap]" "rate: on the [heap] row"
is "$(json_get "$T/rt1.json" '$d->{value} > 2 * 1048576 && $d->{value} < 8 * 1048576 ? 1 : 0')" 1 "rate: the value is the row's rate (2..8 MiB/s)"
is "$(json_get "$T/rt1.json" '$d->{seq} >= 3 ? 1 : 0')" 1 "rate: not before the third sample"
"$RW" watch -p "$TPID" -i 0.3 -n 8 --trigger 'process:ttl<1000h' --trigger 'process:ttl<1s' --json > "$T/tl.json" 2> /dev/null
if ! grep -q '"headroom":' "$T/tl.json"; then
	skip "ttl: no memory limit is known here"
	skip "ttl: no memory limit is known here"
	skip "ttl: no memory limit is known here"
else
	is "$(grep -c '"expr":"process:ttl<1000h"' "$T/tl.json")" 1 "process:ttl<1000h: fires once on a growing process"
	is "$(grep -c '"expr":"process:ttl<1s"' "$T/tl.json")" 0 "process:ttl<1s: does not fire"
	grep '"expr":"process:ttl<1000h"' "$T/tl.json" > "$T/tl1.json"
	is "$(json_get "$T/tl1.json" '$d->{value} > 1 && $d->{value} < 36000000 && $d->{unit} eq "seconds" ? 1 : 0')" 1 "ttl: the value is seconds to the limit"
fi

# 5b. the report action: the page is rewritten at the firing, with the event and its stacks
mkdir "$T/rep"
"$RW" watch -p "$TPID" -i 0.3 -n 40 --trigger 'growth>2M/2s' --on-trigger stacks,report \
	--out "$T/rep" --report "$T/rep/r.html" --json > "$T/r.json" 2> "$T/r.err" &
W=$!
PIDS="$PIDS $W"
i=0
while ! grep -q '"event":"trigger"' "$T/r.json" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
# the event line comes after the page was written
ok "report action: the page exists while the watch still runs" test -s "$T/rep/r.html"
ok "report action: the watch is still running when the page appears" kill -0 "$W"
like "$(grep '"event":"trigger"' "$T/r.json")" '"actions":\["stacks","report"\]' "report action: the event lists stacks and report"
like "$(grep -c "trigger 1: &#39;growth&gt;2M/2s&#39; fired on .*[0-9a-f]-[0-9a-f]*: growth [0-9.]*M in [0-9.]*s (threshold 2M/2s); stacks -&gt; [^\\]*</span>" "$T/rep/r.html")" '^[1-9]' "report action: the page holds the event line, HTML-escaped"
like "$(grep -c "thread $TPID (grow_brk) state\|#[0-9] 0x[0-9a-f]* main+0x[0-9a-f]* (grow_brk)" "$T/rep/r.html")" '^[2-9]' "report action: the page holds the stacks the action took (the thread and its main frame)"
kill -INT "$W" 2>/dev/null
wait "$W"
is "$?" 0 "report action: watch ends cleanly on SIGINT"
like "$(grep -c "trigger 1: &#39;growth&gt;2M/2s&#39; fired on .*[0-9a-f]-[0-9a-f]*: growth [0-9.]*M in [0-9.]*s (threshold 2M/2s); stacks -&gt; [^\\]*</span>" "$T/rep/r.html")" '^[1-9]' "report action: the final page still holds the event"
is "$(find "$T/rep" -maxdepth 1 -name '.*' | wc -l)" 0 "report action: no temporary file left"

# 5c. several processes: each has its own history and cooldown; --max-triggers counts all
start_target grow_brk -r 4096 -t 120
P2=$TPID
mkdir "$T/multi"
"$RW" watch -p "$P1,$P2" -i 0.3 -n 12 --trigger 'growth>2M/2s' --trigger-cooldown 0 \
	--max-triggers 3 --on-trigger stacks --out "$T/multi" --json > "$T/m.json" 2> "$T/m.err"
is "$?" 0 "two processes: watch exits 0"
like "$(grep -c "\"event\":\"trigger\".*\"pid\":$P1[,}]" "$T/m.json")" '^[2-9]|^[1-9][0-9]' "two processes: the first fires"
like "$(grep -c "\"event\":\"trigger\".*\"pid\":$P2[,}]" "$T/m.json")" '^[2-9]|^[1-9][0-9]' "two processes: the second fires"
is "$(dirs "$T/multi")" 3 "two processes: --max-triggers 3 counts the firings of both"
is "$(grep -c 'max-triggers 3 reached' "$T/m.err")" 1 "two processes: the limit is said once"
is "$(grep '"event":"trigger"' "$T/m.json" | sed 's/.*"n":\([0-9]*\).*/\1/' | sort -n | uniq -d | wc -l)" 0 \
	"two processes: event numbers are not reused across processes"
stop_target "$P2"
TPID=$P1

# 6. a full disk: a 512 KiB tmpfs
mkdir "$T/mnt"
if mount -t tmpfs -o size=512k tmpfs "$T/mnt" 2>/dev/null; then
	MOUNTS="$T/mnt"
	# room for a sampled dump: it is bounded by the free space
	"$RW" watch -p "$TPID" -i 0.3 -n 8 --trigger 'growth>2M/2s' --on-trigger dump,stacks \
		--out "$T/mnt" --json > "$T/s.json" 2> "$T/s.err"
	is "$(dirs "$T/mnt")" 1 "small disk: one set of files"
	like "$(cat "$T/s.err")" "dump: sampled: [0-9.]+K of [0-9.]+M new bytes" "small disk: the dump was sampled, and says so"
	D=$(find "$T/mnt" -mindepth 1 -maxdepth 1 -type d -name 'regionwatch-*')
	is "$(ls "$D" | sort | tr '\n' ' ')" "census.json dump.bin dump.bin.json stacks.txt " "small disk: the set is complete"
	used=$(df -k "$T/mnt" | awk 'NR == 2 { print $3 }')
	ok "small disk: 5% kept free (${used}K of 512K used)" test "$used" -le 487
	# now full
	dd if=/dev/zero of="$T/mnt/fill" bs=4k 2>/dev/null
	"$RW" watch -p "$TPID" -i 0.3 -n 8 --trigger 'growth>2M/2s' --on-trigger dump,stacks \
		--out "$T/mnt" > "$T/f.txt" 2> "$T/f.err"
	is "$?" 0 "full disk: watch goes on and exits 0"
	is "$(grep -c 'no room' "$T/f.err")" 1 "full disk: one line"
	like "$(grep 'no room' "$T/f.err")" "^regionwatch: watch: trigger 1: --out .*mnt: no room: [0-9.]+K? free, [0-9.]+K kept free, 1G of --out-budget left: nothing written$" "full disk: says why"
	is "$(dirs "$T/mnt")" 1 "full disk: no new directory"
	is "$(hidden "$T/mnt")" 0 "full disk: nothing partial left"
	like "$(grep '^trigger 1' "$T/f.txt")" "nothing written" "full disk: the event line says so"
	umount "$T/mnt" && MOUNTS=""
else
	skip "full disk: cannot mount a tmpfs here (needs root)"
fi

stop_target "$TPID"
done_testing
