# shellcheck shell=bash
# The check helpers the namespace tests share; source it, then call finish last.
passed=0
failed=0

# check NAME COMMAND...: one ok/FAIL line for whether COMMAND succeeds.
check() {
	local name="$1"
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "FAIL - $name"
	fi
}

# eventually TRIES COMMAND...: retries COMMAND every tenth of a second, at most TRIES times.
eventually() {
	local tries="$1"
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# finish: the closing line; fails if a check failed.
finish() {
	echo "$passed passed, $failed failed"
	((failed == 0))
}

# skip_unless_root_with TOOL...: exits 77 (skip), saying why, unless root and every TOOL is installed.
skip_unless_root_with() {
	local tool
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "skip: needs root for network namespaces"
		exit 77
	fi
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "skip: $tool is not installed"
			exit 77
		fi
	done
}
