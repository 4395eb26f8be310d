#!/usr/bin/env bash
# Debian packages the test suite drives for real: curl and PHP (the reference's own curl and PHP
# examples, and PDF downloads), chromium (the share page in a headless browser) and poppler-utils
# (pdftoppm renders an issued PDF's page). Installs only what is missing; needs root or sudo when something is.
set -euo pipefail
needed=(curl php-cli php-curl php-xml chromium poppler-utils)
missing=()
for pkg in "${needed[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
