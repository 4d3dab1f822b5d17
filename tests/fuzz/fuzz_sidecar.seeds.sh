#!/usr/bin/env bash
# Seeds for fuzz_sidecar: the sidecars of stores built from the bundled
# sample and a small gen-trace capture with tunnels (many contexts), with
# segments small enough to keep the inputs short.
#   fuzz_sidecar.seeds.sh DIR    (TM: the tm binary; default build-fuzz's)
. "$(dirname "$0")/seeds_tm.sh"
cat >"$tmp/conf.yaml" <<'CONF'
storage:
  segment_size: 64k
classes:
  - name: tunnelled
    filter: tunnel
    cutoff: none
  - name: default
    cutoff: 4k
CONF
ASAN_OPTIONS=detect_leaks=0 "$tm" capture -q -r "$src/tests/fixtures/sample.pcap" \
    -s "$tmp/a" -c "$tmp/conf.yaml" >/dev/null 2>&1 || true
"$src/../shared/bench/gen-trace" --seed 3 --conns 200 --mix tunnels \
    -o "$tmp/t.pcap" >/dev/null 2>&1 &&
    ASAN_OPTIONS=detect_leaks=0 "$tm" capture -q -r "$tmp/t.pcap" -s "$tmp/b" \
    -c "$tmp/conf.yaml" >/dev/null 2>&1 || true
n=0
for f in "$tmp"/a/segments/*/*.idx "$tmp"/b/segments/*/*.idx; do
	[ -f "$f" ] || continue
	cp "$f" "$out/seed-$n.idx"
	n=$((n + 1))
	[ "$n" -ge 40 ] && break
done
echo "fuzz_sidecar: $n seed sidecars"
