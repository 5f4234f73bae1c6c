#!/usr/bin/env bash
# make deps: installs every package the project needs, pinned, from Debian and npm.
# Idempotent: a second run installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages (name=version). Keep this list the only place versions are named.
APT_PKGS=(
  nlohmann-json3-dev=3.11.2-2
  libxxhash-dev=0.8.1-1
  libcpp-httplib-dev=0.11.4+ds-1+deb12u1
  emscripten=3.1.6~dfsg-5
  libleveldb-dev=1.23-4
  librocksdb-dev=7.8.3-2
  libsqlite3-dev=3.40.1-2+deb12u2   # t4dx-bench's SQLite peer
  gnuplot-nox=5.4.4+dfsg1-2+b2      # make bench: the plots in BENCHMARKS.md
  lcov=1.16-1
  wrk=4.1.0-3+b2
  clang=1:14.0-55.7~deb12u1
  libclang-rt-14-dev=1:14.0.6-12
  chromium=156.0.8078.108-1~deb12u1
  curl=7.88.1-10+deb12u14
  jq=1.6-2.1+deb12u1
)

missing=()
for spec in "${APT_PKGS[@]}"; do
  name=${spec%%=*}; want=${spec#*=}
  have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
  if [[ "$have" != "install ok installed $want" ]]; then missing+=("$spec"); fi
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# hnswlib 0.8.0 headers, as shipped inside the npm package hnswlib-node@3.0.0 (pinned by its
# registry integrity hash; the package is unpacked, never built or installed).
HNSW_DIR=.deps/hnswlib-node-3.0.0
HNSW_SHA512=fypn21qvVORassppC8/qNfZ5KAOspZpm/IbUkAtlqvbtDNnF5VVk5RWF7O5V6qwr7z+T3s1ePej6wQt5wRQ4Cg==
if [[ ! -f $HNSW_DIR/src/hnswlib/hnswalg.h ]]; then
  mkdir -p .deps/tmp
  (cd .deps/tmp && npm pack --silent hnswlib-node@3.0.0 >/dev/null)
  got=$(node -e 'const c=require("crypto");process.stdout.write(c.createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' .deps/tmp/hnswlib-node-3.0.0.tgz)
  if [[ "$got" != "$HNSW_SHA512" ]]; then
    echo "deps: hnswlib-node-3.0.0.tgz integrity mismatch: got $got" >&2; exit 1
  fi
  rm -rf "$HNSW_DIR"; mkdir -p "$HNSW_DIR"
  tar xzf .deps/tmp/hnswlib-node-3.0.0.tgz -C "$HNSW_DIR" --strip-components=1
  rm -rf .deps/tmp
fi
# One local change (idempotent): hnswlib gives every index 65536 label-operation mutexes,
# 2.5 MiB written at construction, so each open store paid 2.5 MiB for its first segment
# (50 sessions: 125 MiB). The lock is chosen by label & (N - 1) and our labels are dense
# slots, so 1024 (40 KiB) keeps concurrent adds of different labels apart all the same.
sed -i 's/MAX_LABEL_OPERATION_LOCKS = 65536;/MAX_LABEL_OPERATION_LOCKS = 1024;/' \
  "$HNSW_DIR/src/hnswlib/hnswalg.h"

# npm packages of the JavaScript parts (lock files pin them).
for d in npm web tests/js; do
  if [[ -f $d/package-lock.json && ! -d $d/node_modules ]]; then
    (cd "$d" && npm ci --silent --no-audit --no-fund)
  fi
done
echo "deps: ok"
