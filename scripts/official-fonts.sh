#!/usr/bin/env bash
# The Fandol faces (FandolFang, FandolSong, FandolHei, FandolKai: free faces with the shapes GB/T 9704
# asks for) for the official layout. Debian ships them in texlive-lang-chinese, whose installation
# drags in TeX: the package is downloaded and unpacked instead, and only the Fandol .otf files and
# their licence are copied to /usr/local/share/fonts/fandol/. Does nothing when they are there.
# Run as root (scripts/system-packages.sh calls it).
set -euo pipefail
target=/usr/local/share/fonts/fandol
faces=(FandolFang-Regular FandolSong-Regular FandolSong-Bold FandolHei-Regular FandolHei-Bold FandolKai-Regular)
present=true
for face in "${faces[@]}"; do
  [ -f "$target/$face.otf" ] || present=false
done
$present && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the Fandol fonts are missing: run scripts/official-fonts.sh as root" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download runs as the _apt user where it can: the directory must be writable by it.
chmod 777 "$work"
if ! apt-get download -qq texlive-lang-chinese 2>/dev/null; then
  apt-get update -qq
  apt-get download -qq texlive-lang-chinese
fi
dpkg-deb -x texlive-lang-chinese_*.deb unpacked
source=unpacked/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol
install -d -m 755 "$target"
for face in "${faces[@]}"; do
  install -m 644 "$source/$face.otf" "$target/"
done
# The licence (GPL with the font exception: README names it, COPYING is the GPL) travels with them.
docs=unpacked/usr/share/doc/texlive-doc/fonts/fandol
install -m 644 "$docs/README" "$target/README"
zcat "$docs/COPYING.gz" >"$target/COPYING"
chmod 644 "$target/COPYING"
fc-cache -f "$target" >/dev/null
echo "installed the Fandol fonts in $target"
