#!/usr/bin/env bash
# The whole test run, as CI runs it (as root on Debian 12):
#   1. a gcc build with -Werror and its tests (meson test): unit, conformance,
#      network namespaces (wireguard-go, nftables), the real-kernel VM
#   2. the same under AddressSanitizer and UndefinedBehaviorSanitizer (not the VM)
#   3. the libFuzzer targets, built with clang, each run for a bounded time
#   4. `meson install` into a temporary root: the man pages, the bash completion
#      and the systemd unit in place, examples/embed.c built against it through
#      pkg-config, and the Go, Rust and Python bindings (bindings/*/test.sh)
#      tested against it and compared with C byte for byte (tests/bindings/)
#   5. kgctl's command line and kg's flags (tests/cli/test_kgctl.sh), on both builds
# Ends with "N passed, N failed" over everything it ran; exits 1 on any failure.
#
# KILO_TEST_BUILD (default build-test/) holds the build trees; KILO_FUZZ_SECONDS
# (default 15) bounds each fuzz target; KILO_FUZZ_JOBS (default: the cores) run at once.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

"$repo/scripts/setup.sh" --test

builds="${KILO_TEST_BUILD:-$repo/build-test}"
fuzz_seconds="${KILO_FUZZ_SECONDS:-15}"
fuzz_jobs="${KILO_FUZZ_JOBS:-$(nproc)}"
vectors="$repo/tests/conformance/kilo-vectors.json"
logs="$builds/logs"
mkdir -p "$logs"
passed=0
failed=0
skipped=0
failures=()
skips=()
started=$SECONDS

step() {
	printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started))
}

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAIL - $1"
	if [[ -n "${2:-}" && -f "$2" ]]; then
		tail -n 40 "$2" | sed 's/^/    /'
		echo "    (full log: $2)"
	fi
}

# setup_tree DIR MESON-ARGS...: configures a build tree, reusing it when it exists.
setup_tree() {
	local dir="$1"
	shift
	if [[ -f "$dir/build.ninja" ]]; then
		meson configure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

# build NAME DIR ENV MESON-ARGS...: configures and builds; one check.
build() {
	local name="$1" dir="$2" cc="$3"
	shift 3
	if (CC="$cc" setup_tree "$dir" "$@" && ninja -C "$dir") >"$logs/$name-build.log" 2>&1; then
		ok "$name: build"
	else
		not_ok "$name: build" "$logs/$name-build.log"
		return 1
	fi
}

# meson_tests NAME DIR [MESON-TEST-ARGS...]: runs meson test and counts each test as a check;
# a skipped test is named, with its reason, in the summary (a skip is neither pass nor fail).
meson_tests() {
	local name="$1" dir="$2" counts line
	shift 2
	meson test -C "$dir" --print-errorlogs "$@" >"$logs/$name-test.log" 2>&1 || true
	counts="$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = fail = skip = 0
bad = []
skips = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif t["result"] == "SKIP":
        skip += 1
        why = [l[6:] for l in (t.get("stdout") or "").splitlines() if l.startswith("SKIP: ")]
        skips.append(t["name"] + (" (" + why[-1] + ")" if why else ""))
    else:
        fail += 1
        bad.append(t["name"] + ":" + t["result"])
print(ok, fail, skip, " ".join(bad))
print("\n".join(skips))
PY
)" || counts="0 1 0 testlog.json-missing"
	{
		read -r t_ok t_fail t_skip t_bad
		while read -r line; do
			[[ -z "$line" ]] || skips+=("$name: $line")
		done
	} <<<"$counts"
	passed=$((passed + t_ok))
	failed=$((failed + t_fail))
	skipped=$((skipped + t_skip))
	echo "$name: meson test: $t_ok passed, $t_fail failed, $t_skip skipped"
	if ((t_fail)); then
		failures+=("$name: $t_bad")
		grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$logs/$name-test.log" | awk '!seen[$0]++' | sed 's/^/    /' || true
		failed_output "$dir/meson-logs/testlog.json" | sed 's/^/    /'
		echo "    (full log: $logs/$name-test.log)"
	fi
}

# failed_output TESTLOG_JSON: each failed test's output from a few lines
# before its first failure on, bounded: on a CI machine it is all that is left.
failed_output() {
	python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
        continue
    out = ((t.get("stdout") or "") + (t.get("stderr") or "")).splitlines()
    first = next((i for i, l in enumerate(out) if l.startswith(("FAIL", "not ok"))), max(len(out) - 40, 0))
    shown = out[max(first - 5, 0):][:300]
    print("--- " + t["name"] + ": its output from line " + str(max(first - 5, 0) + 1) + " of " + str(len(out)))
    print("\n".join(shown))
PY
}

# cli_tests NAME KGCTL KG: runs tests/cli/test_kgctl.sh and adds its counts.
cli_tests() {
	local name="$1" kgctl="$2" kg="$3" last
	if [[ ! -x "$kgctl" || ! -x "$kg" ]]; then
		not_ok "$name: kgctl or kg was not built"
		return
	fi
	"$repo/tests/cli/test_kgctl.sh" "$kgctl" "$vectors" "$kg" >"$logs/$name-cli.log" 2>&1 || true
	last="$(tail -n 1 "$logs/$name-cli.log")"
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		echo "$name: kgctl command line: $last"
		if ((BASH_REMATCH[2])); then
			failures+=("$name: kgctl command line")
			grep -A3 '^FAIL' "$logs/$name-cli.log" | sed 's/^/    /'
		fi
	else
		not_ok "$name: kgctl command line did not finish" "$logs/$name-cli.log"
	fi
}

# installed_extras DEST: after `meson install --destdir DEST`, the man pages,
# the bash completion, the systemd unit and its environment file are in place
# under the prefix, the pages render, the completion completes and the unit
# starts the installed kg.
installed_extras() {
	local prefix page missing=() bin
	bin="$(find "$1" -path '*/bin/kg' -type f | head -n 1)"
	prefix="$(dirname "$(dirname "$bin")")"
	for page in share/man/man8/kg.8 share/man/man8/kgctl.8 share/man/man3/libkilo.3 \
		share/bash-completion/completions/kg share/bash-completion/completions/kgctl \
		lib/systemd/system/kg.service share/doc/libkilo/examples/kg.env; do
		[[ -n "$bin" && -s "$prefix/$page" ]] || missing+=("$page")
	done
	if ((${#missing[@]} == 0)); then
		ok "install: man pages, bash completion, kg.service and kg.env under the prefix"
	else
		printf 'missing under %s: %s\n' "${prefix:-$1}" "${missing[*]}" >"$logs/install-extras.log"
		not_ok "install: man pages, bash completion, kg.service and kg.env under the prefix" "$logs/install-extras.log"
		return
	fi
	if command -v man >/dev/null; then
		# groff's warnings go to stderr: a page renders cleanly when there are none.
		: >"$logs/install-man.log"
		for page in man8/kg.8 man8/kgctl.8 man3/libkilo.3; do
			MANWIDTH=80 man --warnings -l "$prefix/share/man/$page" 2>>"$logs/install-man.log" | grep -q '^NAME' ||
				echo "man -l $page: no NAME section" >>"$logs/install-man.log"
		done
		if [[ ! -s "$logs/install-man.log" ]]; then
			ok "install: man -l renders kg(8), kgctl(8) and libkilo(3)"
		else
			not_ok "install: man -l renders kg(8), kgctl(8) and libkilo(3)" "$logs/install-man.log"
		fi
	fi
	# The installed programs find the installed library, not the build tree's.
	if LD_LIBRARY_PATH="$(dirname "$(find "$1" -name 'libkilo.so.0' | head -n 1)")" \
		"$repo/tests/cli/test_completion.sh" "$prefix/bin/kg" "$prefix/bin/kgctl" \
		"$prefix/share/bash-completion/completions/kgctl" >"$logs/install-completion.log" 2>&1; then
		ok "install: the installed bash completion completes the installed kg and kgctl"
	else
		not_ok "install: the installed bash completion completes the installed kg and kgctl" "$logs/install-completion.log"
	fi
	if grep -qF "ExecStart=${prefix#"$1"}/bin/kg --store " "$prefix/lib/systemd/system/kg.service"; then
		ok "install: kg.service starts the installed kg"
	else
		not_ok "install: kg.service starts the installed kg" "$prefix/lib/systemd/system/kg.service"
	fi
}

# ---- 1. gcc, -Werror ------------------------------------------------------------
step "gcc build with -Werror, unit and conformance tests"
gcc_dir="$builds/gcc"
if build gcc "$gcc_dir" gcc -Dwerror=true -Dbuildtype=debugoptimized; then
	meson_tests gcc "$gcc_dir"
fi

# ---- 2. sanitizers -----------------------------------------------------------------
step "gcc build with address and undefined-behaviour sanitizers"
asan_dir="$builds/asan"
if build asan "$asan_dir" gcc -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false; then
	# The VM runs a static test program, which the sanitizers cannot be linked into; the gcc build runs it.
	# The policy truth table (3 minutes of probes through the BPF programs) runs there too: the kg
	# code it drives runs under the sanitizers in the observe and services tests.
	meson_tests asan "$asan_dir" --no-suite vm --no-suite truth-table
fi

# ---- 3. fuzzing ---------------------------------------------------------------------
# fuzz_seeds TARGET: the seed corpus directory of TARGET, if it has one.
fuzz_seeds() {
	local seed
	for seed in "$repo/tests/fuzz/corpus/$1" "$repo/tests/fuzz/corpus/${1#fuzz_}" "$repo/tests/fuzz/corpus/${1#fuzz-}"; do
		if [[ -d "$seed" ]]; then
			echo "$seed"
			break
		fi
	done
}

# fuzz_run EXE [SEEDS]: the target EXE for fuzz_seconds from SEEDS; its exit status.
fuzz_run() {
	local exe="$1" target work r=0
	target="$(basename "$exe")"
	work="$(mktemp -d)"
	# New inputs go to the first directory, a scratch one: the seed corpus stays as committed.
	timeout $((fuzz_seconds + 120)) "$exe" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$logs/$target-" "$work" "${@:2}" >"$logs/fuzz-$target.log" 2>&1 || r=$?
	rm -rf "$work"
	return "$r"
}

step "libFuzzer targets (clang), ${fuzz_seconds}s each, ${fuzz_jobs} at a time"
fuzz_dir="$builds/fuzz"
if build fuzz "$fuzz_dir" clang -Dwerror=true -Dfuzz=true -Db_lundef=false; then
	mapfile -t targets < <(find "$fuzz_dir/tests/fuzz" -maxdepth 1 -type f -executable 2>/dev/null | sort)
	if ((${#targets[@]} == 0)); then
		not_ok "fuzz: no fuzz targets were built under tests/fuzz"
	fi
	# Each target is single-threaded and nothing else runs meanwhile: one per
	# core, each for the same fuzz_seconds. Reported in order once all are done.
	declare -A fuzz_status=()
	fuzz_pids=()
	for exe in "${targets[@]}"; do
		if ((${#fuzz_pids[@]} - ${#fuzz_status[@]} >= fuzz_jobs)); then
			r=0
			wait -n -p pid || r=$?
			fuzz_status[$pid]=$r
		fi
		# shellcheck disable=SC2046 # no seed corpus: no argument
		fuzz_run "$exe" $(fuzz_seeds "$(basename "$exe")") &
		fuzz_pids+=($!)
	done
	for i in "${!targets[@]}"; do
		pid="${fuzz_pids[$i]}"
		if [[ -z "${fuzz_status[$pid]:-}" ]]; then
			r=0
			wait "$pid" || r=$?
			fuzz_status[$pid]=$r
		fi
		target="$(basename "${targets[$i]}")"
		seeds="$(fuzz_seeds "$target")"
		if ((fuzz_status[$pid] == 0)); then
			ok "fuzz: $target (${seeds:-no seed corpus})"
		else
			not_ok "fuzz: $target" "$logs/fuzz-$target.log"
		fi
	done
fi

# static_embed DEST PC DIR: examples/embed.c linked with the installed libkilo.a (its
# dependencies shared), which exports only the public API, and run.
static_embed() {
	local dest="$1" pc="$2" dir="$3" archive
	archive="$(find "$dest" -name libkilo.a | head -n 1)"
	if [[ -n "$archive" ]] && PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest" \
		bash -c 'cc -o "$1/embed-static" "$2" $(pkg-config --cflags libkilo) "$3" \
			$(pkg-config --libs $(pkg-config --print-requires-private libkilo))' \
		sh "$dir" "$repo/examples/embed.c" "$archive" >"$logs/embed-static.log" 2>&1 &&
		"$dir/embed-static" "$repo/examples/meshes/three-clouds.json" aws-eu-1 >>"$logs/embed-static.log" 2>&1 &&
		grep -q '^\[Interface\]' "$logs/embed-static.log" && [[ "$(ldd "$dir/embed-static")" != *libkilo* ]]; then
		ok "install: embed links the installed libkilo.a statically and prints a node's config"
	else
		not_ok "install: embed links the installed libkilo.a statically and prints a node's config" \
			"$logs/embed-static.log"
	fi
}

# bindings DEST SO PC: each bindings/LANG/test.sh against the library installed in DEST,
# then the four-language comparison over examples/meshes (tests/bindings/README.md).
bindings() {
	local dest="$1" so="$2" pc="$3" out script lang
	local programs=("$gcc_dir/tests/bindings/compare-c")

	out="$(mktemp -d)"
	for script in "$repo"/bindings/*/test.sh; do
		[[ -f "$script" ]] || continue
		lang="$(basename "$(dirname "$script")")"
		if PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest" LD_LIBRARY_PATH="$(dirname "$so")" \
			KILO_LIBRARY="$so" "$script" "$out" >"$logs/bindings-$lang.log" 2>&1; then
			ok "bindings: $lang tests against the installed libkilo"
			programs+=("$out/compare-$lang")
		else
			not_ok "bindings: $lang tests against the installed libkilo" "$logs/bindings-$lang.log"
		fi
	done
	if LD_LIBRARY_PATH="$(dirname "$so")" "$repo/tests/bindings/compare.sh" "$repo/examples/meshes" "${programs[@]}" \
		>"$logs/bindings-compare.log" 2>&1; then
		ok "bindings: ${#programs[@]} languages print the same bytes for every mesh of examples/meshes"
	else
		not_ok "bindings: ${#programs[@]} languages print the same bytes for every mesh of examples/meshes" \
			"$logs/bindings-compare.log"
	fi
	rm -rf "$out"
}

# ---- 4. install and embed -----------------------------------------------------------
step "meson install; examples/embed.c and the bindings against the installed libkilo"
if [[ -f "$gcc_dir/build.ninja" ]]; then
	dest="$(mktemp -d)"
	embed_dir="$(mktemp -d)"
	if meson install -C "$gcc_dir" --destdir "$dest" >"$logs/install.log" 2>&1; then
		ok "install: meson install --destdir"
		pc="$(find "$dest" -name libkilo.pc | head -n 1)"
		so="$(find "$dest" -name 'libkilo.so.0' | head -n 1)"
		if [[ -n "$so" ]] && ! nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | grep -v '^kilo_' >"$logs/exports.log"; then
			ok "install: libkilo.so exports only kilo_* symbols"
		else
			not_ok "install: libkilo.so exports only kilo_* symbols" "$logs/exports.log"
		fi
		installed_extras "$dest"
		# The .pc file names the final prefix; the sysroot maps it into the temporary root.
		if [[ -n "$pc" ]] && PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest" \
			make -C "$embed_dir" -f "$repo/examples/Makefile" VPATH="$repo/examples" embed >"$logs/embed.log" 2>&1; then
			ok "install: examples/embed.c builds through pkg-config"
			if LD_LIBRARY_PATH="$(dirname "$so")" "$embed_dir/embed" "$repo/examples/meshes/three-clouds.json" aws-eu-1 \
				>"$logs/embed-run.log" 2>&1 && grep -q '^\[Interface\]' "$logs/embed-run.log" &&
				[[ "$(LD_LIBRARY_PATH="$(dirname "$so")" ldd "$embed_dir/embed")" == *"$dest"* ]]; then
				ok "install: embed prints a node's config with the installed library"
			else
				not_ok "install: embed prints a node's config with the installed library" "$logs/embed-run.log"
			fi
		else
			not_ok "install: examples/embed.c builds through pkg-config" "$logs/embed.log"
		fi
		static_embed "$dest" "$pc" "$embed_dir"
		bindings "$dest" "$so" "$pc"
	else
		not_ok "install: meson install --destdir" "$logs/install.log"
	fi
	rm -rf "$dest" "$embed_dir"
else
	not_ok "install: no gcc build to install"
fi

# ---- 5. kgctl ---------------------------------------------------------------------------
step "kgctl command line"
cli_tests gcc "$gcc_dir/cli/kgctl/kgctl" "$gcc_dir/cli/kg/kg"
cli_tests asan "$asan_dir/cli/kgctl/kgctl" "$asan_dir/cli/kg/kg"

step "done"
if ((${#failures[@]})); then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
if ((${#skips[@]})); then
	echo "skipped:"
	printf '  %s\n' "${skips[@]}"
fi
((skipped == 0)) || echo "$skipped skipped"
echo "$passed passed, $failed failed"
((failed == 0))
