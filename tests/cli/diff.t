#!/bin/sh
# diff against real growing processes: the growing region is the first row; every input
# format; errors and exit statuses.
. "$(dirname "$0")/../lib.sh"

# first_row A B: the first data row of the default table (address range, kind).
first_row() { "$RW" diff "$1" "$2" | awk '$1 ~ /^(grown|added|shrunk|removed|same)$/ { print; exit }'; }
in_row() { # ADDR ROW: ADDR (hex, 0x optional) lies inside the row's range
	range=$(echo "$2" | awk '{print $2}')
	perl -e '($a,$s,$e)=map { hex } @ARGV; exit !($a >= $s && $a < $e)' "$1" "${range%-*}" "${range#*-}"
}

snap_pair() { # PID: writes $T/a.snap, $T/b.snap SECONDS apart
	rm -f "$T/a.snap" "$T/b.snap"
	"$RW" snap -p "$1" -o "$T/a.snap" && sleep "$2" && "$RW" snap -p "$1" -o "$T/b.snap"
}

# 1. brk heap
start_target grow_brk -r 4096 -t 120
snap_pair "$TPID" 1.5
row=$(first_row "$T/a.snap" "$T/b.snap")
like "$row" "^grown .* heap +rw-p \[heap\]" "brk leak: [heap] is the first row, grown"
ok "brk leak: the row holds the fixture's heap address" in_row "$TADDR" "$row"
"$RW" diff --json "$T/a.snap" "$T/b.snap" > "$T/d.json"
is "$(json_get "$T/d.json" '$d->{regions}[0]{kind}')" "heap" "brk leak: JSON first region is the heap"
is "$(json_get "$T/d.json" '$d->{regions}[0]{status}')" "grown" "JSON status grown"
ok "JSON delta = rss_b - rss_a > 4 MiB" test "$(json_get "$T/d.json" '$r=$d->{regions}[0]; ($r->{delta} == $r->{rss_b} - $r->{rss_a} && $r->{delta} > 4194304) ? 1 : 0')" = 1
like "$(json_get "$T/d.json" '$d->{regions}[0]{start}')" "^0x[0-9a-f]+\$" "JSON addresses are 0x hex strings"
is "$(json_get "$T/d.json" '$d->{totals}{rss_delta} == $d->{totals}{rss_b} - $d->{totals}{rss_a} ? 1 : 0')" 1 "JSON totals"
# pmap -x captured at the same time as two smaps files
pmap -x "$TPID" > "$T/a.pmap"; sleep 1.2; pmap -x "$TPID" > "$T/b.pmap"
row=$(first_row "$T/a.pmap" "$T/b.pmap")
like "$row" "^grown " "pmap -x inputs: growth found"
ok "pmap -x inputs: first row holds the heap address" in_row "$TADDR" "$row"
pmap -X "$TPID" > "$T/c.pmapX"
row=$(first_row "$T/b.snap" "$T/c.pmapX")
ok "snapshot vs pmap -X: first row holds the heap address" in_row "$TADDR" "$row"
pmap -XX "$TPID" > "$T/d.pmapXX"; sleep 1
cat "/proc/$TPID/smaps" > "$T/e.smaps"
row=$(first_row "$T/d.pmapXX" "$T/e.smaps")
ok "pmap -XX vs a raw smaps copy: heap first" in_row "$TADDR" "$row"
stop_target "$TPID"

# 2. thread arena grows next to a large flat buffer
start_target grow_arena -r 4096 -f 256 -t 120
flat=$(ready_field flat)
# A thread running when the snapshot is taken has no saved stack pointer (no '# thread'
# line); on a loaded machine the worker may be runnable: take the pair again until the
# first snapshot caught both threads blocked (at most 5 times).
n=0
while snap_pair "$TPID" 1.5 && { [ "$(grep -c '^# thread ' "$T/a.snap")" -lt 2 ] ||
	[ "$(grep -c '^# thread ' "$T/b.snap")" -lt 2 ]; } && [ $n -lt 4 ]; do
	n=$((n + 1))
done
row=$(first_row "$T/a.snap" "$T/b.snap")
ok "arena leak: arena is the first row, not the flat buffer" in_row "$TADDR" "$row"
like "$row" "glibc-arena" "arena leak: kind glibc-arena"
like "$(grep '^# thread ' "$T/a.snap" | head -1)" "^# thread [0-9]+ 0x[0-9a-f]+ grow_arena\$" "snap records blocked threads' stack pointers"
"$RW" diff --all --json "$T/a.snap" "$T/b.snap" > "$T/st.json"
if [ "$(grep -c '^# thread ' "$T/a.snap")" -ge 2 ] && [ "$(grep -c '^# thread ' "$T/b.snap")" -ge 2 ]; then
	like "$(json_get "$T/st.json" 'join ",", map { "$_->{kind}:$_->{path}" } grep { $_->{path} =~ /^\[stack tid/ } @{$d->{regions}}')" "^stack:\\[stack tid [0-9]+ grow_arena\\]" "diff names the worker thread's stack"
else
	skip "the worker thread was running at every snapshot of 5 pairs (a running thread has no saved stack pointer)"
fi
"$RW" diff --sort rss --all "$T/a.snap" "$T/b.snap" | awk '$1 ~ /^(grown|same|added|shrunk)$/ {print; exit}' > "$T/rssrow"
ok "--sort rss puts the 256 MiB flat buffer first" in_row "$flat" "$(cat "$T/rssrow")"
stop_target "$TPID"

# 3. mmap chunks
start_target grow_mmap -r 4096 -t 120
snap_pair "$TPID" 1.5
row=$(first_row "$T/a.snap" "$T/b.snap")
ok "mmap leak: the growing area is the first row" in_row "$TADDR" "$row"
stop_target "$TPID"

# 4. Go heap
if [ -x "$FIX/go_leak" ]; then
	start_target go_leak -r 4096 -t 120
	sleep 0.5
	snap_pair "$TPID" 1.5
	row=$(first_row "$T/a.snap" "$T/b.snap")
	like "$row" "go-heap" "Go leak: first row is go-heap"
	ok "Go leak: first row holds 0xc000000000" in_row c000000000 "$row"
	stop_target "$TPID"
else
	skip "Go fixture not built (no go): Go case not run"
fi

# 5. A flat process: nothing grows much.
start_target flat -s 64 -t 120
snap_pair "$TPID" 1
"$RW" diff --json --min-delta 1M "$T/a.snap" "$T/b.snap" > "$T/f.json"
is "$(json_get "$T/f.json" 'scalar @{$d->{regions}}')" 0 "flat: no region changed by 1 MiB"
stop_target "$TPID"

# 6. Captured fixtures diff the same way every time.
F=$RW_TOP/fixtures/smaps
if [ -f "$F/go_leak_a.smaps" ]; then
	row=$(first_row "$F/go_leak_a.smaps" "$F/go_leak_b.smaps")
	like "$row" "^grown +c000000000-.* go-heap" "fixture go_leak_a/b: go heap grown first"
fi
if [ -f "$F/brk_a.pmap_x" ]; then
	like "$(first_row "$F/brk_a.pmap_x" "$F/brk_b.pmap_x")" "^grown " "fixture brk pmap -x pair: growth first"
	like "$(first_row "$F/brk_a.smaps" "$F/brk_b.smaps")" "^grown .*\[heap\]" "fixture brk smaps pair: heap first"
fi

# 7. Errors and exit statuses.
"$RW" diff "$T/a.snap" "$T/a.snap" 2> "$T/err"
is "$?" 2 "same file twice: exit 2"
like "$(cat "$T/err")" "same file" "same file twice: says so"
ln -s "$T/a.snap" "$T/link.snap"
"$RW" diff "$T/a.snap" "$T/link.snap" 2> "$T/err"
is "$?" 2 "same file through a symlink: exit 2"
"$RW" diff "$T/a.snap" "$T/nonexistent" 2> "$T/err"
is "$?" 1 "missing file: exit 1"
like "$(cat "$T/err")" "^regionwatch: diff: .*nonexistent: No such file or directory\$" "missing file: one clear line"
printf '1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nRss: 4x kB\n' > "$T/bad.smaps"
"$RW" diff "$T/a.snap" "$T/bad.smaps" 2> "$T/err"
is "$?" 1 "malformed file: exit 1"
like "$(cat "$T/err")" "bad.smaps: line 3: bad number" "malformed file: names file and line"
: > "$T/empty"
"$RW" diff "$T/a.snap" "$T/empty" 2> "$T/err"
is "$?" 1 "empty file: exit 1"
like "$(cat "$T/err")" "no mappings" "empty file: says so"
head -c 4096 /dev/urandom > "$T/random.bin"
"$RW" diff "$T/a.snap" "$T/random.bin" 2> "$T/err"
is "$?" 1 "binary file: exit 1"
"$RW" diff "$T/a.snap" "$T" 2> "$T/err"
is "$?" 1 "a directory: exit 1"
"$RW" diff "$T/a.snap" 2> "$T/err"
is "$?" 2 "one input: exit 2"
"$RW" diff --sort size "$T/a.snap" "$T/b.snap" 2> "$T/err"
is "$?" 2 "bad --sort: exit 2"
"$RW" diff --min-delta lots "$T/a.snap" "$T/b.snap" 2> "$T/err"
is "$?" 2 "bad --min-delta: exit 2"
cat "$T/b.snap" | "$RW" diff "$T/a.snap" - > /dev/null
is "$?" 0 "B from standard input"
done_testing
