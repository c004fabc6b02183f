# tests/lib.sh: TAP helpers for shell tests of the real binary against real processes.
# Sourced by tests/cli/*.t. Every process a test starts is killed by the EXIT trap.
set -u
RW_TOP=${RW_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RW=${RW_BIN:-$RW_TOP/regionwatch}
FIX=${RW_BUILD:-$RW_TOP/build}/fixtures
T=$(mktemp -d "${TMPDIR:-/tmp}/rwtest.XXXXXX")
PIDS=""
MOUNTS=""
t_n=0
t_failed=0

t_cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap t_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

t_result() { # PASS(0/1) DESC
	t_n=$((t_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $t_n - $2"
	else
		echo "not ok $t_n - $2"
		t_failed=$((t_failed + 1))
	fi
}

ok() { # DESC CMD... : passes when CMD exits 0
	d=$1; shift
	if "$@"; then t_result 0 "$d"; else t_result 1 "$d"; fi
}

is() { # GOT WANT DESC
	if [ "$1" = "$2" ]; then t_result 0 "$3"; else
		t_result 1 "$3"; echo "#   got '$1', want '$2'"; fi
}

like() { # GOT ERE DESC
	if printf '%s' "$1" | grep -Eq -- "$2"; then t_result 0 "$3"; else
		t_result 1 "$3"; printf '#   got: %s\n#   want match: %s\n' "$1" "$2" | head -20; fi
}

diag() { echo "# $*"; }

# skip REASON: a case that needs a privilege, a tool or a kernel feature this machine lacks;
# prove counts and reports it (TAP "ok N # skip").
skip() { t_n=$((t_n + 1)); echo "ok $t_n # skip $*"; }

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

done_testing() {
	echo "1..$t_n"
	[ "$t_failed" = 0 ]
	exit $?
}

# start_cmd NAME CMD [ARGS...]: start a program that prints a fixture's "ready pid=N ..."
# line (a fixture, a copy of one, an interpreter's script) and wait for that line. Sets
# TPID (from the line: an interpreter may run behind a shim) and READY. Fails the test
# file if it never gets ready (or exits first).
start_cmd() {
	name=$1; shift
	out="$T/ready.$$.$t_n.$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.' '_')"
	"$@" > "$out" 2>"$out.err" &
	sp=$!
	PIDS="$PIDS $sp"
	i=0
	while ! grep -q '^ready' "$out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$sp" 2>/dev/null; then
			echo "Bail out! $name did not get ready: $(cat "$out.err")"
			exit 1
		fi
		sleep 0.05
	done
	READY=$(grep -m1 '^ready' "$out")
	TPID=$(ready_field pid)
	[ "$TPID" = "$sp" ] || PIDS="$PIDS $TPID"
}

# start_target NAME [ARGS...]: start the fixture NAME (start_cmd); also sets TADDR.
start_target() {
	start_cmd "$1" "$FIX/$@"
	TADDR=$(ready_field addr)
}

ready_field() { # KEY -> value from READY
	printf '%s\n' "$READY" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

stop_target() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }

# json_get FILE PERL-EXPR: evaluate an expression on the decoded document $d.
json_get() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $d = decode_json(<$f>);
		my $r = eval $ARGV[1]; die $@ if $@; print defined $r ? $r : "null"' "$1" "$2"
}

# The target's state letter from /proc/PID/stat (R, S, t, T, Z ...).
proc_state() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1; }

# free_port [ADDR]: a TCP port free at ADDR (default 127.0.0.1), by binding port 0 there (the
# kernel picks one nobody holds) and letting it go. Another process can still take it before
# the caller binds it: servers started on it are checked to have come up (see serve).
free_port() {
	perl -MIO::Socket::IP -e 'my $s = IO::Socket::IP->new(LocalHost => $ARGV[0],
		LocalPort => 0, Listen => 1, ReuseAddr => 0) or exit 1; print $s->sockport' \
		"${1:-127.0.0.1}"
}

# serve FUNC LOG PATH: start the server FUNC (a function that execs it on 127.0.0.1:$SPORT,
# logging to LOG) on a free port and wait until GET http://127.0.0.1:$SPORT/PATH answers 2xx
# (30 s at most). Another free port is tried (3 in all) when LOG says the address was taken.
# Sets SPORT and SPID (in PIDS: killed on exit). Returns 1 when it never came up. Needs curl.
serve() {
	for s_try in 1 2 3; do
		SPORT=$(free_port) || return 1
		"$1" &
		SPID=$!
		PIDS="$PIDS $SPID"
		s_n=0
		while kill -0 "$SPID" 2>/dev/null && [ $s_n -lt 300 ]; do
			curl -sf -m 5 -o /dev/null "http://127.0.0.1:$SPORT$3" && return 0
			sleep 0.1
			s_n=$((s_n + 1))
		done
		kill -9 "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		grep -qi 'address already in use' "$2" || return 1
	done
	return 1
}
