#!/bin/sh
# make demo: start a bundled leaking fixture, show regionwatch on it, stop the fixture.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
RW=$top/regionwatch
T=$(mktemp -d)
"$top/build/fixtures/grow_arena" -r 4096 -f 128 -t 60 > "$T/ready" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT INT TERM
until grep -q '^ready' "$T/ready"; do sleep 0.05; done
echo "demo: started a fixture that leaks 4 MiB/s into a glibc thread arena, next to a"
echo "      flat 128 MiB buffer: $(cat "$T/ready")"
echo
echo "\$ regionwatch snap -p $pid -o a.snap; sleep 3; regionwatch snap -p $pid -o b.snap"
"$RW" snap -p "$pid" -o "$T/a.snap"
sleep 3
"$RW" snap -p "$pid" -o "$T/b.snap"
echo "\$ regionwatch diff a.snap b.snap"
(cd "$T" && "$RW" diff a.snap b.snap)
echo
echo "demo: the first row is the leak (the arena at $(sed 's/.*addr=\([^ ]*\).*/\1/' "$T/ready")); the flat buffer"
echo "      does not appear because its RSS did not change. Fixture stopped."
