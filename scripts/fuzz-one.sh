#!/usr/bin/env bash
# fuzz-one.sh PKG TARGET TIME: fuzz one target with one worker for TIME
# (a duration such as 10s, or a count of inputs such as 1000x).
# With a duration, Go 1.26's fuzz coordinator can report "context deadline
# exceeded" at the deadline with no failing input (go.dev/issue/75804);
# such a run is repeated once. A failing input always fails.
set -uo pipefail
pkg=$1 target=$2 time=$3
go=${GO:-go}
for attempt in 1 2; do
  out=$("$go" test -run='^$' -fuzz="^${target}\$" -fuzztime="$time" -fuzzminimizetime=1s -parallel=1 "$pkg" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -eq 0 ]; then
    exit 0
  fi
  if [ "$attempt" -eq 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
    echo "fuzz: $target stopped at its deadline without a failing input; running it once more"
    continue
  fi
  exit "$rc"
done
