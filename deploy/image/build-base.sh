#!/usr/bin/env bash
# Builds the base image of Flotilla's container image from Debian packages, with no registry:
# a Debian 12 (bookworm) root file system holding openjdk-17-jre-headless, made by mmdebstrap, and
# written as a `docker save`-style archive (manifest.json, config.json, one layer) that Jib takes as
# its base through `tar://` (Jib reads no OCI archive as a base).
#
#   build-base.sh BASE OUT SKIP STATUS
#     BASE    the Maven property flotilla.image.base: `tar://OUT` builds OUT; anything else (a registry
#             image such as eclipse-temurin:17-jre) needs no local base, and this script does nothing
#     OUT     the archive to write
#     SKIP    the Maven property flotilla.image.skip: `true` builds nothing
#     STATUS  a file this script writes: `ready` when Jib can build the image (the base is there, built
#             now or kept from an earlier build of the same recipe, or none is needed); `unavailable`
#             when there is no image this time (SKIP, or mmdebstrap cannot run here), and then the build
#             skips Jib
#
# Exit code 0 in both cases; anything else is an error that fails the build. Without CI=true a
# missing mmdebstrap is `unavailable`, so `mvn package` still builds the jar on a machine without
# it; with CI=true it is an error, so CI never loses the image or its tests.
#
# Takes 1.5 minutes on a quiet machine, 5 on a loaded one (about 90 MB of packages), and needs root
# or unprivileged user namespaces (mmdebstrap's root or unshare mode). The result is kept (by default
# in ~/.cache/flotilla, so `mvn clean` and other work trees keep it too) and reused while this script
# is unchanged and the archive is less than 7 days old (then it is rebuilt with Debian's updates).
set -euo pipefail

base=${1:?base}
out=${2:?out}
skip=${3:?skip}
status=${4:?status}
mkdir -p "$(dirname "$status")"
echo unavailable >"$status"
ready() { echo ready >"$status"; exit 0; }

if [[ "$skip" == "true" ]]; then
  echo "[flotilla-image] flotilla.image.skip=true: no container image"
  exit 0
fi
if [[ "$base" != "tar://$out" ]]; then
  echo "[flotilla-image] base image $base: nothing to build locally (Jib pulls it)"
  ready
fi

suite=bookworm
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
# What the archive is made of; a change rebuilds it.
recipe="$(sha256sum "$0" | cut -d' ' -f1) $suite $(dpkg --print-architecture 2>/dev/null || echo amd64)"
if [[ -f "$out" && -f "$out.recipe" && "$(cat "$out.recipe")" == "$recipe" && -n "$(find "$out" -mtime -7)" ]]; then
  echo "[flotilla-image] base $out is up to date (delete it to rebuild with the latest Debian packages)"
  ready
fi

unavailable() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "[flotilla-image] ERROR: $1; CI=true needs the container image (.ci/run installs mmdebstrap)" >&2
    exit 1
  fi
  echo "[flotilla-image] WARNING: container image not built: $1. The jar is built as usual." >&2
  echo "[flotilla-image]   To build the image: apt-get install mmdebstrap (as root, or with unprivileged user" >&2
  echo "[flotilla-image]   namespaces), or -Dflotilla.image.base=eclipse-temurin:17-jre to build on a registry" >&2
  echo "[flotilla-image]   image; -Dflotilla.image.skip=true silences this." >&2
  exit 0
}
command -v mmdebstrap >/dev/null || unavailable "mmdebstrap not found"
if [[ $(id -u) -ne 0 ]] && ! unshare --user --map-root-user true 2>/dev/null; then
  unavailable "not root and no unprivileged user namespaces for mmdebstrap"
fi

# Builds in other work trees may share the archive: each works in its own folder and renames the
# result into place, which is atomic.
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$out.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "[flotilla-image] building the base: Debian $suite + openjdk-17-jre-headless with mmdebstrap..."
# essential: only Essential:yes packages plus the JRE and what it depends on (no apt in the image).
# Documentation and translations are left out; man pages are removed afterwards (excluding them
# breaks the JRE's update-alternatives, which links into /usr/share/man).
# force-unsafe-io: no fsync per unpacked file (a crash only means building again).
mmdebstrap --variant=essential --include=openjdk-17-jre-headless,ca-certificates --format=tar \
  --dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/usr/share/man/* "$1"/var/cache/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
  --customize-hook='chroot "$1" java -version' \
  "$suite" "$work/layer.tar" "deb $mirror $suite main" "deb $mirror $suite-updates main" \
  "deb $security $suite-security main" </dev/null

diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
cat >"$work/config.json" <<EOF
{"architecture":"amd64","os":"linux",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64","LANG=C.UTF-8"]},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]},
 "history":[{"created_by":"deploy/image/build-base.sh: mmdebstrap --variant=essential $suite openjdk-17-jre-headless"}]}
EOF
echo '[{"Config":"config.json","RepoTags":["flotilla-base:jre17"],"Layers":["layer.tar"]}]' >"$work/manifest.json"
tar -cf "$work/base.tar" -C "$work" manifest.json config.json layer.tar
rm -f "$out.recipe"
mv "$work/base.tar" "$out"
echo "$recipe" >"$work/recipe" && mv "$work/recipe" "$out.recipe"
echo "[flotilla-image] base $out ($(du -m "$out" | cut -f1) MiB) built in $(( $(date +%s) - start )) s"
ready
