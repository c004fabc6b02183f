# tests/ui/tmux.sh: the monitor in a real terminal, for tests/ui/*.t (sourced after
# ../lib.sh): tmux on a private socket, send-keys, capture-pane, and waits with deadlines.
command -v tmux > /dev/null || skip_all "tmux not installed"

# A fresh server socket per session: a new server on a socket whose old server is still
# shutting down fails with "server exited unexpectedly".
nsock=0
SOCKS=""
SOCK=""
TM() { tmux -L "$SOCK" "$@"; }
new_session() { # CMD [COLUMNS LINES]: a detached session (80x24 unless given) running CMD
	nsock=$((nsock + 1))
	SOCK="rwui$$-$nsock"
	SOCKS="$SOCKS $SOCK"
	TM new-session -d -x "${2:-80}" -y "${3:-24}" "$1"
}
cleanup_tmux() { for s in $SOCKS; do tmux -L "$s" kill-server 2>/dev/null; done; }
trap 'cleanup_tmux; t_cleanup' EXIT
screen() { TM capture-pane -p; }
wait_match() { # FUNCTION ERE SECONDS: until FUNCTION's output matches ERE
	i=0
	while ! "$1" | grep -Eq -- "$2"; do
		i=$((i + 1))
		[ $i -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}
wait_for() { wait_match screen "$1" "$2"; } # ERE SECONDS: until the screen matches
# q, then the checks every monitor session ends with: exit status 0, the terminal restored
# (its session command prints the stty line after EXIT=), no thread of the target traced,
# the target not stopped; then the session's server goes.
quit_and_check() { # PID
	TM send-keys q
	ok "q quits" wait_for "^EXIT=" 10
	like "$(screen | grep '^EXIT=')" "^EXIT=0\$" "exit status 0"
	like "$(screen | grep -A1 '^EXIT=' | tail -1)" "^icanon echo ?\$" "terminal restored (icanon and echo on)"
	is "$(grep -h TracerPid /proc/$1/task/*/status | grep -vc 'TracerPid:[[:space:]]*0$')" 0 "no thread of the target traced"
	like "$(proc_state "$1")" "^[RSD]$" "the target runs on (not stopped)"
	TM kill-server
}
