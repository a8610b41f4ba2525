#!/usr/bin/env bash
# Refreshes the GraphiQL assets that the server embeds, so that GraphiQL at /
# works on a machine without internet access. The versions are pinned here;
# the files are committed, gzip-compressed, in internal/server/graphiql/.
set -euo pipefail
GRAPHIQL=3.8.3 # the last major version that ships a browser bundle
REACT=18.3.1
out="$(cd "$(dirname "$0")/.." && pwd)/internal/server/graphiql"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}" --strip-components=1; done
gz() { sed '/sourceMappingURL=/d' "$1" | gzip -9 -n > "$out/$2.gz"; }
gz "graphiql-$GRAPHIQL/graphiql.min.js" graphiql.min.js
gz "graphiql-$GRAPHIQL/graphiql.min.css" graphiql.min.css
gz "react-$REACT/umd/react.production.min.js" react.production.min.js
gz "react-dom-$REACT/umd/react-dom.production.min.js" react-dom.production.min.js
cp "graphiql-$GRAPHIQL/LICENSE" "$out/LICENSE.graphiql"
cp "react-$REACT/LICENSE" "$out/LICENSE.react"
echo "GraphiQL $GRAPHIQL and React $REACT written to $out"
