#!/usr/bin/env bash
# provision.sh - install what pmaprig needs to build and test, idempotently.
#
# Debian packages come from the machine's own apt configuration. Unicorn must be
# >= 2.1 (Debian 12's 2.0.1 cannot do paging, see docs/architecture.md): a system
# Unicorn that new is used as it is; otherwise, on a Debian-family system, Debian
# 13's libunicorn2t64 + libunicorn-dev are fetched with `apt-get download` under a
# private apt configuration in deps/trixie/apt (archive URI read from this
# machine's own Debian source; the .debs land in deps/trixie/debs) and unpacked
# into deps/unicorn, where CMake finds them.
# A no-op taking well under a second when everything is present.
#
# Usage: scripts/provision.sh [--old-unicorn]
#   --old-unicorn  on Debian 12, also fetch Debian 12's Unicorn 2.0.1 into
#                  deps/unicorn-2.0 for the test paging_probe_rejects_2_0
#                  (`make test` passes it; `make run` and `make build` do not)
set -euo pipefail

old_unicorn=
case "${1:-}" in
  --old-unicorn) old_unicorn=1 ;;
  "") ;;
  *) echo "usage: scripts/provision.sh [--old-unicorn]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/deps"
prefix="$deps/unicorn"
quiet=${PROVISION_QUIET:-}

say() { [ -n "$quiet" ] || echo "provision: $*"; }
die() { echo "provision: error: $*" >&2; exit 1; }

# What we take from the distribution: "how to tell it is there:Debian package".
# cmd:NAME is a command on PATH; fuzzer is clang's libFuzzer runtime (the fuzz
# targets, docs/fuzzing.md); pc:NAME a pkg-config module (libsubunit is
# what Debian's check.pc requires for static links, so pkg-config wants it).
DEB_NEEDS=(
  "cmd:cmake:cmake" "cmd:pkg-config:pkg-config" "cmd:gcc:gcc" "cmd:ld:binutils" "cmd:make:make"
  "pc:capstone:libcapstone-dev" "pc:libdw:libdw-dev" "pc:check:check" "pc:libsubunit:libsubunit-dev"
  "cmd:clang:clang" "fuzzer:libclang-rt-14-dev" "cmd:gdb:gdb"
)

# Is the requirement "cmd:NAME" or "pc:NAME" met?
have() {
  case "$1" in
    cmd:*) command -v "${1#cmd:}" >/dev/null 2>&1 ;;
    pc:*) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "${1#pc:}" ;;
    fuzzer) command -v clang >/dev/null 2>&1 &&
      [ -e "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ;;	# libFuzzer's runtime
  esac
}

apt_updated=
apt_install() {
  command -v apt-get >/dev/null || die "missing $*, and no apt-get to install it with"
  [ "$(id -u)" = 0 ] || die "missing $*: run as root, or install it yourself"
  say "installing $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    [ -n "$apt_updated" ] || { apt-get update -q >/dev/null; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null \
      || die "apt-get install $* failed"
  fi
}

install_distro_packages() {
  local missing=() need
  for need in "${DEB_NEEDS[@]}"; do
    have "${need%:*}" || missing+=("${need##*:}")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# The URI of the machine's main Debian archive, as apt itself reports it.
debian_archive_uri() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  apt-cache policy 2>/dev/null |
    awk -v s="$codename/main" '$2 ~ /^[a-z]+:\/\// && $3 == s { print $2; exit }'
}

# True when the .pc file in $1 is new enough and names a library that exists.
unicorn_ok_in() {
  PKG_CONFIG_PATH="$1" pkg-config --atleast-version=2.1 unicorn 2>/dev/null &&
    [ -e "$(PKG_CONFIG_PATH="$1" pkg-config --variable=libdir unicorn)/libunicorn.so.2" ]
}

# Download Debian packages of SUITE from this machine's archive into DEST/debs
# and unpack them into DEST/root, under a private apt configuration in DEST/apt.
apt_fetch() {
  local suite="$1" dest="$2" uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  shift 2
  uri=$(debian_archive_uri) || true
  if [ -z "$uri" ]; then
    [ -n "$apt_updated" ] || { apt-get update -q >/dev/null 2>&1 || true; apt_updated=1; }
    uri=$(debian_archive_uri) || true
  fi
  [ -n "$uri" ] || die "cannot find this machine's Debian archive in its apt configuration"
  rm -rf "$dest"
  mkdir -p "$dest/apt/lists/partial" "$dest/apt/cache/archives/partial" "$dest/debs" "$dest/root"
  echo "deb [signed-by=$keyring] $uri $suite main" > "$dest/apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dest/apt/sources.list" -o "Dir::Etc::SourceParts=-"
              -o "Dir::State::Lists=$dest/apt/lists" -o "Dir::Cache=$dest/apt/cache"
              -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root" -q)
  apt-get "${opts[@]}" update >/dev/null || die "apt-get update for $suite failed"
  (cd "$dest/debs" && apt-get "${opts[@]}" download "$@" >/dev/null) || die "apt-get download $* failed"
  local deb
  for deb in "$dest"/debs/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
}

fetch_unicorn() {
  say "Unicorn >= 2.1 not found; fetching Debian 13 (trixie) libunicorn from the machine's archive"
  apt_fetch trixie "$deps/trixie" libunicorn2t64 libunicorn-dev
  rm -rf "$prefix" && mv "$deps/trixie/root" "$prefix"
  write_unicorn_pc "$prefix" "$prefix"
  unicorn_ok_in "$prefix/pkgconfig" || die "the unpacked Unicorn is not usable"
  say "Unicorn $(PKG_CONFIG_PATH="$prefix/pkgconfig" pkg-config --modversion unicorn) unpacked into deps/unicorn"
}

# With --old-unicorn, on Debian 12, also keep its own Unicorn 2.0.1 (never
# linked into the rig): the paging probe's test proves the probe rejects its
# identity-forced translation (tests/CMakeLists.txt, paging_probe_rejects_2_0;
# the test exists only when deps/unicorn-2.0 does).
fetch_old_unicorn() {
  local old="$deps/unicorn-2.0"

  [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ] || return 0
  [ -e "$old/usr/include/unicorn/unicorn.h" ] && return 0
  say "fetching Debian 12's libunicorn 2.0.1 for the paging probe's negative test"
  apt_fetch bookworm "$deps/bookworm" libunicorn2 libunicorn-dev
  rm -rf "$old" && mv "$deps/bookworm/root" "$old"
}

# Debian's unicorn.pc names absolute /usr paths; write one that names the prefix.
write_unicorn_pc() {
  local root="$1" final="$2" pc version
  pc=$(find "$root" -name unicorn.pc | head -n1)
  [ -n "$pc" ] || die "no unicorn.pc in the downloaded packages"
  version=$(sed -n 's/^Version: *//p' "$pc")
  local libdir incdir
  libdir=$(dirname "$(find "$root" -name 'libunicorn.so.2' | head -n1)")
  incdir="$root/usr/include"
  mkdir -p "$root/pkgconfig"
  cat > "$root/pkgconfig/unicorn.pc" <<PC
libdir=${libdir/#$root/$final}
includedir=${incdir/#$root/$final}

Name: unicorn
Description: Unicorn emulator engine (Debian 13 package, unpacked by pmaprig)
Version: $version
Libs: -L\${libdir} -lunicorn
Cflags: -I\${includedir}
PC
}

install_unicorn() {
  if pkg-config --atleast-version=2.1 unicorn 2>/dev/null; then
    say "using the system Unicorn $(pkg-config --modversion unicorn)"
    return
  fi
  if unicorn_ok_in "$prefix/pkgconfig"; then
    say "using Unicorn $(PKG_CONFIG_PATH="$prefix/pkgconfig" pkg-config --modversion unicorn) from deps/unicorn"
    return
  fi
  [ -r /etc/debian_version ] || die "Unicorn >= 2.1 is required: install it with your package manager (found: $(pkg-config --modversion unicorn 2>/dev/null || echo none))"
  fetch_unicorn
}

install_distro_packages
install_unicorn
if [ -n "$old_unicorn" ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null; then fetch_old_unicorn; fi
