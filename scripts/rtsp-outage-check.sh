#!/usr/bin/env bash
# A server started from a config file with two RTSP cameras; one camera's RTSP server is killed for
# OUTAGE seconds (default 300) and started again; /healthz and /metrics are printed before, during
# and after. Nothing is clicked: the camera must come back on its own (issue 12). Needs GStreamer's
# RTSP server (.ci/install) and ports 18080, 18554, 18555. About OUTAGE + 2 min.
#   bash scripts/rtsp-outage-check.sh [OUTDIR]
set -u
out=${1:-$(mktemp -d /tmp/rtsp-outage.XXXX)}
mkdir -p "$out"
OUTAGE=${OUTAGE:-300}
cd "$(dirname "$0")/.."
P=/usr/bin/python3
$P test/fixtures/rtsp_server.py --port 18554 --mount /a --source videotestsrc > "$out"/a.log 2>&1 &
A=$!
$P test/fixtures/rtsp_server.py --port 18555 --mount /b --source videotestsrc > "$out"/b.log 2>&1 &
B=$!
sleep 3
cat > "$out"/config.json <<'J'
{ "port": 18080, "cameras": [ { "kind": "rtsp", "id": "cam-a", "url": "rtsp://127.0.0.1:18554/a" }, { "kind": "rtsp", "id": "cam-b", "url": "rtsp://127.0.0.1:18555/b" } ] }
J
# Its own process group, so that the end can stop npm, tsx and node together.
setsid npm start -- --config "$out"/config.json --no-history --no-demo > "$out"/server.log 2>&1 &
S=$!
sleep 25
echo "== $(date +%T) both up:"; curl -s http://127.0.0.1:18080/healthz; echo
kill $B; echo "== $(date +%T) killed RTSP server b"
sleep 60; echo "== $(date +%T) 1 min into the outage:"; curl -s http://127.0.0.1:18080/healthz; echo
sleep $((OUTAGE - 60))
$P test/fixtures/rtsp_server.py --port 18555 --mount /b --source videotestsrc > "$out"/b2.log 2>&1 &
B=$!; echo "== $(date +%T) RTSP server b back after $OUTAGE s"
sleep 45; echo "== $(date +%T) 45 s later:"; curl -s http://127.0.0.1:18080/healthz; echo
curl -s http://127.0.0.1:18080/metrics | grep -E "countertop_stream_(up|reconnects_total|stalls_total)" ; echo
kill -- -$S; kill $A $B
