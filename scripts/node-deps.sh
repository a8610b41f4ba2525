#!/usr/bin/env bash
# The npm packages of the gateway and of the TypeScript plugin, installed
# with npm ci only when a lock file changed since the last install, and the
# plugin built when its sources changed. make run, make test and make bench
# call it; it does nothing without Node 20+ (they say what that skips).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null 2>&1 || { echo "node-deps: Node.js is not installed"; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || { echo "node-deps: Node.js $(node --version) is too old: 20 or later"; exit 1; }
for dir in gateway plugins/scorecard; do
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.greenroom-lock" 2>/dev/null; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    cp "$dir/package-lock.json" "$dir/node_modules/.greenroom-lock"
  fi
done
if [ ! -f plugins/scorecard/dist/index.js ] || [ -n "$(find plugins/scorecard/src plugins/scorecard/tsconfig.json -newer plugins/scorecard/dist/index.js)" ]; then
  npm run --prefix plugins/scorecard --silent build
fi
