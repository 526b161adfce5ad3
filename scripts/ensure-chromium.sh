#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests.
# Idempotent: does nothing but print the version when it is already there. Installs with apt as root;
# never downloads a browser through Playwright (`playwright install` is not used anywhere).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available;" \
             "install Debian's chromium package by hand." >&2
        exit 1
    fi
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO="sudo -n"
        else
            echo "ensure-chromium: $CHROMIUM is missing and installing it needs root;" \
                 "run: sudo apt-get install -y --no-install-recommends chromium" >&2
            exit 1
        fi
    fi
    echo "ensure-chromium: installing Debian's chromium package (apt-get) ..."
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        || ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; then
        echo "ensure-chromium: apt-get could not install chromium (is the Debian package mirror reachable?)" >&2
        exit 1
    fi
    if [ ! -x "$CHROMIUM" ]; then
        echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
        exit 1
    fi
fi

if ! version=$("$CHROMIUM" --headless --no-sandbox --version 2>/dev/null); then
    echo "ensure-chromium: $CHROMIUM is installed but does not start (--version failed)" >&2
    exit 1
fi
echo "ensure-chromium: $version ($CHROMIUM)"
