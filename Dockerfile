# syntax=docker/dockerfile:1

# The release image of govcloud: the operator binary on distroless, nothing else. The
# operator's config comes from the Helm chart's ConfigMap (`--config`), its credentials
# from the pod's ServiceAccount. The build context is an allow-list (.dockerignore);
# tests/dockerfile.rs lints this file with hadolint and checks what it promises.

# Bookworm because the runtime is Debian 12: the binary links glibc dynamically and must
# not be built against a newer glibc than distroless cc-debian12 carries (2.36). The Rust
# version is pinned, and must stay at or above the workspace's rust-version.
FROM rust:1.95.0-slim-bookworm AS builder

WORKDIR /src
COPY . .

ARG TARGETPLATFORM
# Cache mounts keep downloaded crates and compiled dependencies between builds, so a
# source change recompiles govcloud alone rather than kube and k8s-openapi again. The
# target directory is per platform: a multi-platform build runs one builder per platform
# at the same time, and artifacts of the other architecture would only be rebuilt over.
# Cargo decides freshness by mtime, and COPY need not give changed files a newer one
# than the cached build's: this step only runs when the context changed, so touching
# the crate roots makes sure govcloud itself is recompiled (its dependencies are not).
# A cache mount is not part of the image, hence the copy of the binary out of it.
RUN --mount=type=cache,id=govcloud-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=govcloud-target-${TARGETPLATFORM},target=/src/target,sharing=locked \
    touch operator/src/lib.rs operator/src/main.rs \
    && cargo build --release --locked -p govcloud \
    && install -D -m 0755 target/release/govcloud /out/govcloud

# distroless cc rather than static: the binary needs libc, libm and libgcc_s (unwinding),
# which cc provides along with CA certificates for HTTPS to Prometheus. A fully static
# build (musl) would fit distroless/static, but needs a musl C toolchain for ring and
# trades glibc's allocator for musl's, which is slow under tokio's worker threads.
FROM gcr.io/distroless/cc-debian12:nonroot

# Passed by the release command (docs/install.md, "Release"); a local build is labelled "dev".
ARG VERSION=dev
LABEL org.opencontainers.image.title="govcloud" \
      org.opencontainers.image.description="Consolidates government departments onto shared Kubernetes infrastructure and proves the gain" \
      org.opencontainers.image.source="https://example.invalid/govcloud" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"

COPY --from=builder /out/govcloud /usr/local/bin/govcloud

# Numeric, so that the kubelet can verify runAsNonRoot without an /etc/passwd lookup;
# 65532 is distroless's nonroot user.
USER 65532:65532
# /healthz, /readyz and /metrics (http.address in the operator config).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/govcloud"]
CMD ["run"]
