#!/usr/bin/env bash
# Runs every fuzz target of the root module's packages for a bounded time each (default 20s).
set -euo pipefail
fuzztime=${1:-20s}
cd "$(dirname "$0")/.."
for dir in $(go list -f '{{.Dir}}' ./...); do
	for target in $(grep -ohE '^func (Fuzz[A-Za-z0-9_]+)' "$dir"/*_test.go 2>/dev/null | awk '{print $2}'); do
		echo "fuzz $dir $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"
	done
done
