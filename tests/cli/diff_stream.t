#!/bin/sh
# diff reads its inputs as streams: pipes, fifos and devices are read in pieces, never whole,
# and refused at the input limit; a cut-short snapshot fails without claiming success.
. "$(dirname "$0")/../lib.sh"
G="$RW_TOP/contrib/bench/gen_smaps.sh"
sh "$G" 3000 a > "$T/a.snap"
sh "$G" 3000 b > "$T/b.snap"
"$RW" diff --all "$T/a.snap" "$T/b.snap" > "$T/want" 2> /dev/null
is "$?" 0 "synthetic pair: diff of the files"

cat "$T/a.snap" | "$RW" diff --all - "$T/b.snap" > "$T/got" 2> "$T/err"
is "$?" 0 "A from a pipe"
tail -n +3 "$T/got" > "$T/got.rows"
ok "... the same table as from the file" sh -c "tail -n +3 '$T/want' | cmp -s - '$T/got.rows'"
mkfifo "$T/fifo"
cat "$T/b.snap" > "$T/fifo" &
"$RW" diff --all "$T/a.snap" "$T/fifo" > "$T/got" 2> "$T/err"
is "$?" 0 "B from a fifo"
wait
tail -n +3 "$T/got" > "$T/got.rows"
ok "... the same table as from the file" sh -c "tail -n +3 '$T/want' | cmp -s - '$T/got.rows'"
cat "$T/b.snap" > "$T/fifo" &
"$RW" diff --json --sort addr --all "$T/a.snap" "$T/fifo" > "$T/j" 2> "$T/err"
is "$?" 0 "--json --sort addr (rows written as they are made) from a fifo"
wait
is "$(json_get "$T/j" 'scalar @{$d->{regions}}')" "$(grep -c '^[a-z]* *7f' "$T/want")" "... every row"
is "$(json_get "$T/j" '$d->{a}{regions} . " -> " . $d->{b}{regions}')" \
	"$(awk '$1 == "vmas" { print $2, $3, $4 }' "$T/want")" "... the region counts of both inputs, as in the table"
# each input is a stream: the limit applies to what is read, not to a size up front
REGIONWATCH_INPUT_LIMIT=64K "$RW" diff "$T/a.snap" - < /dev/null > /dev/null 2> "$T/err"
is "$?" 1 "a file over REGIONWATCH_INPUT_LIMIT: exit 1"
like "$(cat "$T/err")" "a\\.snap: more than 65536 bytes of input: refused" "... named, with the limit"
sh "$G" 100 a > "$T/small.snap"
cat "$T/b.snap" | REGIONWATCH_INPUT_LIMIT=64K "$RW" diff "$T/small.snap" - > "$T/out" 2> "$T/err"
is "$?" 1 "a pipe over the limit: exit 1"
is "$(wc -l < "$T/err")" 1 "... one line"
like "$(cat "$T/err")" "^regionwatch: diff: -: more than 65536 bytes of input: refused" "... names stdin and the limit"
is "$(wc -c < "$T/out")" 0 "... and no table"
"$RW" diff "$T/a.snap" /dev/zero > /dev/null 2> "$T/err"
is "$?" 1 "/dev/zero (a character device): exit 1"
like "$(cat "$T/err")" "/dev/zero: line 1: binary data" "... refused at line 1 as binary data"
yes '' | head -c 3000000 | REGIONWATCH_INPUT_LIMIT=2M "$RW" diff "$T/a.snap" - > /dev/null 2> "$T/err"
is "$?" 1 "3 MB of blank lines from a pipe, limit 2M: exit 1"
like "$(cat "$T/err")" "-: more than 2097152 bytes of input: refused" "... refused at the limit, not read to the end"
# cut short: the closing '# end' line is missing
head -n 9000 "$T/b.snap" > "$T/cut.snap"
for mode in "" "--json" "--json --sort addr"; do
	"$RW" diff $mode "$T/a.snap" "$T/cut.snap" > "$T/out" 2> "$T/err"
	is "$?" 1 "cut-short file, diff $mode: exit 1"
	like "$(cat "$T/err")" "cut\\.snap: line 9000: snapshot cut short" "... names its last line"
	is "$(wc -c < "$T/out")" 0 "... before any output"
done
cat "$T/cut.snap" | "$RW" diff --json --sort addr "$T/a.snap" - > "$T/out" 2> "$T/err"
is "$?" 1 "cut-short pipe, rows written as made: exit 1"
like "$(cat "$T/err")" "-: line 9000: snapshot cut short" "... the error is printed"
ok "... and the document is left unclosed (not valid JSON)" sh -c "! perl -MJSON::PP -e 'local \$/; decode_json(<STDIN>)' < '$T/out' 2>/dev/null"
done_testing
