# Sourced by the seed scripts that build stores with tm
# (fuzz_sidecar.seeds.sh, fuzz_flowrec.seeds.sh): sets out (the seed
# directory, made), src, tm (TM, or build-fuzz's) and tmp (removed on
# exit); with no tm, says so and exits 0: no seeds.
set -eu
out=${1:?usage: $0 DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
tm=${TM:-${FUZZ_BUILD:-$src/build-fuzz}/bin/tm}
mkdir -p "$out"
if [ ! -x "$tm" ]; then
	echo "$(basename "$0"): no tm at $tm: no seeds" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
