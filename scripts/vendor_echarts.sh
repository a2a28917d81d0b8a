#!/bin/sh
# Refresh the vendored Apache ECharts from the npm registry, checking the tarball's SHA-256.
# Usage: scripts/vendor_echarts.sh [VERSION SHA256]  (default: the pinned ones below)
set -eu
VERSION=${1:-5.6.0}
SHA256=${2:-$(cat "$(dirname "$0")/../app/static/vendor/echarts/SHA256SUMS" 2>/dev/null | awk -v f="echarts-$VERSION.tgz" '$2==f {print $1}')}
DEST="$(dirname "$0")/../app/static/vendor/echarts/$VERSION"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
curl -fsSL "https://registry.npmjs.org/echarts/-/echarts-$VERSION.tgz" -o "$TMP/echarts.tgz"
echo "$SHA256  $TMP/echarts.tgz" | sha256sum -c - >/dev/null || { echo "SHA-256 mismatch for echarts-$VERSION.tgz" >&2; exit 1; }
mkdir -p "$DEST" && tar -xzf "$TMP/echarts.tgz" -C "$TMP" package/dist/echarts.min.js package/LICENSE package/NOTICE
cp "$TMP/package/dist/echarts.min.js" "$TMP/package/LICENSE" "$TMP/package/NOTICE" "$DEST/"
echo "echarts $VERSION -> $DEST"
