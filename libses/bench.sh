#!/usr/bin/env bash
# The cost of one entitlement check, all against the same local ses server
# and with the same token, in one run: in-process through libses (one
# handle, and a handle per check), beside `ses client` run as a process per
# check, beside curl doing the same POST, the baseline of a process that
# only speaks HTTPS.
#
#   bench.sh [N]    N checks of each kind (default 200)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
n=${1:-200}
work=$(mktemp -d)
# shellcheck source=test/server.sh
. test/server.sh
trap 'stop_server; rm -rf "$work"' EXIT

make -s static
cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude test/bench.c -L. -lses -lpthread -o "$work/bench"
start_server

# per NAME COMMAND...: runs COMMAND n times and prints the mean time.
per() {
	local name=$1 t0 t1 i
	shift
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null || fail "$name failed"
	done
	t1=$(date +%s%N)
	awk -v name="$name" -v n="$n" -v ns="$((t1 - t0))" 'BEGIN { printf "%-42s %4d checks  %8.3f ms/check\n", name, n, ns / n / 1e6 }'
}

body="{\"token\":\"$SES_TEST_TOKEN\",\"applicationId\":\"contosoapp\"}"
post() {
	curl -sS --fail --cacert "$SES_TEST_CA" -X POST -H 'Content-Type: application/json; odata=minimalmetadata' \
		-d "$body" "$SES_TEST_URL/softwareEntitlements?api-version=2017-09-01.6.0"
}
post | grep -q '"id":"entitlement-' || fail "curl got no entitlement"

echo "one entitlement check against ses server on loopback ($(nproc) cores), same token throughout:"
"$work/bench" "$n"
per "ses client, a process per check" "$work/ses" client --dev --url "$SES_TEST_URL" --token "$SES_TEST_TOKEN" --app contosoapp
per "curl, a process per check (baseline)" post
