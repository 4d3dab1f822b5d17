#!/usr/bin/env bash
# End-to-end: the decode fixtures (tests/fixtures/decode: one small capture
# per encapsulation and per malformed branch, built by
# tests/tools/make_decode_fixtures.py) through the real `tm decode --json`.
#
#  1. tm's key fields equal each fixture's golden file, frame by frame;
#  2. each golden file agrees with the fixture's intent (what the fixture
#     script built), so a golden file cannot silently bless a wrong decode;
#  3. every dissector event is produced by some fixture;
#  4. when tshark is installed, tshark's view (shared/bench/tshark-oracle)
#     agrees with the golden files but for the disagreements listed with
#     their reason in tests/fixtures/decode/tshark-disagreements.tsv.
#     Without tshark this part is skipped with a message (CI installs it).
#
# Env: TM (the tm binary), TM_SRC (the source tree; the oracle is in
# $TM_SRC/../shared/bench). Python 3 standard library only.
set -euo pipefail

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"

if ! command -v tshark >/dev/null 2>&1; then
	echo "decode_fixtures: tshark is not installed: the tshark cross-check is" \
	    "SKIPPED (apt-get install tshark to run it; the README's test command does)"
fi
exec python3 "$TM_SRC/tests/tools/check_golden.py" --tm "$TM" \
    --dir "$TM_SRC/tests/fixtures/decode" \
    --oracle "$TM_SRC/../shared/bench/tshark-oracle"
