#!/usr/bin/env bash
# The docs stay true: every dissector and every event that `tm plugins`
# reports is named in docs/decode.md; every configuration key the reader
# knows is named in docs/configuration.md and docs/man/tm.conf.5.
set -euo pipefail
: "${TM:?}" "${TM_SRC:?}"
doc="$TM_SRC/docs/decode.md"
missing=0
names=$("$TM" plugins --json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    for d in m.get("dissectors", []):
        print("dissector", d["name"])
        for e in d["events"]:
            if not e.endswith((".truncated", ".too_short")):
                print("event", e)
')
while read -r kind name; do
	if ! grep -q -- "\`$name\`" "$doc"; then
		echo "docs/decode.md does not name $kind $name"
		missing=$((missing + 1))
	fi
done <<<"$names"
for e in decode.depth_exceeded decode.too_many_layers decode.bad_verdict; do
	grep -q -- "\`$e\`" "$doc" || { echo "docs/decode.md does not name event $e"; missing=$((missing + 1)); }
done
count=$(wc -l <<<"$names")
if [ "$missing" -ne 0 ]; then
	echo "docs: $missing of $count names missing"
	exit 1
fi
echo "docs: all $count dissector and event names documented"

# Every configuration key the reader knows (the *_keys[] tables of
# core/config*.c) is named in docs/configuration.md and in tm.conf(5).
keys=$(python3 - "$TM_SRC" <<'PY'
import glob, re, sys
src = sys.argv[1]
keys = set()
for f in glob.glob(src + '/core/config*.c'):
    text = open(f).read()
    for m in re.finditer(r'static const char \*const (\w+)_keys\[\] = \{([^}]*)\}', text):
        for k in re.findall(r'"([a-z_]+)"', m.group(2)):
            keys.add(k)
for k in sorted(keys):
    print(k)
PY
)
kmiss=0
for k in $keys; do
	grep -q -- "$k" "$TM_SRC/docs/configuration.md" ||
	    { echo "docs/configuration.md does not name the key $k"; kmiss=$((kmiss + 1)); }
	grep -q -- "$k" "$TM_SRC/docs/man/tm.conf.5" ||
	    { echo "docs/man/tm.conf.5 does not name the key $k"; kmiss=$((kmiss + 1)); }
done
if [ "$kmiss" -ne 0 ]; then
	echo "docs: $kmiss configuration keys undocumented"
	exit 1
fi
echo "docs: all $(wc -w <<<"$keys") configuration keys documented in configuration.md and tm.conf(5)"
