#!/bin/sh
# snap against real processes: content, atomic output, refusals, errors and exit statuses.
. "$(dirname "$0")/../lib.sh"

start_target grow_brk -r 1024 -t 120
pid=$TPID

# To stdout: our header, then the kernel's smaps text.
"$RW" snap -p "$pid" > "$T/s1" 2> "$T/err"
is "$?" 0 "snap to stdout exits 0"
is "$(head -1 "$T/s1")" "# regionwatch-snapshot 2" "first line is the format header"
like "$(grep '^# pid ' "$T/s1")" "^# pid $pid\$" "header names the pid"
like "$(grep '^# comm ' "$T/s1")" "^# comm grow_brk\$" "header names the comm"
like "$(grep '^# start_ticks ' "$T/s1")" "^# start_ticks [0-9]+\$" "header has the start time"
# Same mappings as /proc/PID/maps (the brk heap may move between the two reads: compare the rest).
grep -E '^[0-9a-f]+-[0-9a-f]+ ' "$T/s1" | grep -v '\[heap\]' | cut -d' ' -f1-2 > "$T/s1.ranges"
grep -v '\[heap\]' "/proc/$pid/maps" | cut -d' ' -f1-2 > "$T/maps.ranges"
ok "regions are those of /proc/PID/maps" cmp -s "$T/s1.ranges" "$T/maps.ranges"
is "$(grep -c '^Rss:' "$T/s1")" "$(grep -cE '^[0-9a-f]+-' "$T/s1")" "every region carries its fields"
is "$(grep -v '^#' "$T/s1" | grep -c '^VmFlags:')" "$(grep -cE '^[0-9a-f]+-' "$T/s1")" "VmFlags kept verbatim"
grep -v '^#' "$T/s1" | sed -E 's/ *[0-9]+( kB)?$//' | grep -v '^[0-9a-f]*-' > "$T/a"
sed -E 's/ *[0-9]+( kB)?$//' "/proc/$pid/smaps" | grep -v '^[0-9a-f]*-' > "$T/b"
ok "the kernel's text is untouched (same lines as a cat of smaps, apart from changing numbers)" cmp -s "$T/a" "$T/b"
cmp -s "$T/a" "$T/b" || diff "$T/a" "$T/b" | head -5 | sed 's/^/# /'

# To a file: atomic, mode 0644, no overwrite without --force.
mkdir "$T/out"
"$RW" snap -p "$pid" -o "$T/out/a.snap"
is "$?" 0 "snap -o exits 0"
is "$(stat -c %a "$T/out/a.snap")" "644" "snapshot file has mode 0644"
is "$(ls -A "$T/out")" "a.snap" "no temporary file left beside it"
sum1=$(md5sum < "$T/out/a.snap")
ino1=$(stat -c %i "$T/out/a.snap")
"$RW" snap -p "$pid" -o "$T/out/a.snap" 2> "$T/err"
is "$?" 1 "existing file: exit 1"
like "$(cat "$T/err")" "^regionwatch: snap: .*a.snap: file exists \(use --force" "existing file: says why, one line"
is "$(wc -l < "$T/err")" "1" "one line on stderr"
is "$(md5sum < "$T/out/a.snap")" "$sum1" "existing file untouched"
"$RW" snap -p "$pid" -o "$T/out/a.snap" --force
is "$?" 0 "--force replaces it"
ok "replaced by rename: a new file, not rewritten in place" test "$(stat -c %i "$T/out/a.snap")" != "$ino1"
is "$(ls -A "$T/out")" "a.snap" "still no temporary file"
"$RW" snap -p "$pid" -o /dev/null
is "$?" 0 "snap -o /dev/null writes to the device"

# The written file is readable by diff (it is a snapshot).
"$RW" diff "$T/out/a.snap" "$T/s1" --all > "$T/d" 2>&1
is "$?" 0 "a snapshot file loads in diff"

# Errors.
"$RW" snap -p 2147483 2> "$T/err"; rc=$?
is "$rc" 1 "nonexistent pid: exit 1"
like "$(cat "$T/err")" "^regionwatch: snap: no process with pid 2147483\$" "nonexistent pid: clear message"
"$RW" snap -p abc 2> "$T/err"
is "$?" 2 "bad pid: exit 2"
"$RW" snap 2> "$T/err"
is "$?" 2 "missing -p: exit 2"
like "$(cat "$T/err")" "give -p PID" "missing -p: says what is missing"
"$RW" snap -p "$pid" --bogus 2> "$T/err"
is "$?" 2 "unknown option: exit 2"
"$RW" snap -p "$pid" -o "$T/nodir/x.snap" 2> "$T/err"
is "$?" 1 "output directory missing: exit 1"
like "$(cat "$T/err")" "nodir/x.snap: cannot create" "output directory missing: says so"
"$RW" snap -p "$pid" -o "$T/out" 2> "$T/err"
is "$?" 1 "output is a directory: exit 1"

# A zombie has no mappings: reported, not written.
sh -c 'sleep 0 & exec sleep 30' &
zparent=$!
PIDS="$PIDS $zparent"
sleep 0.3
zombie=$(ps -o pid= --ppid "$zparent" | tr -d ' ' | head -1)
if [ -n "$zombie" ] && [ "$(proc_state "$zombie")" = Z ]; then
	"$RW" snap -p "$zombie" -o "$T/out/z.snap" 2> "$T/err"
	is "$?" 1 "zombie: exit 1"
	like "$(cat "$T/err")" "no mappings \(exited or a zombie\)" "zombie: says so"
	ok "zombie: no file written" test ! -e "$T/out/z.snap"
else
	t_result 1 "could not make a zombie to test with"
fi

# Permission: an unprivileged user against a root process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$RW"; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" snap -p "$pid" > /dev/null 2> "$T/err"
	is "$?" 1 "permission denied: exit 1"
	like "$(cat "$T/err")" "permission denied" "permission denied: says so"
else
	skip "permission case not run: needs root, setpriv and a binary path nobody can execute"
fi

# A full disk: nothing is left behind, exit 1.
mkdir "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=16k tmpfs "$T/full" 2>/dev/null; then
	MOUNTS="$T/full"
	"$RW" snap -p "$pid" -o "$T/full/s.snap" 2> "$T/err"
	is "$?" 1 "full disk: exit 1"
	like "$(cat "$T/err")" "No space left on device" "full disk: says so"
	is "$(ls -A "$T/full")" "" "full disk: no file, no temp file left"
	umount "$T/full"; MOUNTS=""
else
	skip "full-disk case not run: needs root to mount a small tmpfs"
fi

# Torn reads in a snapshot: counted on its closing line, accepted by diff with one note.
start_target grow_fast -a 8 -m 16 -t 60
fpid=$TPID
# the other side of the diffs (torn or not: the first of the loop may be the torn one, and
# a file diffed with itself is refused)
"$RW" snap -p "$fpid" -o "$T/ref.snap"
torn=0; bad=0; i=0
while [ $i -lt 300 ]; do
	i=$((i + 1))
	"$RW" snap -p "$fpid" -o "$T/f$i.snap" || bad=$((bad + 1))
	rm -f "$T/f$((i - 1)).snap"
	t=$(sed -n 's/^# end [0-9]* regions, \([0-9]*\) torn$/\1/p' "$T/f$i.snap")
	[ -n "$t" ] || bad=$((bad + 1))
	if [ "${t:-0}" -gt 0 ]; then torn=$i; break; fi
done
stop_target "$fpid"
is "$bad" 0 "torn: every snap of fast-growing mappings succeeds and ends with its '# end' line"
if [ $torn -gt 0 ]; then
	"$RW" diff "$T/ref.snap" "$T/f$torn.snap" > /dev/null 2> "$T/err"
	is "$?" 0 "torn: diff accepts a snapshot with torn records"
	like "$(cat "$T/err")" "f$torn.snap: [0-9]+ torn records? \(a mapping changed" "torn: ... with one line saying how many"
	"$RW" diff --json "$T/ref.snap" "$T/f$torn.snap" > "$T/d.json" 2>/dev/null
	is "$(json_get "$T/d.json" '$d->{b}{torn_records}')" "$(sed -n 's/^# end [0-9]* regions, \([0-9]*\) torn$/\1/p' "$T/f$torn.snap")" \
		"torn: diff --json torn_records matches the snapshot's end line"
else
	t_result 1 "torn: no torn record seen in 300 snapshots of fast-growing mappings"
fi

# A snapshot cut short is refused at the line where it stops (format 2 ends with '# end').
"$RW" snap -p "$pid" -o "$T/whole.snap"
head -40 "$T/whole.snap" > "$T/cut.snap"
"$RW" diff "$T/whole.snap" "$T/cut.snap" > /dev/null 2> "$T/err"
is "$?" 1 "cut-short snapshot: diff exits 1"
like "$(cat "$T/err")" "cut.snap: line 40: snapshot cut short" "cut-short snapshot: refused at its last line"

ok "target still runs after all of this" kill -0 "$pid"
stop_target "$pid"
done_testing
