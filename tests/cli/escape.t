#!/bin/sh
# Bytes from the target are hostile input: mapping names, thread names and memory content
# that a terminal would act on (C0 controls, DEL, raw 0x80-0x9f, UTF-8 C1 controls, invalid
# UTF-8, bidi overrides) must be escaped in every text output, JSON must be valid UTF-8, and
# files keep the kernel's bytes verbatim.
. "$(dirname "$0")/../lib.sh"

# safe FILE: valid UTF-8 with no C0 control but newline/tab/CR, no DEL, no C1, no bidi control.
safe() {
	perl -e 'local $/; open my $f, "<:raw", $ARGV[0] or die; my $b = <$f>;
		utf8::decode($b) or do { print "# not valid UTF-8\n"; exit 1 };
		if ($b =~ /([\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{61c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}])/) {
			printf "# unsafe U+%04X at offset %d\n", ord($1), $-[0]; exit 1 }
		exit 0' "$1"
}

start_target hostile_names -t 120
pid=$TPID
addr=$TADDR
files=$(ready_field files)
is "$(grep -c rw-hostile "/proc/$pid/maps")" "$files" "fixture maps its $files hostile-named files"

# A check of the checker: the raw maps text is unsafe, so safe() can fail.
cat "/proc/$pid/maps" > "$T/raw"
if safe "$T/raw" > /dev/null; then t_result 1 "the checker rejects the raw maps text"; else t_result 0 "the checker rejects the raw maps text"; fi

"$RW" watch -p "$pid" -n 2 -i 0.2 --top 100 > "$T/watch.txt" 2>&1
ok "watch text: every hostile name escaped" safe "$T/watch.txt"
like "$(cat "$T/watch.txt")" 'rlo-\\u202etxt\.exe' "watch text: U+202E shown as \\u202e"
like "$(cat "$T/watch.txt")" 'csi8-\\x9b2J' "watch text: raw 0x9b shown as \\x9b"
like "$(cat "$T/watch.txt")" 'rw\\x1b\[7mname' "watch text: the comm's ESC shown as \\x1b"

"$RW" snap -p "$pid" -o "$T/a.snap" && "$RW" snap -p "$pid" -o "$T/b.snap"
ok "snap to a file keeps the kernel's bytes verbatim" grep -q "$(printf 'esc-\033\\[31m-red')" "$T/a.snap"
"$RW" diff --all "$T/a.snap" "$T/b.snap" > "$T/diff.txt" 2>&1
ok "diff text: every hostile name escaped" safe "$T/diff.txt"
like "$(cat "$T/diff.txt")" 'c1-\\u009b2J' "diff text: U+009B shown as \\u009b"
like "$(cat "$T/diff.txt")" 'bad-\\xff\\xfe\\xc3\(' "diff text: invalid UTF-8 shown as \\xNN"
"$RW" diff --json --all "$T/a.snap" "$T/b.snap" > "$T/diff.json"
ok "diff --json: valid UTF-8, no raw control" safe "$T/diff.json"
is "$(json_get "$T/diff.json" 'scalar grep { $_->{path} =~ /rw-hostile/ } @{$d->{regions}}')" "$files" \
	"diff --json: all hostile-named regions present"

if command -v script > /dev/null 2>&1; then
	script -qc "$RW snap -p $pid" /dev/null > "$T/tty.txt" 2>&1
	ok "snap to a terminal: the text is escaped" safe "$T/tty.txt"
	like "$(cat "$T/tty.txt")" 'esc-\\x1b\[31m-red' "snap to a terminal: ESC shown as \\x1b"
else
	skip "snap to a terminal not checked: no script(1)"
fi

"$RW" stacks -p "$pid" > "$T/stacks.txt" 2>&1
ok "stacks text and messages: the thread name escaped" safe "$T/stacks.txt"
"$RW" stacks -p "$pid" --json > "$T/stacks.json" 2>/dev/null
ok "stacks --json: valid UTF-8, no raw control" safe "$T/stacks.json"

"$RW" dump -p "$pid" --region "$addr" --strings --grep 'MARK.*END' --top 5 > "$T/dump.txt" 2>&1
ok "dump --strings --grep --top: content escaped" safe "$T/dump.txt"
like "$(cat "$T/dump.txt")" 'MARK\\x1b\[2J\\x9b\\u009b\\u202eEND' "dump --grep: the match shown escaped"
"$RW" dump -p "$pid" --region "$addr" --grep 'MARK.*END' --top 5 --json > "$T/dump.json" 2>/dev/null
ok "dump --json: valid UTF-8, no raw control" safe "$T/dump.json"
"$RW" dump -p "$pid" --region "$addr" --hexdump > "$T/hex.txt" 2>&1
ok "dump --hexdump: content shown as dots" safe "$T/hex.txt"

stop_target "$pid"
done_testing
