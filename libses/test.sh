#!/usr/bin/env bash
# The libses tests: builds libses.a and libses.so, the examples and the test
# programs against each, starts a `ses server` on loopback, and checks what
# every call comes to, that no token reaches a server the client refuses, 16
# threads at once, leases, a leak check under valgrind, the Python ctypes
# example, and the pkg-config and CMake packages.
#
# Needs go, cc, c++, make, valgrind, python3, pkg-config and cmake.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
root=$(cd .. && pwd)
work=$(mktemp -d)
start=$SECONDS
# shellcheck source=test/server.sh
. test/server.sh

cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT

step() { echo "== libses: $* (at $((SECONDS - start)) s)"; }

# expect CODE NAME COMMAND...: COMMAND must exit with CODE.
expect() {
	local want=$1 name=$2 got=0
	shift 2
	"$@" >"$work/last.out" 2>&1 || got=$?
	if [ "$got" != "$want" ]; then
		cat "$work/last.out" >&2
		fail "$name: exit $got, want $want"
	fi
	echo "ok   $name (exit $got)"
}

requests() { grep -c '"message":"request"' "$work/server.log" || true; }

# refused NAME APP COMMAND...: COMMAND, asking for APP, must exit 3 (the C
# API) or 1 (the C++ interface throws) and the server must not have seen a
# request: its log has no new request line, and none for APP (checked again
# at the end, once later requests are logged).
refused=()
refused() {
	local name=$1 app=$2 want=3 before
	shift 2
	case $1 in *refapp*) want=1 ;; esac
	before=$(requests)
	expect "$want" "$name" "$@"
	[ "$(requests)" = "$before" ] || fail "$name: the server saw a request"
	refused+=("$app")
}

step "build"
make -s libs pkgfiles
warn=(-Wall -Wextra -Werror -Iinclude)
for kind in static shared; do
	if [ $kind = static ]; then link=(-L. -lses -lpthread); else link=(-Lshared -lses -Wl,-rpath,"$here/shared"); fi
	cc -std=c99 "${warn[@]}" test/scenarios.c "${link[@]}" -o "$work/scenarios-$kind"
	cc -std=c99 "${warn[@]}" examples/check.c "${link[@]}" -o "$work/check-$kind"
	c++ -std=c++11 "${warn[@]}" examples/check.cpp "${link[@]}" -o "$work/check-cpp-$kind"
	c++ -std=c++11 "${warn[@]}" test/threads.cpp "${link[@]}" -pthread -o "$work/threads-$kind"
	c++ -std=c++11 "${warn[@]}" test/refapp.cpp "${link[@]}" -o "$work/refapp-$kind"
done
# The reference SDK's program, built with the one-line command of the README.
(cd "$root" && g++ libses/test/refapp.cpp -Ilibses/include -Llibses -lses -lpthread -o "$work/refapp")
if readelf -d "$work/refapp" | grep -q 'libses'; then fail "refapp needs libses.so; it should hold libses.a"; fi
readelf -d "$work/refapp-shared" | grep -q 'NEEDED.*libses.so' || fail "refapp-shared does not load libses.so"
expect 0 "version" "$work/scenarios-static" version

step "ses server on loopback"
start_server
url=$SES_TEST_URL token=$SES_TEST_TOKEN pin=$SES_TEST_PIN cn=$SES_TEST_CN
echo "server $url, pin $pin"

for kind in static shared; do
	step "C API ($kind)"
	s="$work/scenarios-$kind"
	expect 0 "entitled" "$s" entitled
	expect 1 "denied" "$s" denied
	for how in no-pin wrong-pin wrong-cn host-not-allowed untrusted-root; do
		refused "untrusted: $how" "refused-$how-$kind" "$s" untrusted "$how" "refused-$how-$kind"
	done
	expect 4 "unreachable" "$s" unreachable
	expect 2 "bad arguments" "$s" bad-arguments
	expect 0 "the Batch variables" "$s" environment
	expect 0 "acquire, renew, release" "$s" lease
	expect 0 "parse an answer" "$s" parse
	expect 0 "16 threads at once" "$s" threads

	step "C example ($kind)"
	AZ_BATCH_ACCOUNT_URL=$url AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN=$token \
		expect 0 "entitled, lease held" "$work/check-$kind" contosoapp "$SES_TEST_CA" "$pin" "$cn"
	grep -q '^released' "$work/last.out" || fail "the C example did not release its lease"
	AZ_BATCH_ACCOUNT_URL=$url AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN=$token \
		expect 1 "denied" "$work/check-$kind" otherapp "$SES_TEST_CA" "$pin" "$cn"
	AZ_BATCH_ACCOUNT_URL=$url AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN=$token \
		refused "untrusted: wrong pin" "refused-example-$kind" "$work/check-$kind" "refused-example-$kind" "$SES_TEST_CA" 0011223344556677889900112233445566778899 "$cn"

	step "C++ interface ($kind)"
	export SSL_CERT_FILE=$SES_TEST_CA
	expect 0 "entitled, lease held" "$work/check-cpp-$kind" "$url" "$token" contosoapp "$pin" "$cn"
	ref="$work/refapp-$kind"
	[ $kind = static ] && ref="$work/refapp"
	expect 0 "reference program: entitled" "$ref" "$url" "$token" contosoapp "$pin" "$cn"
	grep -Eq '^entitled entitlement-[0-9a-f-]+ [0-9a-f-]+$' "$work/last.out" || fail "no id and vmid: $(cat "$work/last.out")"
	expect 1 "reference program: denied" "$ref" "$url" "$token" otherapp "$pin" "$cn"
	refused "reference program: no pin" "refused-cpp-none-$kind" "$ref" "$url" "$token" "refused-cpp-none-$kind"
	refused "reference program: wrong pin" "refused-cpp-pin-$kind" "$ref" "$url" "$token" "refused-cpp-pin-$kind" 00112233445566778899AABBCCDDEEFF00112233 "$cn"
	refused "reference program: wrong common name" "refused-cpp-cn-$kind" "$ref" "$url" "$token" "refused-cpp-cn-$kind" "$pin" "ses development TLS"
	SSL_CERT_FILE=/nonexistent refused "reference program: chain not trusted" "refused-cpp-root-$kind" "$ref" "$url" "$token" "refused-cpp-root-$kind" "$pin" "$cn"
	expect 0 "16 threads at once" "$work/threads-$kind" "$url" "$token" "$pin" "$cn"
	unset SSL_CERT_FILE
done

step "Python ctypes example"
export AZ_BATCH_ACCOUNT_URL=$url AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN=$token
expect 0 "entitled" python3 examples/check.py shared/libses.so contosoapp "$SES_TEST_CA" "$pin" "$cn"
expect 1 "denied" python3 examples/check.py shared/libses.so otherapp "$SES_TEST_CA" "$pin" "$cn"
expect 3 "untrusted" python3 examples/check.py shared/libses.so contosoapp

step "pkg-config and CMake packages"
make -s install PREFIX="$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
[ "$(pkg-config --modversion ses)" = devel ] || fail "pkg-config --modversion ses: $(pkg-config --modversion ses)"
pkg-config --static --libs ses | grep -q -- '-lpthread' || fail "pkg-config --static --libs ses lacks -lpthread"
# shellcheck disable=SC2046
cc -std=c99 examples/check.c $(pkg-config --cflags --libs ses) -o "$work/check-pc"
LD_LIBRARY_PATH="$work/prefix/lib" expect 0 "built with pkg-config" "$work/check-pc" contosoapp "$SES_TEST_CA" "$pin" "$cn"
cmake -S test/cmake -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake configure"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build"; }
expect 0 "find_package(ses): ses::static" "$work/cmake/check_static" contosoapp "$SES_TEST_CA" "$pin" "$cn"
LD_LIBRARY_PATH="$work/prefix/lib" expect 0 "find_package(ses): ses::ses" "$work/cmake/check_shared" contosoapp "$SES_TEST_CA" "$pin" "$cn"
SSL_CERT_FILE=$SES_TEST_CA expect 0 "find_package(ses): reference program" "$work/cmake/refapp_static" "$url" "$token" contosoapp "$pin" "$cn"
unset AZ_BATCH_ACCOUNT_URL AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN

step "leak check (valgrind)"
# valgrind cannot follow the Go runtime's stacks and reports its reads and
# writes there; what counts is what it says of the C heap: every string and
# handle the library returned was freed.
leaks() {
	local kind=$1 rounds=$2 log="$work/valgrind-$1.log" rc=0
	valgrind --undef-value-errors=no --leak-check=full "$work/scenarios-$kind" loop "$rounds" >"$log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { tail -20 "$log" >&2; fail "leak check ($kind): the loop exited $rc"; }
	grep -q "^loop: $rounds rounds" "$log" || fail "leak check ($kind): the loop did not finish"
	if ! grep -q 'All heap blocks were freed' "$log"; then
		grep -q 'definitely lost: 0 bytes in 0 blocks' "$log" && grep -q 'indirectly lost: 0 bytes in 0 blocks' "$log" ||
			{ grep -A20 'definitely lost in' "$log" >&2; fail "leak check ($kind): memory lost"; }
	fi
	echo "ok   leak check ($kind): $rounds rounds, $(grep -o 'definitely lost: [0-9,]* bytes' "$log" || echo 'no leaks')"
}
leaks static 10
leaks shared 5

step "the refused servers saw nothing"
# A last request, once it is logged, shows every earlier one is too.
before=$(requests)
expect 0 "entitled" "$work/scenarios-static" entitled
for _ in $(seq 100); do [ "$(requests)" -gt "$before" ] && break; sleep 0.1; done
[ "$(requests)" -gt "$before" ] || fail "the server logs no request line"
grep -q '"app":"contosoapp"' "$work/server.log" || fail "the server logs no application"
for app in "${refused[@]}"; do
	if grep -q "\"app\":\"$app\"" "$work/server.log"; then fail "the server saw a request for $app"; fi
done
echo "ok   ${#refused[@]} refused checks, none of their applications in the server's log"

echo "libses tests passed in $((SECONDS - start)) s"
