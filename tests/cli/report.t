#!/bin/sh
# watch --report FILE.html against real processes: the page is written at the end with the
# chart, the fixture's growing row and the command line; it has no script and no external
# resource; it parses cleanly (our own strict checker, xmllint as XML, html5lib as HTML5);
# headless Chromium renders it and the chart is in the DOM and on the screenshot; the
# hostile-names fixture leaves no raw control byte, no invalid UTF-8, no markup of its own;
# a full disk leaves nothing (and the old report untouched). Packages that a case needs
# are installed by contrib/install-deps.sh; without them the case skips and says so.
. "$(dirname "$0")/../lib.sh"

PY=$(command -v python3 || true)
DEBPY=/usr/bin/python3      # Debian's python3-html5lib is for Debian's python3

# strict_check FILE: the page is UTF-8 with no control byte but \n and \t; every tag is one
# this report writes and every start tag is closed in order (void elements self-closed);
# every '<' and '&' in text is markup or an entity we write. Prints "ok" or the problem.
strict_check() {
	"$PY" - "$1" <<'EOF'
import sys, re
from html.parser import HTMLParser
raw = open(sys.argv[1], 'rb').read()
try:
    text = raw.decode('utf-8', 'strict')
except UnicodeDecodeError as e:
    print('invalid UTF-8:', e); sys.exit(0)
bad = [c for c in text if (ord(c) < 0x20 and c not in '\n\t') or 0x7f <= ord(c) <= 0x9f
       or c in '\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069']
if bad:
    print('control or bidi characters:', [hex(ord(c)) for c in bad[:5]]); sys.exit(0)
ALLOWED = set('html head meta title style body h1 h2 h3 table tr th td code span ul li p '
              'strong figure figcaption svg rect g line text polyline br pre'.split())
VOID = {'meta', 'br', 'rect', 'line', 'polyline'}
m = re.search(r'<(?![a-zA-Z/!])', text)
if m:
    print('a bare "<" at', m.start()); sys.exit(0)
m = re.search(r'&(?!(amp|lt|gt|quot|#39);)', text)
if m:
    print('a bare "&" at', m.start(), repr(text[m.start():m.start() + 12])); sys.exit(0)
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.err = [], None
    def fail(self, msg):
        if not self.err:
            self.err = '%s at line %d' % (msg, self.getpos()[0])
    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED: self.fail('unexpected tag <%s>' % tag)
        if tag in VOID: self.fail('<%s> not self-closed' % tag)
        else: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        if tag not in ALLOWED: self.fail('unexpected tag <%s/>' % tag)
        if tag not in VOID: self.fail('<%s/> self-closed' % tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.fail('</%s> closes %s' % (tag, self.stack[-1:] or 'nothing'))
        else: self.stack.pop()
    def handle_entityref(self, name):
        if name not in ('amp', 'lt', 'gt', 'quot'): self.fail('entity &%s;' % name)
p = P(); p.feed(text); p.close()
if not p.err and p.stack: p.err = 'unclosed: %s' % p.stack
if not p.err and not text.startswith('<!DOCTYPE html>\n'): p.err = 'no doctype'
print(p.err or 'ok')
EOF
}

# nonwhite PNG: "W H N C": size, pixels that are not white, pixels near the rows chart's
# second line colour (#0072B2, the anonymous/first-row blue); a PNG decoder of our own
# (zlib only), so no imaging package is needed.
png_stats() {
	"$PY" - "$1" <<'EOF'
import sys, struct, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w = 8, b'', 0
while pos < len(d):
    n, typ = struct.unpack('>I4s', d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n
    if typ == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        bpp = 3 if ctype == 2 else 4
    elif typ == b'IDAT':
        idat += body
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
nonwhite = blue = 0
i = 0
for y in range(h):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if r < 240 or g < 240 or bl < 240: nonwhite += 1
        if r < 60 and 80 < g < 150 and 140 < bl < 215: blue += 1
    prev = line
print(w, h, nonwhite, blue)
EOF
}

start_target grow_mmap -r 4096 -t 120
P=$TPID
area=$(printf '%x' "$TADDR")

# --- the report of a 20-sample watch -------------------------------------------------
"$RW" watch -p "$P" -i 0.2 -n 20 --report "$T/r.html" > "$T/w.out" 2> "$T/w.err"
is "$?" 0 "watch --report exits 0"
ok "the report is written at the end" test -s "$T/r.html"
is "$(ls -A "$T" | grep -c '^\.r\.html')" 0 "no temporary file left beside it"
is "$(stat -c %a "$T/r.html")" 600 "mode 0600 (it may hold strings from the target)"
R=$(cat "$T/r.html")
like "$R" '^<!DOCTYPE html>' "an HTML document"
like "$R" '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' "an inline SVG chart"
like "$R" '<polyline class="series" [^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,[0-9.]+' "the chart has a line of points"
like "$R" "<td class=\"mono addr\">$area-[0-9a-f]+</td><td>anon</td>" "the fixture's growing area is a row"
like "$R" "regionwatch watch -p $P -i 0.2 -n 20 --report $T/r.html" "the command line"
like "$R" '<th>samples</th><td>20</td>' "the sample count"
like "$R" '<th>start</th><td>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z</td>' "start time, UTC ISO 8601"
like "$R" "<th>host</th><td>$(uname -n)</td>" "host (uname nodename)"
like "$R" "<th>kernel</th><td>$(uname -r)</td>" "kernel (uname release)"
like "$R" 'hold \+[0-9.]+[KMG] of the process' "the share of growth the rows hold"
like "$R" '>[0-9.]+M</text>' "the byte axis is labelled in M"
like "$R" '>[0-9.]+s</text>' "the time axis is labelled in s"
is "$(grep -ciE '<script|javascript:|src=|href=|url\(|@import' "$T/r.html")" 0 "no script, no external resource"
is "$(grep -o 'http[s]*://[^"]*' "$T/r.html" | sort -u)" "http://www.w3.org/2000/svg" "the only URL is the SVG namespace"
size=$(stat -c %s "$T/r.html")
diag "report of a 20-sample watch: $size bytes"
ok "a modest file ($size bytes < 300 KiB)" test "$size" -lt 307200

# --- it parses cleanly ---------------------------------------------------------------
if [ -n "$PY" ]; then
	is "$(strict_check "$T/r.html")" ok "strict check: known tags, balanced, escaped, UTF-8"
else
	skip "strict check: python3 not installed (contrib/install-deps.sh)"
fi
if command -v xmllint > /dev/null 2>&1; then
	ok "well-formed XML (xmllint --noout)" xmllint --noout --nonet "$T/r.html"
else
	skip "xmllint not installed (Debian libxml2-utils; contrib/install-deps.sh)"
fi
if [ -x "$DEBPY" ] && "$DEBPY" -c 'import html5lib' 2> /dev/null; then
	ok "no HTML5 parse error (html5lib, strict)" "$DEBPY" -c '
import sys, html5lib
html5lib.HTMLParser(strict=True).parse(open(sys.argv[1], "rb").read())' "$T/r.html"
else
	skip "html5lib not installed (Debian python3-html5lib; contrib/install-deps.sh)"
fi

# --- headless Chromium renders it ----------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ] && [ -n "$PY" ]; then
	chrome() {
		timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$T/chrome" --window-size=1200,900 "$@" 2> "$T/chrome.err"
	}
	chrome --screenshot="$T/r.png" "file://$T/r.html" > /dev/null
	ok "chromium: a screenshot" test -s "$T/r.png"
	set -- $(png_stats "$T/r.png" 2> "$T/png.err")
	diag "screenshot: ${1:-?}x${2:-?}, ${3:-?} non-white pixels, ${4:-?} of the blue line"
	ok "the screenshot is 1200x900 and not blank (${3:-0} non-white pixels)" \
		test "${1:-0}" = 1200 -a "${2:-0}" = 900 -a "${3:-0}" -gt 20000
	ok "a chart line is drawn: ${4:-0} pixels of its blue" test "${4:-0}" -gt 300
	chrome --dump-dom "file://$T/r.html" > "$T/dom.html"
	like "$(cat "$T/dom.html")" '<svg[^>]*class="chart"' "chromium's DOM has the chart's svg"
	like "$(cat "$T/dom.html")" '<polyline class="series"[^>]*points="[0-9.]+,' "... and its polyline"
else
	skip "chromium (or python3) not installed: no render check (contrib/install-deps.sh)"
	skip "chromium: no screenshot"
	skip "chromium: no line pixels"
	skip "chromium: no DOM"
	skip "chromium: no polyline"
fi

# --- usage and errors ----------------------------------------------------------------
"$RW" watch -p "$P" -n 1 --report '' > /dev/null 2> "$T/e.err"
is "$?" 2 "--report '': usage error"
"$RW" watch -p "$P" -n 1 --report "$T/nodir/r.html" > /dev/null 2> "$T/e.err"
is "$?" 1 "a report in a missing directory: exit 1"
like "$(cat "$T/e.err")" "^regionwatch: watch: report $T/nodir/r.html: .*No such file or directory$" \
	"the one-line error names the path and the reason"
is "$(wc -l < "$T/e.err")" 1 "one line"

# A full disk: exit 1, the reason, the old report untouched, no temporary file left.
mkdir "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k tmpfs "$T/full" 2> /dev/null; then
	MOUNTS="$T/full"
	echo old > "$T/full/r.html"
	dd if=/dev/zero of="$T/full/filler" bs=4k 2> /dev/null
	"$RW" watch -p "$P" -i 0.2 -n 3 --report "$T/full/r.html" > /dev/null 2> "$T/err"
	is "$?" 1 "full disk: exit 1"
	like "$(cat "$T/err")" "report $T/full/r.html: writing: No space left on device" \
		"full disk: names the path and says so"
	is "$(cat "$T/full/r.html")" old "full disk: the old report is untouched"
	is "$(ls -A "$T/full" | sort | tr '\n' ' ')" "filler r.html " "full disk: no temporary file left"
	umount "$T/full"; MOUNTS=""
else
	skip "full-disk case not run: needs root to mount a small tmpfs"
	skip "full disk: reason"
	skip "full disk: old report"
	skip "full disk: no temp"
fi
stop_target "$P"

# --- hostile names: nothing raw reaches the page ---------------------------------------
start_target hostile_names -t 120
H=$TPID
"$RW" watch -p "$H" -i 0.2 -n 3 --top 100 --report "$T/h.html" > /dev/null 2> "$T/h.err"
is "$?" 0 "hostile names: watch --report exits 0"
like "$(cat "$T/h.html")" 'esc-\\x1b\[31m-red' "ESC in a path is shown as \\x1b"
like "$(cat "$T/h.html")" 'bad-\\xff\\xfe\\xc3\(-x' "invalid UTF-8 as \\xNN"
like "$(cat "$T/h.html")" 'rlo-\\u202etxt\.exe' "a bidi override as \\u202e"
like "$(cat "$T/h.html")" '\(rw\\x1b\[7mname\)</h1>' "the comm, escaped, in the title"
is "$(perl -ne '$n++ if /[\x00-\x08\x0b-\x1f\x7f]/; END { print $n // 0 }' "$T/h.html")" 0 \
	"no raw control byte"
if [ -n "$PY" ]; then
	is "$(strict_check "$T/h.html")" ok "strict check: UTF-8, no C1 or bidi character, no markup of the target's"
else
	skip "strict check: python3 not installed"
fi
stop_target "$H"

# Markup in a name: the executable (so comm and a mapping path) named <b>&x'"
mkdir "$T/m"
cp "$FIX/grow_brk" "$T/m/<b>&x'\""
"$T/m/<b>&x'\"" -t 120 > "$T/m.ready" 2> /dev/null &
M=$!
PIDS="$PIDS $M"
i=0
while ! grep -q '^ready' "$T/m.ready" 2> /dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
"$RW" watch -p "$M" -i 0.2 -n 3 --top 100 --report "$T/m.html" > /dev/null 2> "$T/m.err"
is "$?" 0 "markup in names: watch --report exits 0"
like "$(cat "$T/m.html")" "/m/&lt;b&gt;&amp;x&#39;&quot;</td>" "the path's markup is escaped"
like "$(cat "$T/m.html")" "\\(&lt;b&gt;&amp;x&#39;&quot;\\)</h1>" "the comm's markup is escaped"
if [ -n "$PY" ]; then
	is "$(strict_check "$T/m.html")" ok "strict check: no markup of the target's"
else
	skip "strict check: python3 not installed"
fi
stop_target "$M"

done_testing
