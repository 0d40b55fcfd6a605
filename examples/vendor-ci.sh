#!/usr/bin/env bash
# A vendor's CI pipeline against Navet (issue 16): start Navet, open a conformance session, run the vendor's
# tests (here the reference EPJ; put your own test command in VENDOR_TESTS), grade, keep the JUnit file.
# Exit code: 0 passed, 3 a required requirement failed or was skipped, 4 or more an error of the tool.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8099}"
OUT="${OUT:-conformance-reports}"
CLIENT="${CLIENT:-reference-epj}"
PROFILES="${PROFILES:-helseid-client,pjd-consumer,pjd-source,kj-critical-information,sfm-basis,pps-consumer,pps-lab-source}"
export PORT HOST=127.0.0.1 NAVET_BASE_URL="http://127.0.0.1:${PORT}" NAVET_LOG_LEVEL=warn
export NAVET_DATA_DIR="${NAVET_DATA_DIR:-$(mktemp -d)}"
export NAVET_DEMO_ADMIN_KEY="${NAVET_DEMO_ADMIN_KEY:-ci-$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')}"
export NAVET_ADMIN_KEY="$NAVET_DEMO_ADMIN_KEY"
mkdir -p "$OUT"

# 1. start Navet (a fresh sandbox 'demo' seeded from the fixtures)
[ -f dist/main.js ] || npm run build --silent
node dist/main.js serve > "$OUT/navet.log" 2>&1 &
NAVET_PID=$!
trap 'kill "$NAVET_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "$NAVET_BASE_URL/healthz" > /dev/null && break; sleep 0.5; done

# 2. the vendor's client is registered in the sandbox (once; a real vendor registers its own keys)
KEY_FILE="$OUT/client-key.json"
node dist/clients/run-reference-vendor.js register --url "$NAVET_BASE_URL" --sandbox demo --client "$CLIENT" --key-file "$KEY_FILE"

# 3. open a session, arm every challenge, run the vendor's tests, grade, write the reports
VENDOR_TESTS="${VENDOR_TESTS:-node dist/clients/run-reference-vendor.js run --url $NAVET_BASE_URL --sandbox demo --client $CLIENT --key-file $KEY_FILE --profile $PROFILES}"
set +e
node dist/main.js conformance run --url "$NAVET_BASE_URL" --sandbox demo --client "$CLIENT" --profile "$PROFILES" \
  --label "${LABEL:-CI build}" --challenge all --exec "$VENDOR_TESTS" \
  --json "$OUT/conformance.json" --junit "$OUT/conformance.xml" --html "$OUT/conformance.html"
STATUS=$?
set -e
echo "JUnit report kept in $OUT/conformance.xml (exit $STATUS)"
exit "$STATUS"
