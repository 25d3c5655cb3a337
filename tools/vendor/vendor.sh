#!/usr/bin/env bash
# Installs the web UI's third-party assets from npm (versions pinned by package-lock.json)
# and copies what the pages use into static/vendor/, which is committed: the binary embeds
# static/ at compile time, so building Portale needs cargo only, and the site makes no
# request to a CDN at run time.
#
#   - MapLibre GL JS (the ESM build and its worker, loaded by the map pages only);
#   - Bootstrap Italia's stylesheet, reduced by PurgeCSS to the selectors that
#     static/templates/ and static/js/ use (the whole file is 612 KB, 91 KB gzipped,
#     which alone would break the pages' 100 KB budget);
#   - the Titillium Web fonts Bootstrap Italia is designed for (declared in
#     static/css/portale.css; Bootstrap Italia's own JS would inject them).
#
# Run it again after adding a Bootstrap Italia class to a template or a script, and
# commit static/vendor with the change. CI runs it and fails if static/vendor differs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/static/vendor"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error >/dev/null

rm -rf "$out"
mkdir -p "$out/maplibre-gl" "$out/bootstrap-italia" "$out/fonts"

ml=node_modules/maplibre-gl
cp "$ml/dist/maplibre-gl.mjs" "$ml/dist/maplibre-gl-worker.mjs" "$ml/dist/maplibre-gl.css" "$out/maplibre-gl/"
cp "$ml/LICENSE.txt" "$out/maplibre-gl/LICENSE.txt"

bi=node_modules/bootstrap-italia
shopt -s nullglob
content=("$root"/static/templates/*.html "$root"/static/js/*.js)
npx --no-install purgecss \
  --css "$bi/dist/css/bootstrap-italia.min.css" \
  --content "${content[@]}" \
  --font-face --keyframes --variables \
  --output "$out/bootstrap-italia/bootstrap-italia.min.css"
cp "$bi/LICENSE" "$out/bootstrap-italia/LICENSE"

for w in regular 600 700; do
  cp "$bi/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-$w.woff2" "$out/fonts/"
done
cp "$bi/dist/fonts/Titillium_Web/OFL.txt" "$out/fonts/OFL.txt"

{
  echo "# Installed by tools/vendor/vendor.sh from npm (tools/vendor/package-lock.json)."
  node -e '
    const lock = require("./package-lock.json");
    for (const name of ["maplibre-gl", "bootstrap-italia", "purgecss"]) {
      const p = lock.packages["node_modules/" + name];
      console.log(`${name} ${p.version} ${p.license || ""} ${p.integrity}`);
    }'
} > "$out/VERSIONS"
du -b "$out"/*/* | sort -k2
