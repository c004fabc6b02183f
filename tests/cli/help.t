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
for c in snap diff; do
	out=$("$RW" $c --help); rc=$?
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: regionwatch $c" "$c --help shows its usage"
	like "$out" "Exit status" "$c --help documents exit status"
	like "$("$RW" help $c)" "^usage: regionwatch $c" "help $c"
done
for c in watch dump analyze stacks; do
	"$RW" $c -p 1 2> "$T/err"
	is "$?" 2 "$c is not built yet: exit 2"
	like "$(cat "$T/err")" "not built yet" "$c: says it is not built yet"
done
done_testing
