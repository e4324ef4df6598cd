# Rust builder for proxy-wasm plug-ins: rustup + the toolchain pinned by rust-toolchain.toml, target wasm32-wasip1.
# Built and tagged by `cargo xtask builder` (tag = hash of this file, the toolchain and the base image ref).
#
# BASE_IMAGE: connected users pull the digest below (taken from public pinned Dockerfiles and not verified on a
# machine with a registry; re-pin with `docker buildx imagetools inspect debian:bookworm-slim`). Without a
# registry, `cargo xtask builder` makes the base with debootstrap and passes it here instead.
ARG BASE_IMAGE=debian:bookworm-slim@sha256:d5d3f9c23164ea16f31852f95bd5959aad1c5e854332fe00f7b3a20fcc9f635c
FROM ${BASE_IMAGE}

# Given by `cargo xtask builder` from rust-toolchain.toml; the defaults only serve hand-run builds.
ARG RUST_VERSION=1.95.0
ARG RUST_TARGETS=wasm32-wasip1
ARG RUST_COMPONENTS="rustfmt clippy"
# rustup-init is fetched by version and checked against these sha256 sums (from static.rust-lang.org).
ARG RUSTUP_VERSION=1.29.0
ARG RUSTUP_SHA256_AMD64=4acc9acc76d5079515b46346a485974457b5a79893cfb01112423c89aeb5aa10
ARG RUSTUP_SHA256_ARM64=9732d6c5e2a098d3521fca8145d826ae0aaa067ef2385ead08e6feac88fa5792

ENV CARGO_HOME=/cargo \
    RUSTUP_HOME=/rustup \
    PATH=/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8

# curl fetches rustup-init; gcc links build scripts and proc-macros (host code only: it never reaches a .wasm).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

# Builds run as the invoking uid, which has no account in the image, so everything is readable by all. The
# registry caches are named volumes mounted on /cargo/registry and /cargo/git; a new volume copies the folder's
# mode, so these start world-writable (sticky) for any uid.
#
# The extra CA bundle (for TLS-inspecting proxies) is a BuildKit secret: it is readable during this RUN only and
# never stored in a layer. `cargo xtask builder` checks the final image holds no copy of it.
RUN --mount=type=secret,id=ca \
    set -eu; \
    if [ -s /run/secrets/ca ]; then \
      echo "using the extra CA bundle ($(grep -c 'BEGIN CERTIFICATE' /run/secrets/ca) certificates)"; \
      export SSL_CERT_FILE=/run/secrets/ca CURL_CA_BUNDLE=/run/secrets/ca; \
    fi; \
    case "$(uname -m)" in \
      x86_64) triple=x86_64-unknown-linux-gnu; sum="$RUSTUP_SHA256_AMD64" ;; \
      aarch64) triple=aarch64-unknown-linux-gnu; sum="$RUSTUP_SHA256_ARM64" ;; \
      *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;; \
    esac; \
    curl --proto '=https' --tlsv1.2 -fsSL -o /tmp/rustup-init \
      "https://static.rust-lang.org/rustup/archive/${RUSTUP_VERSION}/${triple}/rustup-init"; \
    echo "${sum}  /tmp/rustup-init" | sha256sum -c -; \
    chmod +x /tmp/rustup-init; \
    /tmp/rustup-init -y --no-modify-path --profile minimal --default-toolchain "${RUST_VERSION}"; \
    rm /tmp/rustup-init; \
    for t in ${RUST_TARGETS}; do rustup target add --toolchain "${RUST_VERSION}" "$t"; done; \
    for c in ${RUST_COMPONENTS}; do rustup component add --toolchain "${RUST_VERSION}" "$c"; done; \
    rm -rf /rustup/downloads/* /rustup/tmp/* /cargo/registry; \
    mkdir -p /cargo/registry /cargo/git; \
    chmod 1777 /cargo/registry /cargo/git; \
    chmod -R a+rX /cargo /rustup; \
    rustc --version; cargo --version

WORKDIR /src
