#!/bin/sh
# Install every Debian package that building, testing and benchmarking regionwatch needs.
# Idempotent and quiet: when everything is installed it prints nothing and exits 0.
set -eu

PKGS="make gcc libc6-dev pkg-config clang libclang-rt-14-dev
libunwind-dev libpcre2-dev libncurses-dev libjansson-dev libxxhash-dev libmicrohttpd-dev
golang-go tmux strace gdb procps perl bsdextrautils binutils util-linux hyperfine time
curl prometheus prometheus-node-exporter
python3 libxml2-utils python3-html5lib chromium fonts-dejavu-core"
# curl and the Prometheus packages are for tests/cli/prometheus.t (promtool, a real server,
# node_exporter's textfile collector). The last line is for tests/cli/report.t (watch
# --report): python3 for its strict checker and PNG reader, xmllint and html5lib to parse
# the page, headless Chromium to render it (about 120 MB to fetch; 19 s to install on a
# 2-core machine), and a font to render with.

# One dpkg-query for all: names of the packages that are fully installed.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PKGS 2>/dev/null |
	awk '$1 == "ii" { print $2 }') || true
missing=""
for p in $PKGS; do
	case " $(echo $installed) " in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run 'sudo contrib/install-deps.sh' (or install them yourself)" >&2
	exit 1
fi
echo "install-deps: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# prometheus and prometheus-node-exporter start their daemons on install (on 0.0.0.0:9090 and
# :9100, under systemd or sysvinit). The tests run their own on free loopback ports and want
# none of these: while installing, a policy-rc.d (which invoke-rc.d and deb-systemd-invoke
# both ask) refuses to start them. A machine's own policy-rc.d is left as it is.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap 'rm -f "$policy"' EXIT
	trap 'exit 130' INT TERM
	cat > "$policy" <<'EOF'
#!/bin/sh
# written by regionwatch's contrib/install-deps.sh while it installs; removed after
case "$1" in
prometheus | prometheus.service | prometheus-node-exporter*) exit 101 ;;
esac
exit 0
EOF
	chmod 755 "$policy"
fi
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
	apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done" >&2
