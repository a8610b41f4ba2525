#!/usr/bin/env bash
# make run: the whole portal on this machine, with the example data — the core
# (bin/greenroom, :7007), the Tech Radar plugin (bin/techradar, :7008) and the
# gateway that composes them (gateway/, Node, :4000) — until Ctrl-C, which
# stops all three. Without Node 20+ it serves the core alone and says why.
set -euo pipefail
cd "$(dirname "$0")/.."

pids=()
stop() {
  trap - EXIT INT TERM
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

./bin/greenroom serve --location examples/catalog/all.yaml --location examples/templates/docs-site/template.yaml &
core=$!
pids+=("$core")

core_alone() {
  echo "make run: $1: serving the core alone, without plugins or the gateway."
  echo "make run: open http://127.0.0.1:7007/"
  wait "$core"
  exit 1
}
command -v node >/dev/null 2>&1 || core_alone "Node.js is not installed (the gateway needs Node 20 or later)"
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || core_alone "Node.js $(node --version) is too old (the gateway needs Node 20 or later)"
scripts/node-deps.sh || core_alone "the gateway's npm packages could not be installed"

./bin/techradar --radar larkspur=examples/techradar/radar.yaml --database ./techradar.db &
radar=$!
pids+=("$radar")
node gateway/server.mjs --config gateway/gateway.yaml &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null http://127.0.0.1:4000/readyz 2>/dev/null; then
    echo
    echo "make run: Greenroom is ready: open http://127.0.0.1:4000/"
    echo "make run: (GraphiQL over the catalog and the Tech Radar plugin; Ctrl-C stops everything."
    echo "make run:  The plugin is pid $radar: stop it, and the gateway serves the catalog without it.)"
    break
  fi
  sleep 0.5
done
# The portal runs as long as the core does; a plugin or the gateway may stop
# alone (the gateway answers without a missing plugin's fields).
wait "$core"
