#!/usr/bin/env bash
# End-to-end: `tm query` against gen-trace's ground truth and tcpdump.
#
# 1. A store of several gen-trace traces (default and tunnels mixes, three
#    of them over the same seconds so that segments overlap in time; one
#    with equal timestamps and frames out of time order), with
#    small segments and two classes (tunnelled traffic apart), ingested
#    with `tm capture --cutoff none`. tests/tools/query_check.py asks many
#    random questions (5-tuples, hosts, nets, src/dst, ports, protocols,
#    tunnel types with identifiers, outer and any-layer hosts, VLANs,
#    SPIs, time windows, and/or/not) and compares the packets returned
#    with what the truth selects, hash by hash, twins included, in time
#    order.
# 2. A store of untunnelled traces (--mix plain): the same, plus every
#    answer equals `tcpdump -r SEGMENT FILTER` over all segments.
# 3. app, class and community_id against the store's flow records.
# 4. The pipe: `tm query ... | tcpdump -r -` reads the answer, --count
#    agrees; a nanosecond pcap comes out.
# 5. Bad queries: a syntax error names the column; unknown words, bad
#    addresses, reversed time ranges: a message and exit status 2; an empty
#    answer is not an error; a directory that is no store: exit 1.
#
# Env: TM, TM_SRC. Optional: QUERY_QUESTIONS (150), QUERY_CONNS (1200),
# QUERY_SEED (1), KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/query_check.py"
QUESTIONS=${QUERY_QUESTIONS:-150}
CONNS=${QUERY_CONNS:-1200}
SEED=${QUERY_SEED:-1}

if [ ! -r "$GEN" ]; then
	echo "query_truth: $GEN not found" >&2
	exit 1
fi
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-query.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
failed=()

cat >"$TMPD/conf.yaml" <<'EOF'
storage:
  segment_size: 256k
  directory_interval: 16
classes:
  - name: tunnelled
    filter: tunnel
    cutoff: none
  - name: default
    cutoff: none
EOF

# gen NAME SEED MIX START
gen() {
	python3 "$GEN" --seed "$2" --conns "$CONNS" --mix "$3" --start "$4" \
	    -o "$TMPD/$1.pcap" --truth "$TMPD/$1.truth.tsv" \
	    --packet-truth "$TMPD/$1.pkt.tsv" >/dev/null 2>"$TMPD/$1.gen.err" ||
	    { cat "$TMPD/$1.gen.err"; exit 1; }
	traces+=(--trace "$TMPD/$1.pcap:$TMPD/$1.truth.tsv:$TMPD/$1.pkt.tsv")
}

# jitter NAME: equal timestamps for some neighbours, a few frames out of
# time order (a segment that is not sorted is read through its hits)
jitter() {
	python3 - "$TMPD/$1.pcap" "$TMPD/$1.pkt.tsv" <<'PY' || exit 1
import random, struct, sys
pcap, ptruth = sys.argv[1], sys.argv[2]
data = open(pcap, "rb").read()
hdr, off, recs = data[:24], 24, []
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    recs.append(bytearray(data[off:off + 16 + caplen]))
    off += 16 + caplen
lines = open(ptruth).read().splitlines()
rng = random.Random(5)
for i in range(1, len(recs) - 1):
    x = rng.random()
    if x < 0.05:
        recs[i][0:8] = recs[i - 1][0:8]
    elif x < 0.08:
        recs[i], recs[i + 1] = recs[i + 1], recs[i]
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
open(pcap, "wb").write(hdr + b"".join(recs))
open(ptruth, "w").write("\n".join(lines) + "\n")
PY
}

# ingest STORE NAME...
ingest() {
	local store=$1 n
	shift
	for n in "$@"; do
		if ! "$TM" capture -q -c "$TMPD/conf.yaml" -r "$TMPD/$n.pcap" \
		    -s "$store" --cutoff none 2>"$TMPD/capture.err"; then
			echo "query_truth: tm capture $n failed:"
			cat "$TMPD/capture.err"
			exit 1
		fi
	done
}

# 1. tunnels and everything else
traces=()
gen d1 $((SEED + 10)) default 1764000000
gen d2 $((SEED + 11)) default 1764000000
gen t1 $((SEED + 12)) tunnels 1764000300
gen d3 $((SEED + 13)) default 1764003600
gen j1 $((SEED + 14)) default 1764000000
jitter j1
ingest "$TMPD/S" d1 d2 t1 d3 j1
nseg=$(find "$TMPD/S/segments" -name '*.idx' | wc -l)
echo "store S: $nseg segments, $(ls "$TMPD/S/segments" | wc -l) classes"
mkdir -p "$TMPD/w"
python3 "$CHECK" --tm "$TM" --store "$TMPD/S" "${traces[@]}" \
    --questions "$QUESTIONS" --seed "$SEED" --workdir "$TMPD/w" \
    --label "truth (default+tunnels, $nseg segments)" --show 10 ||
    failed+=("truth questions")

# 2. untunnelled: truth and tcpdump
traces=()
gen p1 $((SEED + 20)) plain 1764000000
gen p2 $((SEED + 21)) plain 1764000100
ingest "$TMPD/P" p1 p2
python3 "$CHECK" --tm "$TM" --store "$TMPD/P" "${traces[@]}" --tcpdump \
    --questions "$QUESTIONS" --seed "$SEED" --workdir "$TMPD/w" \
    --label "truth and tcpdump (plain)" --show 10 ||
    failed+=("plain questions against tcpdump")

# 3. connection-level predicates against the flow records of the same
#    store (every packet stored: a flow's packets are the query's): app
#    NAME, class NAME, community_id ID. nDPI inline (ndpi.thread false)
#    and one segment per class: a segment holds the application known
#    while it was open, so with nDPI on its thread (the verdict on a short
#    connection can come after its packets' segment is sealed) or a
#    connection decided after a segment boundary, the packets before the
#    verdict have no application in the store (reported to storage).
sed -e 's/^storage:/ndpi:\n  thread: false\nstorage:/' \
    -e 's/segment_size: 256k/segment_size: 64m/' "$TMPD/conf.yaml" \
    >"$TMPD/inline.yaml"
"$TM" capture -q -c "$TMPD/inline.yaml" -r "$TMPD/d1.pcap" -s "$TMPD/A" \
    --cutoff none 2>"$TMPD/capture.err" || { cat "$TMPD/capture.err"; exit 1; }
"$TM" flows -s "$TMPD/A" --json >"$TMPD/A.flows.jsonl" ||
    failed+=("tm flows -s")
python3 - "$TM" "$TMPD/A" "$TMPD/A.flows.jsonl" <<'PY' ||
import json, random, subprocess, sys
tm, store, flows = sys.argv[1:4]
fl = [json.loads(l) for l in open(flows)]
def count(q):
    p = subprocess.run([tm, "query", "-s", store, "--count", q],
                       capture_output=True, text=True)
    return int(p.stdout.split()[0]) if p.returncode == 0 else -1
def total(pred):
    return sum(f["orig_pkts"] + f["resp_pkts"] for f in fl if pred(f))
def app_is(a, n):
    return a is not None and (a.lower() == n.lower() or
                              n.lower() in a.lower().split("."))
qs = []
apps = sorted({f["app"] for f in fl if f["app"]})
for a in apps[:6]:
    qs.append(("app " + '"%s"' % a, total(lambda f: app_is(f["app"], a))))
for c in ("tunnelled", "default"):
    qs.append(("class " + c, total(lambda f: f["class"] == c)))
random.seed(7)
for f in random.sample([f for f in fl if f["community_id"]], 6):
    cid = f["community_id"]
    qs.append(("community_id " + cid,
               total(lambda g: g["community_id"] == cid)))
qs.append(("app DNS and not class tunnelled",
           total(lambda f: app_is(f["app"], "DNS") and
                 f["class"] != "tunnelled")))
bad = 0
for q, want in qs:
    got = count(q)
    if got != want:
        print("  WRONG %r: %d packets, the flow records say %d" % (q, got,
                                                                 want))
        bad += 1
print("connection-level predicates: %d questions against the flow "
      "records, %d wrong" % (len(qs), bad))
sys.exit(1 if bad else 0)
PY
	failed+=("app/class/community_id against the flow records")

# 4. through a pipe into tcpdump
q='tcp and port 443'
n_count=$("$TM" query -s "$TMPD/S" --count "$q" | cut -d' ' -f1)
n_pipe=$("$TM" query -s "$TMPD/S" "$q" | tcpdump -r - -nn -tt 2>/dev/null |
    grep -c '^[0-9]')
magic=$("$TM" query -s "$TMPD/S" "$q" | head -c 4 | od -An -tx1 | tr -d ' ')
if [ "$n_count" != "$n_pipe" ] || [ "$n_count" -eq 0 ] ||
    [ "$magic" != "4d3cb2a1" ]; then
	echo "pipe: --count says $n_count, tcpdump -r - read $n_pipe, magic" \
	    "$magic (want 4d3cb2a1, nanoseconds)"
	failed+=("pipe into tcpdump")
fi

# 5. errors: expect STATUS PATTERN ARGS...
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$TM" query "$@" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -Eq -- "$pat" "$TMPD/err" "$TMPD/out"
	then
		echo "tm query $*: exit $rc (want $want), output:"
		cat "$TMPD/err" "$TMPD/out" | head -5
		failed+=("tm query $*")
	fi
}
S=$TMPD/S
expect 2 'column 24: expected a port number' -s "$S" --count \
    'host 10.0.0.1 and port abc'
expect 2 "column 1: expected a predicate .* got 'hots'" -s "$S" --count \
    'hots 10.0.0.1'
expect 2 "column 14: expected an IPv4 or IPv6 address" -s "$S" --count \
    'tcp and host 10.0.0.300'
expect 2 'column 5: .*did you mean 10.0.0.0/8' -s "$S" --count \
    'net 10.0.0.1/8'
expect 2 "column 5: expected '\\)' to close" -s "$S" --count '(tcp'
expect 2 "'after 2026-11-27T00:00:00Z' is not before 'before 2026-11-26T00:00:00Z'" \
    -s "$S" --count 'after 2026-11-27 and before 2026-11-26'
expect 2 'time range is empty' -s "$S" --count \
    'before 1764000000 and (after 1764000100 or after 1764000200)'
expect 2 "column 7: expected a time" -s "$S" --count \
    'after yesterday'
expect 0 '^0 packets, 0 bytes' -s "$S" --count 'host 192.0.2.254 and port 1'
expect 0 '^0 packets, 0 bytes' -s "$S" --count 'last 1h'
expect 1 'not a store' -s "$TMPD/w" --count tcp
expect 2 '-s STORE is required' --count tcp
# an empty answer is still a pcap tcpdump reads
"$TM" query -s "$S" -w "$TMPD/empty.pcap" 'host 192.0.2.254' &&
    tcpdump -r "$TMPD/empty.pcap" >/dev/null 2>&1 ||
    failed+=("empty answer as pcap")

echo
if [ "${#failed[@]}" -eq 0 ]; then
	echo "query_truth: PASS"
	exit 0
fi
echo "query_truth: FAIL:"
printf '  %s\n' "${failed[@]}"
exit 1
