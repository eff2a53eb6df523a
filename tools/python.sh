#!/usr/bin/env bash
# Print the path of a Python 3.12 or later, building CPython once per machine when none exists.
#
# Looked for, in order: $PYTHON (when set), python3.13 and python3.12 on PATH, and a CPython
# built earlier by this script under ${XDG_CACHE_HOME:-~/.cache}/pooling/python. With none of
# them, CPython is built from Debian's source package of it (the upstream tarball with its
# signature, checked by apt against Debian's archive key), fetched with apt-get through a
# private source list and lists directory: the system's package sources and libraries are left
# as they are. The build takes about 12 minutes on 2 cores; its log is kept beside it.
set -euo pipefail

VERSION=3.13
DEBIAN_SUITE=trixie
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/pooling/python/$VERSION"

usable() {  # usable PYTHON: a CPython 3.12+ with venv, the modules that pip and Jupyter need,
             # and a shared libpython (PyTensor links it)
  "$1" -c 'import sys, sysconfig, venv, ensurepip, ssl, sqlite3, ctypes, lzma, bz2, zlib
assert sys.version_info >= (3, 12)
assert sysconfig.get_config_var("Py_ENABLE_SHARED")' >/dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
  usable "$PYTHON" || { echo "tools/python.sh: PYTHON=$PYTHON is not a CPython 3.12 or later built with --enable-shared; unset it to use or build one" >&2; exit 1; }
  echo "$PYTHON"; exit 0
fi
for candidate in python3.13 python3.12 "$prefix/bin/python$VERSION"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  # pyenv's shims resolve to the real interpreter, so that .venv does not depend on the shim
  real=$("$path" -c 'import sys; print(sys.executable)' 2>/dev/null) || continue
  if usable "$real"; then echo "$real"; exit 0; fi
done

command -v apt-get >/dev/null && command -v cc >/dev/null && command -v make >/dev/null || {
  echo "tools/python.sh: no Python 3.12 or later found, and building one needs apt-get, a C compiler and make: install python3.13 (or set PYTHON=/path/to/python3.12+) and run make again" >&2
  exit 1
}

echo "make: no Python 3.12 or later on this machine: building CPython $VERSION into $prefix (about 12 minutes, once per machine)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/parts" "$work/cache/archives/partial" "$work/src"
echo "deb-src http://deb.debian.org/debian $DEBIAN_SUITE main" > "$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
             -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root"
             -o "Debug::NoLocking=true")
apt-get "${apt_options[@]}" -qq update >&2
(cd "$work/src" && apt-get "${apt_options[@]}" -qq --download-only source "python$VERSION" >&2)
tarball=$(ls "$work/src"/python"$VERSION"_*.orig.tar.xz)
tar -xJf "$tarball" -C "$work/src"
source_dir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'Python-*')

log="$prefix.build.log"
mkdir -p "$(dirname "$prefix")"
staging="$prefix.partial"
rm -rf "$staging"
(
  cd "$source_dir"
  # --enable-shared: PyTensor's C linker links libpython, and fails on a static one.
  ./configure --prefix="$prefix" --enable-shared --with-ensurepip=install \
    LDFLAGS="-Wl,-rpath,$prefix/lib"
  make -j"$(nproc)"
  make install DESTDIR="$staging"
) > "$log" 2>&1 || { echo "tools/python.sh: building CPython failed; the log is $log" >&2; exit 1; }
# Installed under a staging root, then moved into place: an interrupted build leaves nothing
# that the next run would take for a finished one.
rm -rf "$prefix"
mv "$staging$prefix" "$prefix"
rm -rf "$staging"
usable "$prefix/bin/python$VERSION" || {
  echo "tools/python.sh: the CPython built in $prefix lacks a module (ssl, sqlite3, ctypes, lzma, bz2 or zlib): install libssl-dev libsqlite3-dev libffi-dev liblzma-dev libbz2-dev zlib1g-dev, remove $prefix and run make again; the log is $log" >&2
  exit 1
}
echo "$prefix/bin/python$VERSION"
