#!/bin/sh
# watch --content on real runtimes and on the fixtures that leak the way they do: the first
# row owns most of the anonymous growth (>= 50 %, from the JSON summary: its delta against
# anon - anon_first), and its content names the leaked record, from its new pages or, when
# they are mostly pointers, from one hop. python3 (a list cache of strings) and node (an
# array of JSON strings) are the real interpreters of this machine; each is skipped when
# it is not installed, as the Go fixtures are when Go is not.
. "$(dirname "$0")/../lib.sh"

# check NAME WHAT: watch the target, then the two checks on the first row. WHAT is a perl
# regex one of the first row's top 3 shapes (or top 3 pointee shapes) must match.
check() {
	name=$1 what=$2
	"$RW" watch -p "$TPID" -i 0.4 -n 8 --content --json > "$T/$name.json" 2> "$T/$name.err"
	is "$?" 0 "$name: watch --content exits 0"
	tail -1 "$T/$name.json" > "$T/$name.sum"
	share=$(json_get "$T/$name.sum" 'my $g = $d->{anon} - $d->{anon_first}; $g > 0 ? sprintf("%.3f", $d->{areas}[0]{delta} / $g) : 0')
	diag "$name: first row $(json_get "$T/$name.sum" '"$d->{areas}[0]{kind} $d->{areas}[0]{path}"'), $share of the anonymous growth"
	is "$(json_get "$T/$name.sum" "$share >= 0.5 ? 1 : 0")" 1 "$name: the first row holds >= 50% of the anonymous growth ($share)"
	is "$(json_get "$T/$name.sum" "my \$c = \$d->{areas}[0]{content}; my @s = map { \$_->{text} } @{\$c->{top_shapes}}[0 .. 2];
		push @s, map { \$_->{text} } @{\$c->{pointees}{top_shapes}}[0 .. 2] if \$c->{pointees};
		scalar(grep { defined && /$what/ } @s) ? 1 : 0")" 1 "$name: its content names the leaked record (/$what/)"
	json_get "$T/$name.sum" 'my $c = $d->{areas}[0]{content}; "# top shape: " . $c->{top_shapes}[0]{text} .
		($c->{pointees} ? "; one hop: " . $c->{pointees}{top_shapes}[0]{text} : "")'
	echo
}

REC='^user_session id=# token=# role=viewer'

# C fixtures: malloc spread over [heap] and arenas (cgo-like); equal mmapped chunks (V8-like)
start_target grow_threads -n 3 -r 4096 -t 120
check grow_threads "$REC"
stop_target "$TPID"
start_target grow_chunks -r 2048 -t 120
check grow_chunks "$REC"
stop_target "$TPID"
# an array of pointers: the record is one hop away
start_target pointer_array -r 2048 -t 120
check pointer_array '^record n=#$'
is "$(json_get "$T/pointer_array.sum" 'defined $d->{areas}[0]{content}{pointees} ? 1 : 0')" 1 "pointer_array: named from one hop"
stop_target "$TPID"

# Go: the heap arena; C memory leaked through cgo
for g in go_leak go_cgoleak; do
	if [ -x "$FIX/$g" ]; then
		start_target "$g" -r 2048 -t 120
		check "$g" "$REC"
		stop_target "$TPID"
	else
		skip "$g: not built (no Go toolchain)"
	fi
done

# python3: a list cache of strings (pymalloc arenas and the list's array)
if command -v python3 > /dev/null 2>&1; then
	start_cmd python3 python3 "$RW_TOP/fixtures/targets/runtimes/leak.py" -r 2048 -t 120
	check python3 "$REC"
	stop_target "$TPID"
else
	skip "python3 not installed"
fi

# node: an array of JSON strings (V8's heap pages). V8 keeps these strings in pieces
# (the shapes are '{"user_session":#,"token":"#' and '#","role":"viewer"}'), so the check is
# on the first piece.
if command -v node > /dev/null 2>&1; then
	start_cmd node node "$RW_TOP/fixtures/targets/runtimes/leak.js" -r 2048 -t 120
	check node '^\{"user_session":#,"token":"'
	stop_target "$TPID"
else
	skip "node not installed"
fi

done_testing
