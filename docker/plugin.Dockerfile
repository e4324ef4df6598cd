# The "compat" plug-in image Higress/Istio accept: one layer holding plugin.wasm, nothing else.
# Context: a folder with the built plugin.wasm (`out/<plugin>/<lang>/`).
#   docker build -f docker/plugin.Dockerfile -t NAME:TAG out/<plugin>/<lang>
# Needs no base image (FROM scratch), so it builds without a registry.
FROM scratch
COPY plugin.wasm /plugin.wasm
