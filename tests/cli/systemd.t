#!/bin/sh
# contrib/systemd/regionwatch@.service: systemd accepts the unit, and its ExecStart line is
# a command line regionwatch accepts, run for real against a cgroup (paths moved into the
# test's directory, two short samples).
. "$(dirname "$0")/../lib.sh"

UNIT="$RW_TOP/contrib/systemd/regionwatch@.service"

if command -v systemd-analyze > /dev/null 2>&1; then
	mkdir "$T/units"
	sed "s|/usr/local/bin/regionwatch|$RW|" "$UNIT" > "$T/units/regionwatch@.service"
	(cd "$T/units" && systemd-analyze verify ./regionwatch@nginx.service) > "$T/verify" 2>&1
	# the man page is not installed here; anything else is the unit's fault
	grep -v "man regionwatch(1)\|Documentation" "$T/verify" > "$T/verify.rest"
	is "$(cat "$T/verify.rest")" "" "systemd-analyze verify: no complaint about the unit"
else
	skip "systemd-analyze is not installed"
fi

# ExecStart, its continuation lines joined, with %i and the paths made the test's own
cmdline=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$UNIT" | sed 's/^ExecStart=//; s/\\$//' | tr '\n\t' '  ')
like "$cmdline" "^/usr/local/bin/regionwatch watch --cgroup system.slice/%i.service " "ExecStart watches the instance's service cgroup"

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
CG=""
if [ -n "$CGROOT" ] && mkdir "$CGROOT/rwunit.$$" 2>/dev/null; then
	CG="$CGROOT/rwunit.$$"
fi
cg_cleanup() {
	t_cleanup
	[ -n "$CG" ] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG" 2>/dev/null && return 0; sleep 0.1; done
}
trap cg_cleanup EXIT

if [ -z "$CG" ]; then
	skip "no writable cgroup v2 mount here"
	skip "no writable cgroup v2 mount here"
	skip "no writable cgroup v2 mount here"
else
	start_target grow_brk -r 1024 -t 60
	echo "$TPID" > "$CG/cgroup.procs"
	mkdir -p "$T/state/x" "$T/prom"
	args=$(printf '%s\n' "$cmdline" | sed "s|^/usr/local/bin/regionwatch ||; s|system.slice/%i.service|$CG|;
		s|/var/lib/regionwatch/%i|$T/state/x|g; s|/var/lib/prometheus/node-exporter|$T/prom|g; s|%i|x|g")
	# shellcheck disable=SC2086
	set -f
	"$RW" $args -i 0.2 -n 2 > "$T/out.json" 2> "$T/err"
	rc=$?
	set +f
	is "$rc" 0 "the unit's command line runs (exit 0): $(head -c 300 "$T/err")"
	ok "the unit's command line writes the textfile" grep -q "^regionwatch_process_rss_bytes{pid=\"$TPID\"" "$T/prom/regionwatch-x.prom"
	ok "the unit's command line writes the report" test -s "$T/state/x/report.$TPID.html"
fi

done_testing
