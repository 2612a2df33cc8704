#!/bin/sh
# Playwright's webServer command: bootstrap the orgs the dashboard tests sign
# in with (their admin keys go to files in the throwaway data dir, never to
# a log), then become the server.
set -eu
: "${ACEKEYS_BIN:?}" "${ACEKEYS_DATA_DIR:?}"
umask 077
for org in acme globex; do
  "$ACEKEYS_BIN" bootstrap --org "$org" > "$ACEKEYS_DATA_DIR/$org.key"
done
exec "$ACEKEYS_BIN"
