#!/usr/bin/env bash
# Builds the runtime base image for tradepulse-core/-exec from Debian's packages, with the
# contents of distroless/cc (glibc, libgcc_s, CA certificates, /etc/passwd with a non-root
# user, /tmp) and nothing else: no shell, no package manager. Used where no registry serves
# gcr.io/distroless/cc-debian12 (these machines and their CI); pass the printed name as
# `--build-arg RUNTIME_BASE=…`.
#
#   deploy/docker/runtime-base.sh [ENGINE]     # prints the image name, e.g.
#   localhost/tradepulse-runtime-base:bookworm-0d5c4e1a2b3f
#
# The packages come from the machine's own apt sources, so the base carries the same Debian
# release (glibc) the binary was built against. The tag is a hash of the package versions: a
# warm run finds the image and returns at once; a security update of libc6 makes a new tag.
set -euo pipefail

engine="${1:-podman}"
engine_args=()
if [ "$engine" = podman ]; then
  engine_args=(--storage-driver "${TRADEPULSE_PODMAN_STORAGE_DRIVER:-vfs}")
  [ -n "${TRADEPULSE_PODMAN_ROOT:-}" ] && engine_args+=(--root "$TRADEPULSE_PODMAN_ROOT")
fi

# The runtime closure of the binary (ldd: libc, libm, libgcc_s, the loader) plus certificates
# for TLS to venues (rustls with the native roots) and the files glibc reads (base-files,
# netbase: /etc/os-release, /etc/services, /etc/protocols).
packages=(base-files netbase libc6 libgcc-s1 ca-certificates)

log() { printf 'runtime-base: %s\n' "$*" >&2; }

versions=""
for p in "${packages[@]}"; do
  v="$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')"
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    log "apt has no candidate for $p (run apt-get update)"
    exit 1
  fi
  versions+="$p=$v"$'\n'
done
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-debian}")"
key="$(printf '%s' "$versions" | sha256sum | cut -c1-12)"
image="localhost/tradepulse-runtime-base:${codename}-${key}"

if "$engine" "${engine_args[@]}" image exists "$image" 2>/dev/null; then
  log "reusing $image"
  echo "$image"
  exit 0
fi

work="$(mktemp -d)"
chmod 755 "$work" # apt-get download drops to the _apt user, which must reach the folder
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root" "$work/debs"
chown _apt "$work/debs" 2>/dev/null || true

log "downloading: $(tr '\n' ' ' <<<"$versions")"
(cd "$work/debs" && apt-get download -qq $(printf '%s\n' "$versions" | sed '/^$/d'))
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$root"
done

# What the maintainer scripts would have done, without running them.
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot" "$root/usr/share/tradepulse"
cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$root/tmp"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:10001:10001:tradepulse:/home/nonroot:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nonroot:x:10001:
EOF
chown 10001:10001 "$root/home/nonroot"
# Documentation, manual pages and changelogs are not needed at run time.
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/info"
printf '%s' "$versions" >"$root/usr/share/tradepulse/base-packages.txt"

# Reproducible layer: sorted names, fixed times; owners as extracted (root) but /home/nonroot.
tar --sort=name --mtime='@0' --numeric-owner -C "$root" -cf "$work/rootfs.tar" .

"$engine" "${engine_args[@]}" import \
  --change 'LABEL org.opencontainers.image.title=tradepulse-runtime-base' \
  --change "LABEL org.opencontainers.image.description=glibc+libgcc+ca-certificates from Debian ${codename}" \
  "$work/rootfs.tar" "$image" >/dev/null
log "built $image ($(du -sh "$root" | cut -f1))"
echo "$image"
