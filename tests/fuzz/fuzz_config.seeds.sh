#!/usr/bin/env bash
# Seeds for fuzz_config: every YAML configuration in the tree (the
# documented examples, test configurations written by e2e tests' heredocs
# are not files: the examples cover their keys).
#   fuzz_config.seeds.sh DIR
set -eu
out=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
n=0
while IFS= read -r f; do
	cp "$f" "$out/seed-$n.yaml"
	n=$((n + 1))
done < <(find "$src/docs" "$src/tests" -name '*.yaml' -type f 2>/dev/null)
# the e2e tests' inline configurations
for f in "$src"/tests/e2e/*.sh; do
	awk '/<<.?EOF.?$/ && /conf.*yaml/ {on=1; next} /^EOF$/ {if (on) {on=0; n++}; next} on {print > (dir "/inline-" FILENAME_n "-" n ".yaml")}' \
	    dir="$out" FILENAME_n="$(basename "$f" .sh)" "$f" 2>/dev/null || true
done
echo "fuzz_config: $(ls "$out" | wc -l) seed configurations"
