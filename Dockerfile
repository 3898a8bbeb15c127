# syntax=docker/dockerfile:1
#
# aimock's container image: the release binary on a distroless base (glibc, libgcc_s, libm,
# CA certificates, a nonroot user; no shell, no package manager).
#
#   docker build -t aimock .
#   docker run --rm -p 4010:4010 aimock                       # the bundled examples/fixtures
#   docker run --rm -p 4010:4010 -v "$PWD/fixtures:/fixtures:ro" aimock
#   docker run --rm -p 4010:4010 -v "$PWD:/work:ro" aimock --config /work/aimock.json
#
# ENTRYPOINT carries `--host 0.0.0.0` (a server bound to the container's loopback is unreachable),
# so arguments given to `docker run` replace only the default `--fixtures /fixtures`.
# scripts/test-deploy lints this file (hadolint), checks its stages, user, port, health check and
# entrypoint, and runs the final ENTRYPOINT + CMD and HEALTHCHECK commands against the binary.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
# busybox-static is one static binary; its `wget` is the HEALTHCHECK below, since the final
# image has no shell, curl or wget of its own. Unpinned on purpose: Debian's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Every workspace member's manifest and sources, and the lock file (`--locked` builds exactly it).
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY bench/bare bench/bare
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p aimock-cli \
 && install -m 0755 target/release/aimock /usr/local/bin/aimock \
 && /usr/local/bin/aimock --version

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="aimock" \
      org.opencontainers.image.description="One mock server for LLM APIs, MCP, A2A, AG-UI, vector DBs, search, rerank and moderation, from fixture files" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /usr/local/bin/aimock /usr/local/bin/aimock
COPY --from=builder /bin/busybox /usr/local/bin/busybox
# The examples, so that `docker run` answers out of the box; mount your own over /fixtures.
COPY examples/fixtures /fixtures
# distroless' nonroot user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /
EXPOSE 4010
# Exec form: needs no shell (and no -T: busybox 1.35's wget crashes with it; --timeout bounds it).
# It probes port 4010; with another --port, override it
# (`docker run --health-cmd ...`) or rely on the Kubernetes probes of the Helm chart.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:4010/health"]
ENTRYPOINT ["/usr/local/bin/aimock", "--host", "0.0.0.0"]
CMD ["--fixtures", "/fixtures"]
