#!/bin/sh
# The command line itself: help, version, unknown commands, exit statuses.
. "$(dirname "$0")/../lib.sh"

out=$("$RW" --help); rc=$?
is "$rc" 0 "--help exits 0"
like "$out" "regionwatch snap -p PID" "--help lists snap"
like "$out" "regionwatch diff A B" "--help lists diff"
like "$("$RW" -V)" "^regionwatch [0-9]+\.[0-9]+\.[0-9]+\$" "-V prints the version"
"$RW" > /dev/null 2> "$T/err"
is "$?" 2 "no arguments: exit 2"
like "$(cat "$T/err")" "usage: regionwatch" "no arguments: usage on stderr"
"$RW" frobnicate 2> "$T/err"
is "$?" 2 "unknown command: exit 2"
like "$(cat "$T/err")" "^regionwatch: unknown command 'frobnicate'" "unknown command: says so"
"$RW" help frobnicate > "$T/out" 2> "$T/err"
is "$?" 2 "help UNKNOWN: exit 2"
like "$(cat "$T/err")" "^regionwatch: unknown command 'frobnicate' \\(see 'regionwatch --help'\\)\$" \
	"help UNKNOWN: says so, like an unknown command"
is "$(cat "$T/out")" "" "help UNKNOWN: no usage on stdout"
like "$out" "regionwatch watch -p PID" "--help lists watch"
like "$out" "regionwatch dump -p PID --region SPEC" "--help lists dump"
like "$out" "regionwatch analyze FILE" "--help lists analyze"
for c in snap diff watch dump analyze stacks; do
	out=$("$RW" $c --help); rc=$?
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: regionwatch $c" "$c --help shows its usage"
	like "$out" "Exit status" "$c --help documents exit status"
	like "$("$RW" help $c)" "^usage: regionwatch $c" "help $c"
done
# The monitor's form, regionwatch -p PID, prints the watch output until the monitor exists.
sleep 30 &
PIDS="$PIDS $!"
out=$("$RW" -p $! -n 1 -i 0.1)
is "$?" 0 "regionwatch -p PID -n 1: exit 0"
like "$out" "^pid $! \\(sleep\\)" "regionwatch -p PID prints the watch output"
done_testing
