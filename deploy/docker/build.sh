#!/usr/bin/env bash
# Builds tradepulse-core, tradepulse-exec and tradepulse-web from deploy/docker/Dockerfile.
# `make docker-build` calls it; so does deploy/ci/images.sh (with PREBUILT=1).
#
#   deploy/docker/build.sh                 full multi-stage build (needs a registry for the
#                                          Rust/Node/Debian/distroless base images)
#   PREBUILT=1 deploy/docker/build.sh      the binary, busybox and web/dist are built here,
#                                          outside the engine, and stand in for the Dockerfile's
#                                          `build`, `tools` and `web-dist` stages; the runtime
#                                          base is made from Debian's packages (runtime-base.sh).
#                                          Needs no registry but the package registries.
#
# Environment: ENGINE (docker | podman; default: docker if a Docker engine answers, else
# podman), TAG (default: the git version), IMAGES (default "core exec web"),
# RUNTIME_BASE / WEB_RUNTIME_BASE (override the bases), TRADEPULSE_RELEASE_BIN (PREBUILT: use
# this binary instead of building it), SKIP_WEB_BUILD=1 (PREBUILT: web/dist is already built).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/ci/lib.sh
. deploy/ci/lib.sh

engine="$(container_engine)"
version="${VERSION:-$(git_version)}"
revision="${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
created="$(git log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)"
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
tag="${TAG:-$version}"
images="${IMAGES:-core exec web}"

build_args=(
  --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision"
  --build-arg "CREATED=$created"
  # Also as --label: buildah (podman 4.3) reuses a cached LABEL layer whose ${VERSION} was
  # another commit's (images.sh caught exactly that); a --label is applied after the cache.
  --label "org.opencontainers.image.version=$version"
  --label "org.opencontainers.image.revision=$revision"
  --label "org.opencontainers.image.created=$created"
)
engine_cmd=("$engine")
if [ "$engine" = podman ]; then
  engine_cmd+=(--storage-driver "${TRADEPULSE_PODMAN_STORAGE_DRIVER:-vfs}")
  [ -n "${TRADEPULSE_PODMAN_ROOT:-}" ] && engine_cmd+=(--root "$TRADEPULSE_PODMAN_ROOT")
  # chroot isolation: these machines refuse the OCI runtime's namespaces (podman run); docker
  # format: the OCI image format has no HEALTHCHECK. --timestamp: the commit time, so the same
  # commit gives the same image config.
  build_cmd=("${engine_cmd[@]}" build --isolation chroot --format docker --timestamp "$epoch")
else
  build_cmd=(docker build)
fi
[ -n "${RUNTIME_BASE:-}" ] && build_args+=(--build-arg "RUNTIME_BASE=$RUNTIME_BASE")
[ -n "${WEB_RUNTIME_BASE:-}" ] && build_args+=(--build-arg "WEB_RUNTIME_BASE=$WEB_RUNTIME_BASE")

if [ "${PREBUILT:-0}" = 1 ]; then
  stage="${TRADEPULSE_IMAGE_STAGE:-${CARGO_TARGET_DIR:-$HOME/.cache/tradepulse/target}/image-stage}"
  rm -rf "$stage" && mkdir -p "$stage/build" "$stage/tools"

  case " $images " in *" core "*|*" exec "*)
    bin="${TRADEPULSE_RELEASE_BIN:-}"
    if [ -z "$bin" ]; then
      timed "release binary (cargo auditable build --release)" build_release_binary
      bin="$RELEASE_BIN"
    fi
    # Debug sections off, symbols and the .dep-v0 dependency list (the scan reads it) kept.
    strip --strip-debug -o "$stage/build/tradepulse" "$bin"
    if [ -z "${RUNTIME_BASE:-}" ]; then
      base="$(deploy/docker/runtime-base.sh "$engine")"
      build_args+=(--build-arg "RUNTIME_BASE=$base")
    fi
    ;;
  esac
  need_cmd busybox busybox-static
  cp "$(busybox_static_path)" "$stage/tools/busybox"

  case " $images " in *" web "*)
    if [ "${SKIP_WEB_BUILD:-0}" != 1 ] || [ ! -f web/dist/index.html ]; then
      timed "web: npm ci && npm run build" sh -c 'cd web && npm ci --no-audit --no-fund --silent && npm run build --silent >/dev/null'
    fi
    ;;
  esac
  # No layer cache here: the expensive part (the binary) is built outside, the image steps are
  # file copies (seconds), and a cached ENV TRADEPULSE_VERSION layer could be a stale commit's.
  [ "$engine" = podman ] && build_args+=(--no-cache)
  build_args+=(
    --build-context "build=$stage/build"
    --build-context "tools=$stage/tools"
    --build-context "web-dist=web/dist"
  )
fi

for target in $images; do
  name="tradepulse-$target"
  timed "image $name:$tag ($engine)" \
    "${build_cmd[@]}" -f deploy/docker/Dockerfile --target "$target" "${build_args[@]}" \
    -t "$name:$tag" -t "$name:latest" . >"${TRADEPULSE_BUILD_LOG:-/dev/stderr}"
done
