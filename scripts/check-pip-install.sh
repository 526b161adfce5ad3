#!/usr/bin/env bash
# The install a Prefect worker on another host makes: plain `pip install .` into an empty virtual
# environment, without uv or the lock. Then the two commands that broke when a runtime dependency was
# only in the dev group: `tradewatch extract` of a page, and a short `tradewatch run` of the demo feed,
# served on 127.0.0.1 by the installed `tradewatch demo --site-only` (offline; Prefect's temporary server).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d)
SITE_PID=""
cleanup() {
    if [ -n "$SITE_PID" ]; then kill "$SITE_PID" 2>/dev/null || true; wait "$SITE_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "check-pip-install: pip install . into an empty venv ($WORK/venv)"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check .
TW="$WORK/venv/bin/tradewatch"

echo "check-pip-install: tradewatch extract"
"$TW" extract seeds/demo/articles/trade-talks-japan.html > "$WORK/article.json"
grep -q '"title": "Trump Claims' "$WORK/article.json"

PORT=$("$WORK/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$WORK" && exec "$TW" demo --site-only --port "$PORT") > "$WORK/site.log" 2>&1 &
SITE_PID=$!
for _ in $(seq 1 100); do
    grep -q "serving until" "$WORK/site.log" 2>/dev/null && break
    sleep 0.2
done
cat > "$WORK/tradewatch.toml" <<TOML
[database]
url = "sqlite:///$WORK/tw.db"

[fetch]
allow_private_networks = ["127.0.0.0/8"]

[[feeds]]
name = "Demo RSS"
url = "http://127.0.0.1:$PORT/feeds/rss.xml"
TOML

echo "check-pip-install: tradewatch run (Prefect's temporary server; up to a few minutes on a busy machine)"
(cd "$WORK" && env -u PREFECT_API_URL NO_PROXY=127.0.0.1,localhost "$TW" run --quiet --config tradewatch.toml) \
    | tee "$WORK/run.out"
grep -Eq '^summary: feeds=1 new_articles=[1-9][0-9]* .* failures=0' "$WORK/run.out"
echo "check-pip-install: ok"
