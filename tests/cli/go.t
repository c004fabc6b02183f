#!/bin/sh
# Go programs: the version from the build info, the goroutine count from runtime.allglen
# (one word, from a present page), a stripped binary said so, and in words whether the Go
# heap or native memory grows.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$FIX/go_leak" ]; then
	skip "Go fixture not built (no Go toolchain)"
	done_testing
fi
start_target go_leak -r 2048 -g 50 -t 120
"$RW" watch -p "$TPID" -i 0.5 -n 6 --json > "$T/go.json" 2>/dev/null
tail -1 "$T/go.json" > "$T/sum.json"
like "$(json_get "$T/sum.json" '$d->{go}{version}')" '^go1\.[0-9]+' "Go: the version from the build info"
is "$(json_get "$T/sum.json" '$d->{go}{stripped} ? 1 : 0')" 0 "Go: not stripped"
ok "Go: a goroutine leak shows as a rising count ($(json_get "$T/sum.json" '$d->{go}{goroutines_first}') -> $(json_get "$T/sum.json" '$d->{go}{goroutines}'))" \
	test "$(json_get "$T/sum.json" '$d->{go}{goroutines} - $d->{go}{goroutines_first} >= 50 ? 1 : 0')" = 1
like "$(json_get "$T/sum.json" '$d->{go}{verdict}')" '^Go heap \+[0-9.]+[KM]/s, glibc malloc flat: the Go heap grows' \
	"Go: says the Go heap grows, not native memory"
"$RW" watch -p "$TPID" -i 0.5 -n 4 > "$T/go.txt" 2>&1
like "$(cat "$T/go.txt")" "Go go1\\.[0-9.]+, [0-9]+ goroutines \\(\\+[0-9]+ since the first sample\\); Go heap" \
	"Go: the text says it too"
stop_target "$TPID"

# cgo: C memory leaked through C.CBytes (as C.CString does): native memory grows, the
# Go heap does not (or much less), and the verdict says so.
if [ -x "$FIX/go_cgoleak" ]; then
	start_target go_cgoleak -r 2048 -t 120
	"$RW" watch -p "$TPID" -i 0.5 -n 6 --json 2>/dev/null | tail -1 > "$T/sum.json"
	like "$(json_get "$T/sum.json" '$d->{go}{verdict}')" 'glibc malloc \+[0-9.]+[KM]/s: (mostly )?native \(cgo/C\) memory, which Go.s pprof does not see' \
		"cgo leak: says native memory grows, which pprof does not see"
	like "$(json_get "$T/sum.json" '$d->{areas}[0]{pool} // $d->{areas}[0]{kind}')" '^(malloc|heap|glibc-arena)$' \
		"cgo leak: the first row is glibc malloc"
	stop_target "$TPID"
else
	skip "cgo fixture not built"
fi

# A stripped copy: no symbol table, so no goroutine count, and it says so.
if command -v strip > /dev/null 2>&1; then
	strip -o "$T/go_stripped" "$FIX/go_leak"
	"$T/go_stripped" -r 1024 -t 60 > "$T/gs.out" &
	TPID=$!; PIDS="$PIDS $TPID"
	i=0; until grep -q '^ready' "$T/gs.out" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
	"$RW" watch -p "$TPID" -i 0.3 -n 3 --json 2>/dev/null | tail -1 > "$T/sum.json"
	is "$(json_get "$T/sum.json" '$d->{go}{stripped} ? 1 : 0')" 1 "stripped Go binary: said so"
	is "$(json_get "$T/sum.json" '$d->{go}{goroutines}')" null "... and no goroutine count"
	stop_target "$TPID"
else
	skip "no strip(1)"
fi

# Not Go: no Go block.
start_target grow_brk -r 1024 -t 60
"$RW" watch -p "$TPID" -i 0.3 -n 2 --json 2>/dev/null | tail -1 > "$T/sum.json"
is "$(json_get "$T/sum.json" '$d->{go}')" null "a C program: go is null"
stop_target "$TPID"
done_testing
