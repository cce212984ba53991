#!/usr/bin/env bash
# The figures of the release binary that no Go benchmark can take, each
# beside its baseline or limit, from one run:
#
#   - `ses client` checking against a local `ses server`, whole process,
#     beside curl making the same POST (hyperfine, median of 10 runs);
#   - what its package initialisation takes (GODEBUG=inittrace=1), in all
#     and the slowest three packages;
#   - the size of the release binary (the release build's flags);
#   - the resident memory of `ses server` once started and idle.
#
# Needs hyperfine and curl (apt-get install hyperfine curl). Run from
# anywhere: bash bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine curl; do
	command -v "$tool" >/dev/null || { echo "bench/startup.sh needs $tool (apt-get install $tool)" >&2; exit 2; }
done
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/ses" .
size=$(stat -c %s "$work/ses")
echo "release binary: $size bytes ($(awk "BEGIN {printf \"%.1f\", $size / 1048576}") MiB; limit 15 MB)"

export SES_HOME="$work/home"
"$work/ses" server --url https://127.0.0.1:0 >"$work/server.out" 2>&1 &
server=$!
for _ in $(seq 100); do
	grep -q 'listening on' "$work/server.out" && break
	sleep 0.1
done
url=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/server.out" | head -1)
sleep 2 # idle
echo "idle ses server: $(awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$server/status") resident (limit 20 MB)"

"$work/ses" token --app contosoapp >"$work/token"
printf '{"token":"%s","applicationId":"contosoapp"}' "$(cat "$work/token")" >"$work/body.json"
hyperfine -N --warmup 3 --runs 10 --export-json "$work/times.json" \
	-n curl "curl -sf --cacert $SES_HOME/dev/root.pem -X POST $url/softwareEntitlements?api-version=2017-09-01.6.0 -H Content-Type:application/json -d @$work/body.json" \
	-n "ses client" "$work/ses client --url $url --dev --app contosoapp --token-file $work/token" >/dev/null
grep -o '"median": *[0-9.e-]*' "$work/times.json" | grep -o '[0-9.e-]*$' |
	awk 'NR == 1 {c = $1} NR == 2 {s = $1} END {printf "start-up, median of 10: ses client %.1f ms, curl %.1f ms: %.2fx curl (goal 1.2x)\n", s * 1000, c * 1000, s / c}'
GODEBUG=inittrace=1 "$work/ses" client --url "$url" --dev --app contosoapp --token-file "$work/token" 2>&1 >/dev/null |
	awk '/^init / {n++; t += $5; a += $8; line[n] = sprintf("%s %s ms", $2, $5); ms[n] = $5}
	END {
		printf "ses client package init: %.2f ms, %d bytes in %d packages; slowest:", t, a, n
		for (k = 0; k < 3; k++) { m = 0; for (i = 1; i <= n; i++) if (ms[i] > ms[m]) m = i; printf " %s", line[m]; ms[m] = -1 }
		print ""
	}'
