# Sourced by test.sh and bench.sh: start_server builds ses, starts
# `ses server` on a loopback port in $work with its own store, and exports
# what the test programs read: SES_TEST_URL, SES_TEST_TOKEN (for
# contosoapp), SES_TEST_CA (the development root), SES_TEST_PIN and
# SES_TEST_CN (the development intermediate). stop_server ends it.
server_pid=

start_server() {
	CGO_ENABLED=0 go build -o "$work/ses" "$root"
	export SES_HOME="$work/store"
	"$work/ses" server --url https://127.0.0.1:0 --log-file "$work/server.log" --log-format json >"$work/server.out" 2>&1 &
	server_pid=$!
	for _ in $(seq 600); do
		grep -q '"message":"server started"' "$work/server.log" 2>/dev/null && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.out" >&2; fail "the server did not start"; }
		sleep 0.1
	done
	SES_TEST_URL=$(grep '"message":"server started"' "$work/server.log" | grep -o '"url":"[^"]*"' | cut -d'"' -f4)
	[ -n "$SES_TEST_URL" ] || fail "no URL in the server's log"
	SES_TEST_CN="ses development intermediate CA"
	SES_TEST_PIN=$("$work/ses" certs list --show all | awk -v cn="$SES_TEST_CN" 'index($0, cn) {print $1}')
	SES_TEST_TOKEN=$("$work/ses" token --app contosoapp)
	SES_TEST_CA="$SES_HOME/dev/root.pem"
	export SES_TEST_URL SES_TEST_CN SES_TEST_PIN SES_TEST_TOKEN SES_TEST_CA
}

stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
