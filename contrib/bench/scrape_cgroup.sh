#!/bin/sh
# The cost of a scrape of `watch --cgroup --metrics-listen` over N processes (default 100,
# SCRAPE_PROCS), 10 rows each: the time to answer GET /metrics (curl's time_total over 100
# scrapes, median and max), the size of the body, and the CPU of one sample of all N.
# Part of make bench (after scrape.sh, the one-process figures). Needs curl and a writable
# cgroup v2 mount; says so and skips otherwise. Prints figures, never passes or fails.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
RW=${RW_BIN:-$top/regionwatch}
FIX=$top/build/fixtures
N=${SCRAPE_PROCS:-100}
T=$(mktemp -d /tmp/rwscrape.XXXXXX)
PIDS=""
CG=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$CG" ]; then
		for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG" 2>/dev/null && break; sleep 0.2; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

command -v curl > /dev/null || { echo "  (curl is not installed: skipped)"; exit 0; }

free_port() {
	perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0") or die; print $s->sockport'
}

# scrape PORT LABEL: 100 scrapes, the median and max time_total in ms, the body size
scrape() {
	i=0
	while ! curl -sf "http://127.0.0.1:$1/metrics" -o "$T/body" 2>/dev/null || ! grep -q '^regionwatch_area_rss_bytes{' "$T/body"; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "scrape: $2: no metrics"; return 1; }
		sleep 0.1
	done
	for i in $(seq 100); do
		curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$1/metrics"
	done | sort -n | awk -v l="$2" -v b="$(wc -c < "$T/body")" -v s="$(grep -c '^regionwatch_' "$T/body")" \
		'{ v[NR] = $1 * 1000 } END { printf "%-28s median %.2f ms  max %.2f ms  (%d bytes, %d series)\n", l, v[int((NR + 1) / 2)], v[NR], b, s }'
}

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
if [ -z "$CGROOT" ] || ! mkdir "$CGROOT/rwscrape.$$" 2>/dev/null; then
	echo "  (no writable cgroup v2 mount: skipped)"
	exit 0
fi
CG="$CGROOT/rwscrape.$$"
for i in $(seq "$N"); do
	"$FIX/flat" -s 1 -t 120 > /dev/null &
	PIDS="$PIDS $!"
	echo $! > "$CG/cgroup.procs"
done
port=$(free_port)
"$RW" watch --cgroup "$CG" -i 1 --metrics-listen "127.0.0.1:$port" --metrics-top 10 --json \
	> "$T/cg.json" 2>/dev/null &
PIDS="$PIDS $!"
WN=$!
i=0
while ! grep -q "\"processes\":$N" "$T/cg.json" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && break
	sleep 0.1
done
scrape "$port" "$N processes, 10 rows each:"
sleep 3
kill -INT "$WN" 2>/dev/null
wait "$WN" 2>/dev/null
# the CPU of a sample of all of them: the sum of the processes' cost_ms, per sample
perl -MJSON::PP -ne 'my $d = eval { decode_json($_) } or next;
	if ($d->{type} eq "cgroup") { $s = $d->{sample} }
	elsif ($d->{type} eq "sample") { $c{$s} += $d->{cost_ms} }
	END { my @v = sort { $a <=> $b } values %c; printf "%-28s %.1f ms CPU per sample of all (median of %d samples)\n",
		"'"$N"' processes:", $v[int($#v / 2)], scalar @v }' "$T/cg.json"
