#!/usr/bin/env bash
# Builds a relocatable prefix with the Debian libraries the CMake mirror needs
# beyond LibTorch (Abseil; zlib, libjpeg, libpng), for machines that have a pip
# PyTorch but no Debian packages (the GPU machines). Run it on a Debian
# machine, carry the folder along, and pass <prefix>/usr in CMAKE_PREFIX_PATH
# (bench/gpu/run.sh looks for build/gpu-deps by itself).
#
#   bench/gpu/make_deps_prefix.sh [PREFIX]            # default build/gpu-deps
#   bench/gpu/make_deps_prefix.sh PREFIX --from-debs DIR
#
# By default the files of the installed packages are copied (dpkg -L), which
# needs no network; with --from-debs the .deb files in DIR (e.g. from
# `apt-get download libabsl-dev libabsl20220623 ...`) are unpacked with
# `dpkg -x`. Either way the result is the packages' own tree under PREFIX/usr,
# whose CMake configs locate themselves relative to their own path.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=${1:-build/gpu-deps}
packages=(libabsl-dev libabsl20220623 zlib1g zlib1g-dev libjpeg62-turbo
          libjpeg62-turbo-dev libpng16-16 libpng-dev)

rm -rf "$prefix"
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
if [[ ${2:-} == --from-debs ]]; then
  debs=${3:?--from-debs needs a folder of .deb files}
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
else
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "make_deps_prefix: $p is not installed (scripts/setup installs it)" >&2
      exit 1
    fi
    # Regular files and symbolic links (the lib*.so development links).
    dpkg -L "$p" | while IFS= read -r f; do
      if [[ -f $f || -L $f ]] && [[ ! -d $f ]]; then
        (cd / && cp -a --parents "${f#/}" "$prefix")
      fi
    done
  done
fi
# Debian keeps libz.so.1 in /lib (merged /usr): make the dev link resolve.
if [[ -d $prefix/lib && ! -L $prefix/lib ]]; then
  mkdir -p "$prefix/usr/lib"
  cp -a "$prefix/lib/." "$prefix/usr/lib/"
  rm -rf "$prefix/lib"
fi
rm -rf "$prefix/usr/share/doc" "$prefix/usr/share/man"
# Absolute links (libz.so -> /lib/...) would point outside the prefix.
find "$prefix" -type l | while IFS= read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* ]]; then
    ln -sfn "$(basename "$target")" "$link"
    [[ -e $link ]] || echo "make_deps_prefix: dangling $link" >&2
  fi
done
du -sh "$prefix"
ls "$prefix/usr/lib/x86_64-linux-gnu/cmake"
