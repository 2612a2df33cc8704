# Google's Cloud Firestore emulator for the tests. Sourced, not executed:
#   start_firestore_emulator   starts it on a free port, waits until it
#                              answers, exports FIRESTORE_EMULATOR_HOST
#   stop_firestore_emulator    stops it by PID
# Without the jar (or Java) nothing is exported, and every Firestore test
# then fails saying the emulator is missing: they never pass silently.

FIRESTORE_EMULATOR_JAR="${FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
FIRESTORE_EMULATOR_PID=""

start_firestore_emulator() {
  unset FIRESTORE_EMULATOR_HOST
  if [[ ! -f "$FIRESTORE_EMULATOR_JAR" ]] || ! command -v java >/dev/null; then
    log "Firestore emulator not found ($FIRESTORE_EMULATOR_JAR on Java 17): the Firestore tests will fail"
    return 0
  fi
  local port log_file
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  log_file="$ACEKEYS_CACHE/firestore-emulator.log"
  mkdir -p "$ACEKEYS_CACHE"
  java -Duser.language=en -cp "$FIRESTORE_EMULATOR_JAR" \
    com.google.cloud.datastore.emulator.firestore.CloudFirestore \
    --host=127.0.0.1 --port="$port" >"$log_file" 2>&1 &
  FIRESTORE_EMULATOR_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$port/" >/dev/null; then
      export FIRESTORE_EMULATOR_HOST="127.0.0.1:$port"
      log "Firestore emulator on $FIRESTORE_EMULATOR_HOST (pid $FIRESTORE_EMULATOR_PID, log $log_file)"
      return 0
    fi
    if ! kill -0 "$FIRESTORE_EMULATOR_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  log "the Firestore emulator did not start; its log ($log_file):"
  tail -20 "$log_file" >&2 || true
  stop_firestore_emulator
  return 1
}

stop_firestore_emulator() {
  if [[ -n "$FIRESTORE_EMULATOR_PID" ]]; then
    kill "$FIRESTORE_EMULATOR_PID" 2>/dev/null || true
    wait "$FIRESTORE_EMULATOR_PID" 2>/dev/null || true
    FIRESTORE_EMULATOR_PID=""
  fi
}
