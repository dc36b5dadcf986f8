#!/usr/bin/env bash
# Runs every fuzz target of nettrain for FUZZTIME each (default 60s):
#   scripts/fuzz.sh            # about 8 minutes
#   FUZZTIME=10m scripts/fuzz.sh
# A finding stops the script with the failing input written under the
# package's testdata/fuzz/<Target>/ (commit it: it becomes a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-60s}
targets=(
  "./internal/model FuzzParse"
  "./internal/data FuzzIDX"
  "./internal/data FuzzCSV"
  "./internal/data FuzzSeriesCSV"
  "./internal/data FuzzSafetensorsData"
  "./internal/data FuzzReadImage"
  "./internal/safetensors FuzzParse"
  "./internal/checkpoint FuzzReadMetadata"
  "./internal/session FuzzResumeMetadata"
)
for entry in "${targets[@]}"; do
  read -r pkg target <<<"$entry"
  echo "== $pkg $target ($t)"
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$t"
done
echo "all fuzz targets ran $t without a finding"
