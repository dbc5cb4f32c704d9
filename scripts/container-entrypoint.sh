#!/bin/sh
# The image's entrypoint: each secret the init service generated into TESSERA_SECRETS_DIR (see
# scripts/init-secrets.mjs) becomes the variable of its name, unless that variable is already set and
# not empty; then the command runs (as PID 1, so it gets the container's signals).
set -eu
dir="${TESSERA_SECRETS_DIR:-/run/tessera/secrets}"
for name in TESSERA_KEY_ENCRYPTION_KEY TESSERA_INITIAL_ACCESS_TOKEN PGPASSWORD; do
  eval "current=\${$name:-}"
  if [ -z "$current" ] && [ -r "$dir/$name" ]; then
    value=$(cat "$dir/$name")
    export "$name=$value"
  fi
done
exec "$@"
