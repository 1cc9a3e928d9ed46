#!/usr/bin/env bash
# Installs the Debian 12 packages Causeway needs that are not yet installed.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the tests use (wrk, jupyter for the notebook)
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang-format
      libssl-dev libboost-dev libeigen3-dev libcpp-httplib-dev libsqlite3-dev nlohmann-json3-dev catch2)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(curl wrk python3 python3-requests python3-pandas python3-matplotlib
         jupyter-nbconvert python3-nbformat python3-ipykernel)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
