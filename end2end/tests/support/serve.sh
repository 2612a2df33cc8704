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
# A scanner's signing key for the leaked-key report test (the GitHub secret
# scanning format): the server trusts its public half.
node -e '
const { generateKeyPairSync } = require("node:crypto");
const { writeFileSync } = require("node:fs");
const dir = process.env.ACEKEYS_DATA_DIR;
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
writeFileSync(dir + "/leak-signer.pem", privateKey.export({ type: "pkcs8", format: "pem" }));
const key = publicKey.export({ type: "spki", format: "pem" });
writeFileSync(dir + "/leak-keys.json", JSON.stringify({ public_keys: [{ key_identifier: "e2e-scanner", key, is_current: true }] }));
'
export ACEKEYS_LEAK_REPORT_KEYS="$ACEKEYS_DATA_DIR/leak-keys.json"
exec "$ACEKEYS_BIN"
