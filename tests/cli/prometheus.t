#!/bin/sh
# watch --metrics-listen and --metrics-textfile against the real Prometheus parts: promtool
# check metrics passes on both; a Prometheus server scraping the endpoint every second finds
# the growing brk heap with regionwatch_area_growing == 1 and the target healthy; the
# node_exporter textfile collector serves the textfile's series. Each part skips, with the
# reason, when its Debian package is missing (contrib/install-deps.sh installs them).
. "$(dirname "$0")/../lib.sh"

PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
command -v curl > /dev/null 2>&1 || skip_all "curl is not installed (contrib/install-deps.sh)"

# stop_server PID: SIGTERM, then SIGKILL if it is still there after 10 s (a test never hangs)
stop_server() {
	kill "$1" 2>/dev/null
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

start_target grow_brk -r 2048 -t 120
P=$TPID
# the [heap] mapping's start, as the area label spells it (0x, lower-case, no leading zeros)
HEAP=$(printf '0x%x' "0x$(sed -n 's/^\([0-9a-f]*\)-.*\[heap\]$/\1/p' "/proc/$P/maps")")
mkdir "$T/tf"

# One watch for all: the endpoint and node_exporter's textfile directory, until killed.
run_watch() {
	exec "$RW" watch -p "$P" -i 0.3 --metrics-listen "127.0.0.1:$SPORT" \
		--metrics-textfile "$T/tf/regionwatch.prom" > "$T/w.out" 2> "$T/w.log"
}
if ! serve run_watch "$T/w.log" /metrics; then
	echo "Bail out! watch --metrics-listen never served /metrics: $(cat "$T/w.log")"
	exit 1
fi
W=$SPID
WPORT=$SPORT

# A second target whose name needs every escape the format has: a quote, a backslash, a
# newline and ESC in its comm (and in its executable's path), served by a second watch.
HNAME=$(printf 'g"b\\k\nz\033')
cp "$FIX/grow_brk" "$T/$HNAME"
start_cmd "the hostile-named grow_brk" "$T/$HNAME" -r 256 -t 120
HP=$TPID
run_watch_h() {
	exec "$RW" watch -p "$HP" -i 0.3 --metrics-listen "127.0.0.1:$SPORT" > /dev/null 2> "$T/wh.log"
}
if ! serve run_watch_h "$T/wh.log" /metrics; then
	echo "Bail out! the second watch never served /metrics: $(cat "$T/wh.log")"
	exit 1
fi
WH=$SPID
WHPORT=$SPORT

# --- promtool check metrics (lint included: HELP, TYPE, names, units) ---
if [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics < "$T/tf/regionwatch.prom" > "$T/pt1.out" 2>&1
	is "$?" 0 "promtool check metrics passes on the textfile"
	is "$(cat "$T/pt1.out")" "" "and finds nothing to lint"
	curl -sf -m 5 -o "$T/body" "http://127.0.0.1:$WPORT/metrics"
	"$PROMTOOL" check metrics < "$T/body" > "$T/pt2.out" 2>&1
	is "$?" 0 "promtool check metrics passes on GET /metrics"
	is "$(cat "$T/pt2.out")" "" "and finds nothing to lint"
	like "$(grep -c '^regionwatch_area_rss_bytes{' "$T/body")" "^10$" "the checked body has the 10 rows"
	curl -sf -m 5 -o "$T/hbody" "http://127.0.0.1:$WHPORT/metrics"
	"$PROMTOOL" check metrics < "$T/hbody" > "$T/pt3.out" 2>&1
	is "$?:$(cat "$T/pt3.out")" 0: "promtool check metrics passes on labels with \\\", \\\\, newline and ESC"
	like "$(cat "$T/hbody")" 'comm="g\\"b\\\\\\\\k\\nz\\\\x1b"' "(the comm label there needs them all)"
else
	for i in 1 2 3 4 5 6 7; do skip "promtool not installed (Debian package prometheus)"; done
fi

# --- a Prometheus server scraping GET /metrics every second ---
if [ -x "$PROMETHEUS" ]; then
	cat > "$T/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: regionwatch
	    static_configs:
	      - targets: ['127.0.0.1:$WPORT', '127.0.0.1:$WHPORT']
	EOF
	run_prometheus() {
		exec "$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
			--web.listen-address="127.0.0.1:$SPORT" > "$T/prom.log" 2>&1
	}
	if serve run_prometheus "$T/prom.log" /-/ready; then
		t_result 0 "prometheus is ready on 127.0.0.1:$SPORT"
		PPORT=$SPORT
		# query EXPR FILE: an instant query's JSON into FILE
		query() {
			curl -s -m 5 -G --data-urlencode "query=$1" \
				"http://127.0.0.1:$PPORT/api/v1/query" > "$2"
		}
		# scrapes land every second; the trend needs a few samples: 30 s at most
		found() {
			query 'regionwatch_area_growing == 1' "$T/q.json" &&
				[ "$(json_get "$T/q.json" 'scalar grep { $_->{metric}{pid} eq "'"$P"'" &&
					$_->{metric}{kind} eq "heap" } @{$d->{data}{result}}')" -ge 1 ]
		}
		n=0
		while ! found && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
		diag "GET /api/v1/query?query=regionwatch_area_growing == 1 ->"
		printf '# %s\n' "$(cat "$T/q.json")"
		is "$(json_get "$T/q.json" '$d->{status}')" success "the query succeeds"
		mine='grep { $_->{metric}{pid} eq "'"$P"'" && $_->{metric}{kind} eq "heap" } @{$d->{data}{result}}'
		heap="($mine)[0]"
		is "$(json_get "$T/q.json" "scalar($mine)")" 1 \
			"regionwatch_area_growing == 1 has the fixture's heap"
		is "$(json_get "$T/q.json" "join ' ', map { \$_ // '' } @{$heap->{metric}}{qw(comm area path job)}")" \
			"grow_brk $HEAP [heap] regionwatch" "its area is the growing [heap] at $HEAP"
		is "$(json_get "$T/q.json" "$heap->{value}[1]")" 1 "with the value 1"
		query "count by (__name__) ({pid=\"$P\",__name__=~\"regionwatch_.*\"})" "$T/c.json"
		is "$(json_get "$T/c.json" 'join " ", sort map { "$_->{metric}{__name__}=$_->{value}[1]" }
			@{$d->{data}{result}}')" \
			"regionwatch_area_growing=10 regionwatch_area_growth_bytes_per_second=10 regionwatch_area_rss_bytes=10 regionwatch_area_score=10 regionwatch_process_anon_bytes=1 regionwatch_process_rss_bytes=1 regionwatch_sample_cost_seconds=1 regionwatch_triggers_total=1" \
			"every family is ingested, 10 rows each"
		# the hostile comm arrives as regionwatch spelt it: escape_term's text, then decoded
		hq() {
			query "regionwatch_process_rss_bytes{pid=\"$HP\"}" "$T/h.json" &&
				[ "$(json_get "$T/h.json" 'scalar @{$d->{data}{result}}')" = 1 ]
		}
		n=0
		while ! hq && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		printf '# regionwatch_process_rss_bytes{pid="%s"} -> %s\n' "$HP" "$(cat "$T/h.json")"
		is "$(json_get "$T/h.json" '$_ = $d->{data}{result}[0]{metric}{comm}; s/\n/<LF>/g; $_')" \
			'g"b\\k<LF>z\x1b' "the hostile comm label: quote, escaped backslash, newline, ESC as \\x1b"
		# the scrapes themselves: healthy, no parse error
		curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/targets" > "$T/targets.json"
		is "$(json_get "$T/targets.json" 'join " ", map { "$_->{health} [$_->{lastError}]" }
			@{$d->{data}{activeTargets}}')" "up [] up []" "both targets are up with no scrape error"
		# what a scrape cannot ingest (duplicate series, bad lines) is a warning in its log
		is "$(grep -E 'level=(warn|error)' "$T/prom.log" | grep -ci scrape)" 0 \
			"prometheus logged no scrape warning or error"
		grep -E 'level=(warn|error)' "$T/prom.log" | sed 's/^/#   /' | head -10
		stop_server "$SPID"
	else
		t_result 1 "prometheus is ready"
		sed 's/^/#   /' "$T/prom.log" | tail -20
		for i in 1 2 3 4 5 6 7 8; do skip "prometheus did not start"; done
	fi
else
	for i in 1 2 3 4 5 6 7 8 9; do skip "prometheus not installed (Debian package prometheus)"; done
fi

# --- node_exporter's textfile collector on watch's textfile ---
if [ -x "$NODE_EXPORTER" ]; then
	run_node_exporter() {
		exec "$NODE_EXPORTER" --collector.disable-defaults --collector.textfile \
			--collector.textfile.directory="$T/tf" \
			--web.listen-address="127.0.0.1:$SPORT" > "$T/ne.log" 2>&1
	}
	if serve run_node_exporter "$T/ne.log" /metrics; then
		curl -sf -m 5 "http://127.0.0.1:$SPORT/metrics" > "$T/ne.txt"
		like "$(grep '^regionwatch_process_rss_bytes' "$T/ne.txt")" \
			"^regionwatch_process_rss_bytes\\{comm=\"grow_brk\",pid=\"$P\"\\} [0-9.e+]+$" \
			"node_exporter serves regionwatch_process_rss_bytes with the fixture's pid"
		like "$(grep -c '^regionwatch_area_growing{' "$T/ne.txt")" "^10$" "and the 10 rows of each area family"
		is "$(sed -n 's/^node_textfile_scrape_error //p' "$T/ne.txt")" 0 "node_textfile_scrape_error 0"
		stop_server "$SPID"
	else
		t_result 1 "node_exporter came up"
		sed 's/^/#   /' "$T/ne.log" | tail -20
		skip "node_exporter did not start"
		skip "node_exporter did not start"
	fi
else
	for i in 1 2 3; do skip "node_exporter not installed (Debian package prometheus-node-exporter)"; done
fi

kill -INT "$W"
wait "$W"
is "$?" 0 "the watch behind it all exits 0 on SIGINT"
kill -INT "$WH"
wait "$WH"
is "$?" 0 "and the second one"
# (the state after the last ')' of /proc/PID/stat: this comm holds a newline)
hstate=$(perl -0777 -ne 'print $1 if /.*\) (\S)/s' "/proc/$HP/stat")
like "$(proc_state "$P") $hstate" "^[SR] [SR]$" "targets neither stopped nor traced"
stop_target "$HP"
stop_target "$P"
done_testing
