#!/usr/bin/env bash
# CI: build the three images for real with podman (no Docker engine, no registry here), then
# check each one's configuration and filesystem. `podman run` is refused on these machines, so
# the entrypoint runs with chroot in the mounted image, inside a private mount and network
# namespace: the image's root is bind-mounted read-only and /tmp is a tmpfs, as Kubernetes runs
# it (readOnlyRootFilesystem + an emptyDir), and the network is a private loopback, so the web
# server's port 8080 collides with nothing on the machine.
#
#   deploy/ci/images.sh         standalone; builds the release binary if TRADEPULSE_RELEASE_BIN
#                               is unset (cargo auditable build --release, once for all images)
#
# Checks per image: user 10001 (non-root), HEALTHCHECK, OCI labels with the git version and
# revision, EXPOSE and HEALTHCHECK port as in deploy/ports.toml, no shell in core/exec; core and
# exec run their entrypoint: `--version` and the sample backtest (summary.json written, read-only
# root respected); web: busybox httpd serves index.html byte-identical to web/dist.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

ENGINE=podman
export ENGINE
need_cmd podman podman
need_cmd unshare util-linux

# Read once: the build and the checks must agree even if HEAD moves meanwhile.
version="$(git_version)"
revision="$(git rev-parse HEAD)"
tag="${TAG:-$version}"
export TAG="$tag" VERSION="$version" REVISION="$revision"

step "images: build (podman, chroot isolation, vfs storage)"
PREBUILT=1 TRADEPULSE_BUILD_LOG="${TRADEPULSE_BUILD_LOG:-/dev/null}" deploy/docker/build.sh

fail=0
bad() { printf 'FAIL %s\n' "$*" >&2; fail=1; }
ok() { printf '  ok  %s\n' "$*" >&2; }

# ports.toml value of [service] key
port_of() { python3 -c 'import sys,tomllib; print(tomllib.load(open("deploy/ports.toml","rb"))[sys.argv[1]][sys.argv[2]])' "$1" "$2"; }

inspect() { podman_ image inspect --format "$2" "$1"; }

# in_image MOUNT CMD…: CMD in a chroot of the image, read-only root, tmpfs /tmp, own loopback.
in_image() {
  local mnt="$1"
  shift
  unshare --mount --net --fork sh -c '
    set -e
    mnt="$1"; shift
    ip link set lo up 2>/dev/null || true
    mount --bind "$mnt" "$mnt"
    mount -o remount,bind,ro "$mnt"
    mount -t tmpfs -o size=256m,mode=1777 tmpfs "$mnt/tmp"
    exec python3 deploy/ci/chroot_run.py "$mnt" "$WORKDIR" 10001:10001 "$@"
  ' sh "$mnt" "$@"
}

check_config() {
  local svc="$1" image="$2"
  local port health
  port="$(port_of "$svc" port)"
  health="$(port_of "$svc" health)"
  [ "$(inspect "$image" '{{.Config.User}}')" = "10001:10001" ] && ok "$image: user 10001:10001" || bad "$image: user is not 10001:10001"
  local hc
  hc="$(inspect "$image" '{{json .Config.Healthcheck}}')"
  case "$hc" in
    *"http://127.0.0.1:$port$health"*) ok "$image: HEALTHCHECK on :$port$health" ;;
    *) bad "$image: HEALTHCHECK $hc does not probe :$port$health (deploy/ports.toml)" ;;
  esac
  local exposed
  exposed="$(inspect "$image" '{{json .Config.ExposedPorts}}')"
  [ "$exposed" = "{\"$port/tcp\":{}}" ] && ok "$image: EXPOSE $port" || bad "$image: exposes $exposed, ports.toml says $port"
  local l
  for l in title version revision created source licenses; do
    [ -n "$(inspect "$image" "{{index .Config.Labels \"org.opencontainers.image.$l\"}}")" ] || bad "$image: no label org.opencontainers.image.$l"
  done
  [ "$(inspect "$image" '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "$version" ] \
    && [ "$(inspect "$image" '{{index .Config.Labels "org.opencontainers.image.revision"}}')" = "$revision" ] \
    && ok "$image: OCI labels, version $version" || bad "$image: version/revision labels are not $version/$revision"
  if [ "$svc" != web ]; then
    # Into a variable first: with pipefail, `grep -q` closing the pipe early can fail the
    # writer with SIGPIPE and the check with it, although the line matched.
    local env
    env="$(inspect "$image" '{{range .Config.Env}}{{println .}}{{end}}')"
    grep -qx "TRADEPULSE_VERSION=$version" <<<"$env" \
      || bad "$image: ENV TRADEPULSE_VERSION is not $version"
  fi
}

check_service_image() {
  local svc="$1" image="$2" mnt entry out
  check_config "$svc" "$image"
  mnt="$(podman_ image mount "$image")"
  # shellcheck disable=SC2207
  entry=($(inspect "$image" '{{range .Config.Entrypoint}}{{.}} {{end}}'))
  WORKDIR="$(inspect "$image" '{{.Config.WorkingDir}}')"
  export WORKDIR
  [ ! -e "$mnt/bin/sh" ] && [ ! -e "$mnt/usr/bin/apt-get" ] && ok "$image: no shell, no package manager" || bad "$image: has a shell or apt"
  if out="$(in_image "$mnt" "${entry[@]}" --version 2>&1)"; then
    [ "$out" = "tradepulse $version" ] && ok "$image: ${entry[*]} --version → $out" \
      || bad "$image: --version printed '$out', not 'tradepulse $version'"
  else
    bad "$image: --version failed: $out"
  fi
  # The smoke test of the issue: the sample backtest, from the image's WORKDIR (/app), output to
  # the writable /tmp (the root is read-only, as in Kubernetes), through the image's entrypoint.
  if out="$(unshare --mount --net --fork sh -c '
      set -e
      mnt="$1"; shift
      mount --bind "$mnt" "$mnt"; mount -o remount,bind,ro "$mnt"
      mount -t tmpfs -o size=256m,mode=1777 tmpfs "$mnt/tmp"
      python3 deploy/ci/chroot_run.py "$mnt" "$WORKDIR" 10001:10001 "$@" backtest configs/backtests/sample.yaml --output /tmp/smoke --quiet
      test -s "$mnt/tmp/smoke/summary.json"
      test -s "$mnt/tmp/smoke/report.html"
      grep -o "\"total_return\":[^,]*" "$mnt/tmp/smoke/summary.json" || head -c 200 "$mnt/tmp/smoke/summary.json"
    ' sh "$mnt" "${entry[@]}" 2>&1)"; then
    ok "$image: sample backtest in the image wrote summary.json, report.html ($(tail -n 1 <<<"$out"))"
  else
    bad "$image: sample backtest failed: $out"
  fi
  # The image binary is the one the scan reads: copy it out for deploy/ci/scan.sh.
  mkdir -p "$CARGO_TARGET_DIR/image-binaries"
  cp "$mnt/usr/local/bin/tradepulse" "$CARGO_TARGET_DIR/image-binaries/$image_name"
  podman_ image unmount "$image" >/dev/null
}

check_web_image() {
  local image="$1" mnt entry
  check_config web "$image"
  mnt="$(podman_ image mount "$image")"
  entry=($(inspect "$image" '{{range .Config.Entrypoint}}{{.}} {{end}}'))
  local port
  port="$(port_of web port)"
  # Start the image's entrypoint (httpd) in the namespace, fetch index.html and a script.
  local asset
  asset="$(cd web/dist && ls assets/*.js | head -n 1)"
  if unshare --mount --net --fork sh -c '
      set -e
      mnt="$1"; port="$2"; asset="$3"; shift 3
      ip link set lo up
      mount --bind "$mnt" "$mnt"; mount -o remount,bind,ro "$mnt"
      python3 deploy/ci/chroot_run.py "$mnt" / 10001:10001 "$@" &
      pid=$!
      for i in $(seq 1 50); do busybox wget -q -O /dev/null "http://127.0.0.1:$port/index.html" 2>/dev/null && break; sleep 0.1; done
      busybox wget -q -O /tmp/web-index.html "http://127.0.0.1:$port/index.html"
      busybox wget -q -O /tmp/web-asset.js "http://127.0.0.1:$port/$asset"
      kill $pid
    ' sh "$mnt" "$port" "$asset" "${entry[@]}" && cmp -s /tmp/web-index.html web/dist/index.html && cmp -s /tmp/web-asset.js "web/dist/$asset"; then
    ok "$image: ${entry[*]} serves index.html and $asset byte-identical to web/dist"
  else
    bad "$image: httpd did not serve web/dist"
  fi
  rm -f /tmp/web-index.html /tmp/web-asset.js
  podman_ image unmount "$image" >/dev/null
}

step "images: check"
for image_name in tradepulse-core tradepulse-exec; do
  svc="${image_name#tradepulse-}"
  timed "check $image_name" check_service_image "$svc" "localhost/$image_name:$tag"
done
timed "check tradepulse-web" check_web_image "localhost/tradepulse-web:$tag"
podman_ images --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "tradepulse-(core|exec|web):$tag" >&2
# vfs keeps a full copy per layer: drop this script's older builds so the store does not grow
# with every CI run (the current tag and :latest stay, for `make docker-push`).
for image_name in tradepulse-core tradepulse-exec tradepulse-web; do
  for old in $(podman_ images --format '{{.Repository}}:{{.Tag}}' "localhost/$image_name" | grep -vE ":($tag|latest)\$"); do
    podman_ rmi "$old" >/dev/null 2>&1 || true
  done
done
podman_ image prune -f >/dev/null 2>&1 || true
[ "$fail" = 0 ] || die "image checks failed"
log "images: all checks passed"
