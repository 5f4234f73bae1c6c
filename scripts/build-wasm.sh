#!/usr/bin/env bash
# Builds the WebAssembly engine (Emscripten, Release, LTO) and assembles npm/dist/:
#   dist/*.js, *.cjs, *.d.ts       the package's JavaScript (copied from npm/src/)
#   dist/wasm/t4dx_node.cjs        CommonJS loader for Node
#   dist/wasm/t4dx_web.mjs         ES6 loader for pages and Workers
#   dist/wasm/t4dx.wasm            the one .wasm both loaders use
# Usage: scripts/build-wasm.sh            (BUILD_WASM=dir to change the build directory)
# Prints the .wasm size raw and gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_WASM=${BUILD_WASM:-build-wasm}
JOBS=${JOBS:-2}
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs Debian's acorn

if ! command -v emcmake >/dev/null; then
  echo "build-wasm: emcmake not found (run make deps)" >&2
  exit 1
fi
if [[ ! -f $BUILD_WASM/CMakeCache.txt ]]; then
  emcmake cmake -S . -B "$BUILD_WASM" -DT4DX_BUILD_TESTS=OFF -DT4DX_BUILD_TOOLS=OFF \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD_WASM" --target t4dx_node t4dx_web -j "$JOBS"

BIN=$BUILD_WASM/bin
if ! cmp -s "$BIN/t4dx_node.wasm" "$BIN/t4dx_web.wasm"; then
  echo "build-wasm: the Node and web links produced different .wasm files" >&2
  exit 1
fi

STAGE=npm/dist.tmp
rm -rf "$STAGE"
mkdir -p "$STAGE/wasm"
cp npm/src/*.js npm/src/*.cjs npm/src/*.d.ts "$STAGE/"
cp "$BIN/t4dx_node.js" "$STAGE/wasm/t4dx_node.cjs"
cp "$BIN/t4dx_web.js" "$STAGE/wasm/t4dx_web.mjs"
cp "$BIN/t4dx_node.wasm" "$STAGE/wasm/t4dx.wasm"
rm -rf npm/dist
mv "$STAGE" npm/dist

raw=$(stat -c %s npm/dist/wasm/t4dx.wasm)
gz=$(gzip -9 -c npm/dist/wasm/t4dx.wasm | wc -c)
echo "build-wasm: npm/dist ready; t4dx.wasm $raw bytes, $gz gzipped"
