#!/usr/bin/env bash
# `make images`: builds the four project images (docker/*.Dockerfile) with the checkout as context.
# Needs a Docker engine: without one it says so and fails, building nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-local}

if ! command -v docker >/dev/null 2>&1; then
  echo "make images: no docker client on this machine; install Docker, then run it again." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "make images: the docker client is here but no Docker engine answers ($(docker context show 2>/dev/null || echo default) context);" >&2
  echo "start dockerd (or point DOCKER_HOST at one), then run it again. No image was built." >&2
  exit 1
fi

[[ $tag == --check ]] && exit 0

for process in rasa actions cps_api web; do
  name="cps-${process//_/-}"
  [[ $process == cps_api ]] && name="cps-api"
  image="${IMAGE_REGISTRY:-}$name:$tag"
  echo "==> $image from docker/$process.Dockerfile"
  docker build --file "docker/$process.Dockerfile" --tag "$image" .
done
echo "==> built ${IMAGE_REGISTRY:-}{cps-rasa,cps-actions,cps-api,cps-web}:$tag; for a cluster: docker push each"
