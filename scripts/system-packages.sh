#!/usr/bin/env bash
# Debian packages the project needs: Chromium for the browser tests, Tesseract with its Simplified
# Chinese model for scanned documents (import_document), CJK and Mongolian fonts for
# the official layout (WeasyPrint), the libraries WeasyPrint renders with, poppler-utils to look at
# a rendered page (pdftoppm -png) and redis-server (the fault tests start a private Redis). Installs
# what is missing when it can (root, or sudo without a password); otherwise says what to install.
# Then the Fandol faces of the official layout (scripts/official-fonts.sh), the same way.
set -euo pipefail
packages=(chromium fonts-noto-cjk fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 gettext poppler-utils redis-server tesseract-ocr tesseract-ocr-chi-sim)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  [ ${#missing[@]} -eq 0 ] || echo "missing Debian packages (install them as root): ${missing[*]}" >&2
  bash "$(dirname "$0")/official-fonts.sh"  # says what to run when the fonts are missing
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
$sudo bash "$(dirname "$0")/official-fonts.sh"
