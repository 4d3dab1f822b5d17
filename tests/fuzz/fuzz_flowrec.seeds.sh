#!/usr/bin/env bash
# Seeds for fuzz_flowrec: the flow files of a store built from the bundled
# sample and from a small gen-trace capture with tunnels (records with
# VLANs and tunnel stacks), and the first record of each alone.
#   fuzz_flowrec.seeds.sh DIR    (TM: the tm binary; default build-fuzz's)
. "$(dirname "$0")/seeds_tm.sh"
cat >"$tmp/conf.yaml" <<'CONF'
storage:
  flows:
    segment_size: 64k
CONF
export ASAN_OPTIONS=detect_leaks=0
"$tm" capture -q -r "$src/tests/fixtures/sample.pcap" -s "$tmp/a" \
    -c "$tmp/conf.yaml" >/dev/null 2>&1 || true
if "$src/../shared/bench/gen-trace" --seed 4 --conns 300 --mix tunnels \
    -o "$tmp/t.pcap" >/dev/null 2>&1; then
	"$tm" capture -q -r "$tmp/t.pcap" -s "$tmp/b" -c "$tmp/conf.yaml" \
	    >/dev/null 2>&1 || true
fi
i=0
for f in "$tmp"/a/flows/* "$tmp"/b/flows/*; do
	[ -f "$f" ] || continue
	cp "$f" "$out/file-$i"
	# the first record's payload: after the file header (16 bytes) and
	# the record header (length, checksum: 8 bytes)
	len=$(od -An -tu4 -j16 -N4 "$f" | tr -d ' ')
	if [ -n "$len" ] && [ "$len" -gt 0 ]; then
		dd if="$f" of="$out/rec-$i" bs=1 skip=24 count="$len" \
		    2>/dev/null
	fi
	i=$((i + 1))
done
echo "fuzz_flowrec.seeds.sh: $i flow files" >&2
