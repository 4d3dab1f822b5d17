#!/usr/bin/env bash
# End-to-end: tm decode over every real capture in shared/pcaps, compared
# with tshark's dissection (FILE.expected.jsonl, made by
# shared/bench/tshark-oracle) field by field: l3, proto, src, dst, sport,
# dport, spi, vlan. tm must also exit 0, print nothing on stderr and never
# crash. Justified disagreements are listed, with their reason, in
# tests/e2e/tshark-exceptions.tsv; any other disagreement fails, and so
# does a listed one that no longer occurs.
#
# Env: TM (the tm binary), TM_SRC (source tree; captures in
# $TM_SRC/../shared/pcaps). REPORT=1 also shows the listed disagreements;
# SUGGEST=1 prints exception rows for the new ones.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
PCAPS="$TM_SRC/../shared/pcaps"

if [ ! -d "$PCAPS" ]; then
	echo "real_pcaps: $PCAPS not found" >&2
	exit 1
fi
extra=()
[ -n "${REPORT:-}" ] && extra+=(--report)
[ -n "${SUGGEST:-}" ] && extra+=(--suggest)
exec python3 "$TM_SRC/tests/tools/check_oracle.py" --tm "$TM" --pcaps "$PCAPS" \
    --exceptions "$TM_SRC/tests/e2e/tshark-exceptions.tsv" "${extra[@]}"
