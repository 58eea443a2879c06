#!/usr/bin/env bash
# The Python binding against an installed libkilo (tests/bindings/README.md):
# installs the package offline (pip, no index, no downloads) into OUT-DIR,
# runs its unittest suite against that installed copy, and leaves
# OUT-DIR/compare-python, the binding's compare program.
#
# Usage: bindings/python/test.sh OUT-DIR     Quiet on success; exits 0 only if all passed.
# The library: $KILO_LIBRARY, else ctypes.util.find_library("kilo"), else libkilo.so.0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: test.sh OUT-DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
python="$(python3 -c 'import sys; print(sys.executable)')"
site="$out/python-kilo"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Output only on failure.
run() {
	"$@" >"$log" 2>&1 || { cat "$log" >&2; echo "bindings/python/test.sh: failed: $*" >&2; exit 1; }
}

export PYTHONDONTWRITEBYTECODE=1 PIP_ROOT_USER_ACTION=ignore
# The kgctl installed beside the library, for tests/test_example.py's comparison with examples/kgctl.py.
# (pkgconf puts the sysroot in front of the prefix, pkg-config does not.)
if [[ -z "${KILO_KGCTL:-}" ]] && prefix="$(pkg-config --variable=prefix libkilo 2>/dev/null)"; then
	for kgctl in "$prefix/bin/kgctl" "${PKG_CONFIG_SYSROOT_DIR:-}$prefix/bin/kgctl"; do
		[[ -x "$kgctl" ]] && export KILO_KGCTL="$kgctl" && break
	done
fi
rm -rf "$site"
run "$python" -m pip install --quiet --no-index --no-build-isolation --no-cache-dir --disable-pip-version-check \
	--target "$site" "$here"
# From tests/, with the installed copy first on the path: the tests see what pip installed, not the source.
cd "$here/tests"
run env PYTHONPATH="$site" "$python" -c 'import kilo, sys; assert kilo.__file__.startswith(sys.argv[1]), kilo.__file__' "$site"
run env PYTHONPATH="$site" "$python" -m unittest

"$python" - "$out/compare-python" "$python" "$site" "${KILO_LIBRARY:-}" <<'PY'
import os, sys
path, python, site, library = sys.argv[1:]
with open(path, "w") as f:
    f.write("#!%s\n# The Python binding's compare program (tests/bindings/README.md).\n" % python)
    f.write("import os, sys\nsys.path.insert(0, %r)\n" % site)
    if library:
        f.write("os.environ.setdefault('KILO_LIBRARY', %r)\n" % library)
    f.write("from kilo.compare import main\nsys.exit(main(sys.argv))\n")
os.chmod(path, 0o755)
PY
