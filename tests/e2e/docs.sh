#!/usr/bin/env bash
# The docs stay true: every dissector and every event that `tm plugins`
# reports is named in docs/decode.md.
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
