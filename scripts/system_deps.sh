#!/usr/bin/env bash
# Install the system packages the project needs, only those missing (Debian/Ubuntu, as root or with sudo).
set -euo pipefail
need=()
ldconfig -p | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so' || need+=(libpangoft2-1.0-0)
ldconfig -p | grep -q 'libharfbuzz-subset.so' || need+=(libharfbuzz-subset0)
# Renderer fonts: Arabic (and full Noto Sans for Greek, Cyrillic...), then CJK; the Latin face is bundled.
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || need+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
command -v npm >/dev/null || need+=(npm)
# The dashboard's browser test drives Debian's chromium through Playwright (no browser download).
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
