#!/usr/bin/env bash
# Install the system packages reportgen needs, only those missing (Debian/Ubuntu).
#   runtime: Pango/HarfBuzz for WeasyPrint, the Inter and DejaVu fonts, and fallback fonts
#            for glyphs those lack (emoji, symbols, Arabic, Hebrew, Chinese, Japanese and
#            Korean) found in data values
#   tests:   LibreOffice Impress and Calc (open and convert decks and workbooks),
#            poppler-utils (pdftoppm),
#            the PostgreSQL server (the ledger's tests start a throwaway cluster with it),
#            Chromium (the web page's browser tests drive /usr/bin/chromium with Playwright)
#            redis-server (the Celery executor's tests start a broker on loopback)
# Usage: scripts/bootstrap-system.sh [runtime|test]
set -euo pipefail

profile="${1:-test}"
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-inter fonts-dejavu-core fonts-liberation2 fonts-noto-color-emoji fonts-symbola fonts-noto-core fonts-noto-cjk python3-venv)
if [ "$profile" = "test" ]; then
  packages+=(libreoffice-impress-nogui libreoffice-calc-nogui poppler-utils postgresql chromium redis-server)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "reportgen: missing system packages (${missing[*]}) and no apt-get to install them;" >&2
  echo "install the equivalents with your package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing system packages: ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# matplotlib caches its font list on first use and never rescans; drop the cache so the
# charts see fonts installed just now.
rm -f "${MPLCONFIGDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/matplotlib}"/fontlist-*.json
