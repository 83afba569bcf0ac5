#!/usr/bin/env bash
# The README's test command: installs what the tests need when it is missing (the PostgreSQL
# server binaries, tmux and the OpenSSH client, with apt-get, as root), then runs `cargo test`
# with any arguments.
# Where the tools are present this is plain `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if ! command -v initdb >/dev/null 2>&1 && [ -z "$pg_bin" ]; then missing+=(postgresql); fi
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
  missing+=(openssh-client)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
  else
    echo "test: the tests need ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

exec cargo test "$@"
