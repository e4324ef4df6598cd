# C++ builder for proxy-wasm plug-ins: clang targeting wasm32-wasi with Debian's wasi-libc and libc++ (wasi-sdk
# style). These are the very packages and versions the host toolchain uses on Debian 12
# (see CPP_PACKAGES in xtask/src/toolchain.rs), so local and container builds give the same bytes.
# Built and tagged by `cargo xtask builder` (tag = hash of this file and the base image ref).
#
# BASE_IMAGE: see rust-builder.Dockerfile (unverified digest for connected users; debootstrap base otherwise).
ARG BASE_IMAGE=debian:bookworm-slim@sha256:d5d3f9c23164ea16f31852f95bd5959aad1c5e854332fe00f7b3a20fcc9f635c
FROM ${BASE_IMAGE}

# binaryen is here although the plan runs no wasm-opt step: clang 14's wasm driver runs `wasm-opt -Oz` on the
# linked module by itself whenever wasm-opt is on PATH and -O is given, so the output depends on its presence.
# Hosts have it too (.ci/run installs binaryen); `cargo xtask verify-repro` catches a host without it.
#
# Pinned Debian 12 versions (bookworm main as of 12.11). When the archive moves on, update these together with
# the host packages, or point the base's apt at snapshot.debian.org (`cargo xtask builder --mirror ...`).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang=1:14.0-55.7~deb12u1 clang-14=1:14.0.6-12 \
      lld=1:14.0-55.7~deb12u1 lld-14=1:14.0.6-12 \
      wasi-libc=0.0~git20220510.9886d3d-2 \
      libc++-dev-wasm32=1:14.0-55.7~deb12u1 libc++-14-dev-wasm32=1:14.0.6-12 \
      libclang-rt-dev-wasm32=1:14.0-55.7~deb12u1 libclang-rt-14-dev-wasm32=1:14.0.6-12 \
      binaryen=108-1 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && clang++ --version && wasm-opt --version

ENV LANG=C.UTF-8
WORKDIR /src
