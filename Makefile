# TradePulse release and deployment targets (the Rust build itself is plain cargo).
#
#   make docker-build                  build tradepulse-core, -exec, -web (full multi-stage)
#   make docker-build PREBUILT=1       …from a release binary built here (no base-image registry)
#   make docker-push REGISTRY=r.example/tp TAG=v1.2.3
#   make release-check                 the pre-deployment gate (docs/operations/, issue 14)
#
# ENGINE: docker where a Docker engine answers (`docker info`), else podman.

SHELL := /bin/bash
ENGINE ?= $(shell if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; else echo podman; fi)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-unknown)
TAG ?= $(VERSION)
IMAGES := tradepulse-core tradepulse-exec tradepulse-web
PODMAN_FLAGS := $(if $(filter podman,$(ENGINE)),--storage-driver $(or $(TRADEPULSE_PODMAN_STORAGE_DRIVER),vfs),)
# Line coverage threshold of the release gate (issue 14, point 7): only ever raised. Coverage
# is not run yet (scheduled by the lead; cargo-tarpaulin --engine llvm --no-dead-code).
COVERAGE_MIN ?= 0

export ENGINE TAG

.PHONY: docker-build docker-push images scan scan-self-test manifests prometheus release-check fmt clippy test

docker-build:
	deploy/docker/build.sh

docker-push:
	@test -n "$(REGISTRY)" || { echo "usage: make docker-push REGISTRY=registry.example/tradepulse TAG=$(TAG)"; exit 2; }
	@for image in $(IMAGES); do \
	  echo "push $(REGISTRY)/$$image:$(TAG)"; \
	  $(ENGINE) $(PODMAN_FLAGS) tag $$image:$(TAG) $(REGISTRY)/$$image:$(TAG) && \
	  $(ENGINE) $(PODMAN_FLAGS) push $(REGISTRY)/$$image:$(TAG) || exit 1; \
	done

# CI's image build and checks (podman, prebuilt binary, chroot checks).
images:
	deploy/ci/images.sh

scan:
	deploy/ci/scan.sh --self-test
	deploy/ci/scan.sh

manifests:
	deploy/ci/manifests.sh

prometheus:
	deploy/ci/prometheus.sh

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

test:
	cargo test --workspace --all-features --locked

# The pre-deployment checklist, runnable. Order: cheap checks first, then the build that the
# images, the scan and the smoke runs share (one release binary).
release-check: fmt manifests prometheus clippy test images scan
	@echo "release-check: passed (coverage gate not yet enabled; threshold COVERAGE_MIN=$(COVERAGE_MIN))"
