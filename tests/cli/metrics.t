#!/bin/sh
# watch --metrics-textfile / --metrics-listen against a growing brk heap: the textfile is
# complete and replaced each sample, the growing [heap] says so; GET /metrics serves the
# same families, other paths 404, other methods 405; [::1]:PORT serves over IPv6 (skipped
# without an IPv6 loopback); host names are refused.
. "$(dirname "$0")/../lib.sh"

# well_formed FILE: every line a comment or NAME{labels} VALUE; prints the bad line count
well_formed() {
	perl -ne 'next if /^# (HELP|TYPE) /; $bad++ unless /^[a-z_]+\{(?:[a-z]+="(?:[^"\\\n]|\\.)*",?)*\} -?[0-9.e+]+$/;
		END { print $bad // 0 }' "$1"
}

start_target grow_brk -r 2048 -t 120
P=$TPID
"$RW" watch -p "$P" -i 0.3 -n 8 --metrics-textfile "$T/rw.prom" > "$T/w.out" 2> "$T/w.err" &
W=$!
PIDS="$PIDS $W"
i=0
while [ ! -s "$T/rw.prom" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ok "textfile appears" test -s "$T/rw.prom"
# the heap grows 2 MiB/s: a later sample's file has another RSS (inode numbers are reused)
rss() { sed -n 's/^regionwatch_process_rss_bytes{.*} //p' "$T/rw.prom"; }
rss1=$(rss)
sleep 0.8
rss2=$(rss)
ok "textfile is replaced at a later sample ($rss1 -> $rss2)" test -n "$rss1" -a -n "$rss2" -a "$rss1" != "$rss2"
wait $W
is "$?" 0 "watch with --metrics-textfile exits 0"
is "$(well_formed "$T/rw.prom")" 0 "every sample line is name{labels} value"
is "$(tail -1 "$T/rw.prom" | grep -c '^regionwatch_area_growing{')" 1 "the file is complete: it ends with the last family"
like "$(cat "$T/rw.prom")" "regionwatch_area_growing\\{pid=\"$P\",comm=\"grow_brk\",area=\"0x[0-9a-f]+\",kind=\"heap\",path=\"\\[heap\\]\"\\} 1" "the growing [heap] has regionwatch_area_growing 1"
like "$(cat "$T/rw.prom")" "# TYPE regionwatch_triggers_total counter" "triggers_total is a counter"
is "$(grep -c '^regionwatch_area_rss_bytes{' "$T/rw.prom")" 10 "--metrics-top default: 10 rows"
# promtool and Prometheus both take a series twice without a word (tests/cli/prometheus.t)
is "$(grep -v '^#' "$T/rw.prom" | sed 's/} .*/}/' | sort | uniq -d)" "" "no series appears twice"
is "$(ls -A "$T" | grep -c '^\.rw\.prom')" 0 "no temporary file left behind"

"$RW" watch -p "$P" -i 0.2 -n 2 --metrics-top 2 --metrics-textfile "$T/two.prom" > /dev/null 2>&1
is "$(grep -c '^regionwatch_area_score{' "$T/two.prom")" 2 "--metrics-top 2: 2 rows"

"$RW" watch -p "$P" -n 1 --metrics-textfile "$T/nodir/x.prom" > /dev/null 2> "$T/e.err"
is "$?" 1 "an unwritable textfile: exit 1"
like "$(cat "$T/e.err")" "^regionwatch: watch: metrics textfile .*/nodir/x.prom: .*No such file" "one clear message"
is "$(wc -l < "$T/e.err")" 1 "one line"

# http_get PORT METHOD PATH [ADDR]: the raw response from ADDR (default 127.0.0.1; bounded: 5 s)
http_get() {
	perl -MIO::Socket::IP -e '
		my $h = $ARGV[3] // "127.0.0.1";
		my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $ARGV[0], Timeout => 5)
			or exit 3;
		$s->timeout(5);
		$h = "[$h]" if $h =~ /:/;
		print $s "$ARGV[1] $ARGV[2] HTTP/1.0\r\nHost: $h\r\n\r\n";
		local $SIG{ALRM} = sub { exit 4 }; alarm 5;
		print while <$s>;' "$@"
}

PORT=$(free_port)
"$RW" watch -p "$P" -i 0.3 -n 20 --metrics-listen "127.0.0.1:$PORT" > "$T/l.out" 2> "$T/l.err" &
W=$!
PIDS="$PIDS $W"
i=0
while ! http_get "$PORT" GET /metrics > "$T/h.txt" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
sleep 0.7
http_get "$PORT" GET /metrics > "$T/h.txt"
like "$(head -1 "$T/h.txt")" "^HTTP/1\\.[01] 200" "GET /metrics: 200"
like "$(cat "$T/h.txt")" "Content-Type: text/plain; version=0\\.0\\.4; charset=utf-8" "exposition content type"
sed '1,/^\r*$/d' "$T/h.txt" > "$T/h.body"
is "$(well_formed "$T/h.body")" 0 "the body is well formed"
like "$(cat "$T/h.body")" "regionwatch_area_growing\\{pid=\"$P\",comm=\"grow_brk\",[^}]*kind=\"heap\",path=\"\\[heap\\]\"\\} 1" "it shows the growing [heap]"
is "$(grep '^# TYPE' "$T/h.body" | sort | md5sum)" "$(grep '^# TYPE' "$T/rw.prom" | sort | md5sum)" "the same families as the textfile"
like "$(http_get "$PORT" GET /other | head -1)" "^HTTP/1\\.[01] 404" "GET /other: 404"
like "$(http_get "$PORT" POST /metrics | head -1)" "^HTTP/1\\.[01] 405" "POST /metrics: 405"
"$RW" watch -p "$P" -n 1 --metrics-listen "127.0.0.1:$PORT" > /dev/null 2> "$T/b.err"
is "$?" 1 "a port in use: exit 1"
like "$(cat "$T/b.err")" "cannot listen: Address already in use" "and says so"
kill -INT "$W"
i=0
while kill -0 "$W" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "SIGINT ends watch promptly while it serves" test $i -lt 50
wait "$W"
is "$?" 0 "interrupted watch exits 0"
like "$(cat "$T/l.out")" "interrupted|summary|RANK|ranking" "and prints its final ranking"
is "$(proc_state "$P" | tr -d 'SR')" "" "target neither stopped nor traced"

# IPv6: [::1]:PORT is bound as named, v6 only: 127.0.0.1 on that port is not answered
# (a port free on ::1 and on 127.0.0.1, so that the refusal is ours)
PORT6=""
for i in 1 2 3 4 5; do
	PORT6=$(free_port ::1 2>/dev/null) || break
	perl -MIO::Socket::IP -e 'IO::Socket::IP->new(LocalHost => "127.0.0.1",
		LocalPort => $ARGV[0], Listen => 1) or exit 1' "$PORT6" && break
	PORT6=""
done
if [ -n "$PORT6" ]; then
	"$RW" watch -p "$P" -i 0.3 -n 20 --metrics-listen "[::1]:$PORT6" > /dev/null 2> "$T/6.err" &
	W=$!
	PIDS="$PIDS $W"
	i=0
	while ! http_get "$PORT6" GET /metrics ::1 2>/dev/null | head -1 | grep -q ' 200' &&
		kill -0 "$W" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	http_get "$PORT6" GET /metrics ::1 > "$T/h6.txt" 2>/dev/null
	like "$(head -1 "$T/h6.txt")" "^HTTP/1\\.[01] 200" "--metrics-listen [::1]:PORT: GET /metrics 200 over IPv6"
	sed '1,/^\r*$/d' "$T/h6.txt" > "$T/h6.body"
	like "$(cat "$T/h6.body")" "regionwatch_process_rss_bytes\\{pid=\"$P\",comm=\"grow_brk\"\\} [0-9]+" \
		"it serves the process's series"
	http_get "$PORT6" GET /metrics 127.0.0.1 > /dev/null 2>&1
	is "$?" 3 "127.0.0.1 on the same port is refused: only [::1] is bound"
	kill -INT "$W"
	wait "$W"
	is "$?" 0 "the IPv6 watch exits 0 on SIGINT"
	if [ -s "$T/6.err" ]; then sed 's/^/#   /' "$T/6.err"; fi
else
	for i in 1 2 3 4; do skip "no IPv6 loopback: ::1 cannot be bound here"; done
fi

"$RW" watch -p "$P" -n 1 --metrics-listen localhost:1 > /dev/null 2> "$T/h.err"
is "$?" 2 "--metrics-listen localhost:1: exit 2"
like "$(cat "$T/h.err")" "not a numeric address" "host names are refused"
"$RW" watch -p "$P" -n 1 --metrics-listen 127.0.0.1 > /dev/null 2>&1
is "$?" 2 "no port: exit 2"
stop_target "$P"
done_testing
