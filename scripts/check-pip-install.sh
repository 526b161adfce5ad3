#!/usr/bin/env bash
# The install a Prefect worker on another host makes: plain `pip install .` into an empty virtual
# environment, without uv or the lock. Then the two commands that broke when a runtime dependency was
# only in the dev group: `tradewatch extract` of a page, and a short `tradewatch run` of the demo feed,
# served on 127.0.0.1 by the installed `tradewatch demo --site-only` (offline; Prefect's temporary server).
# The optional extras ([train], [postgres], [demo]) are left out, as a worker leaves them out: a command
# that needs one must say which `pip install` to run, in one line on stderr, with exit status 2.
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

# expect_extra EXTRA COMMAND...: the command fails with exit 2 and one stderr line naming the extra.
expect_extra() {
    local extra=$1 code=0
    shift
    (cd "$WORK" && "$@") > "$WORK/extra.out" 2> "$WORK/extra.err" || code=$?
    if [ "$code" != 2 ] || [ "$(wc -l < "$WORK/extra.err")" != 1 ] || [ -s "$WORK/extra.out" ] \
        || ! grep -qF "pip install 'tradewatch[$extra]'" "$WORK/extra.err"; then
        echo "check-pip-install: expected exit 2 and one line naming tradewatch[$extra], got exit $code:"
        cat "$WORK/extra.out" "$WORK/extra.err"
        exit 1
    fi
    echo "check-pip-install: $(cat "$WORK/extra.err")"
}
printf '%s\n' '{"title": "Tariffs rise", "text": "Duties on steel.", "is_trade": true}' > "$WORK/labels.jsonl"
expect_extra train "$TW" classifier train labels.jsonl
printf '[database]\nurl = "postgresql://tradewatch@127.0.0.1/tradewatch"\n' > "$WORK/pg.toml"
expect_extra postgres "$TW" feeds status --config pg.toml
expect_extra demo "$TW" demo --port "$PORT"
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
