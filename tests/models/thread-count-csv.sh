#!/usr/bin/env bash
# The same scenario and seed at model.threads 1, 2 and 3 writes byte-identical steps.csv and
# eval.csv (issue 14: results independent of the thread count).
#   thread-count-csv.sh SLSIM SCENARIO
set -euo pipefail
slsim=$1
scenario=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in 1 2 3; do
    "$slsim" run "$scenario" --out "$work/t$t" --quiet --set model.threads=$t
done
status=0
for t in 2 3; do
    for f in steps.csv eval.csv; do
        if ! cmp "$work/t1/$f" "$work/t$t/$f"; then
            echo "FAIL: $f differs between model.threads=1 and $t" >&2
            status=1
        fi
    done
done
[ "$(wc -l < "$work/t1/steps.csv")" -gt 2 ] || { echo "FAIL: no steps written" >&2; exit 1; }
exit $status
