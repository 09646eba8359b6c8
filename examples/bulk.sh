#!/bin/sh
# Many runs in one call: one line per run, sent pipelined on one connection (a thousand
# lines cost about what a thousand `tsp` calls do). Needs a daemon: `taskflow demo` in another
# terminal, or TASKFLOW_SOCKET pointing at one. Writes only under ${TMPDIR:-/tmp}/taskflow-demo.
set -eu
out="${TMPDIR:-/tmp}/taskflow-demo/bulk"
mkdir -p "$out"

# One ad-hoc command a line; each is its own run, named after its first word (@gzip, @sha256sum).
for i in 1 2 3 4 5; do
    head -c 200000 /dev/urandom > "$out/part$i.bin"
    echo "gzip -kf $out/part$i.bin"
    echo "sha256sum $out/part$i.bin"
done | taskflow exec --from-file - --wait    # exit 3 if any of them failed

# Task names a line, each with its own parameters (NAME [K=V ...]); a refused line is named by
# its number and the others still start.
printf 'deploy version=1.4.2\nnightly\n' | taskflow run --from-file -
