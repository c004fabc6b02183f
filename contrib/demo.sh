#!/bin/sh
# make demo: start a bundled leaking fixture and show regionwatch on it, then stop the
# fixture. On a terminal: the live monitor (q quits). Otherwise: two snapshots and their diff.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
RW=$top/regionwatch
T=$(mktemp -d)
"$top/build/fixtures/grow_arena" -r 1024 -f 128 -t 600 > "$T/ready" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT INT TERM
until grep -q '^ready' "$T/ready"; do sleep 0.05; done
echo "demo: started a fixture that leaks 1 MiB/s into a glibc thread arena, next to a"
echo "      flat 128 MiB buffer: $(cat "$T/ready")"
if [ -t 0 ] && [ -t 1 ]; then
	echo "demo: opening the live monitor on it in 3 s. The arena climbs to the first row;"
	echo "      Enter opens it (tabs 1-5: Hex, Strings, Histogram, Pages, Grep), ? helps, q quits."
	sleep 3
	"$RW" -p "$pid" -i 1 || true
else
	echo
	echo "\$ regionwatch snap -p $pid -o a.snap; sleep 3; regionwatch snap -p $pid -o b.snap"
	"$RW" snap -p "$pid" -o "$T/a.snap"
	sleep 3
	"$RW" snap -p "$pid" -o "$T/b.snap"
	echo "\$ regionwatch diff a.snap b.snap"
	(cd "$T" && "$RW" diff a.snap b.snap)
	echo
	echo "demo: the first row is the leak (the arena at $(sed 's/.*addr=\([^ ]*\).*/\1/' "$T/ready"));"
	echo "      the flat buffer does not appear because its RSS did not change."
	echo "      (On a terminal, make demo opens the live monitor instead.)"
fi
echo "demo: fixture stopped."
