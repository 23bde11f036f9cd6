# Distroless-like Node.js runtime for machines that reach no container registry: the pinned
# Node.js binary, the Debian libraries it links, Debian's CA certificates and a nonroot user
# (65532), with the same paths as gcr.io/distroless/nodejs (/nodejs/bin/node). No shell, no
# package manager. Built by tools/images/bases.ts; production builds use distroless by digest.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE} AS rootfs
ARG DEBIAN_SUITE
ARG DEBIAN_MIRROR
ARG DEBIAN_SECURITY_MIRROR
# The libraries come from the updated packages, security fixes included.
RUN printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_SECURITY_MIRROR" "$DEBIAN_SUITE" > /etc/apt/sources.list \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates libstdc++6 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
COPY node LICENSE /staging/
COPY assemble-runtime.sh /staging/
RUN sh /staging/assemble-runtime.sh /rootfs /staging/node /staging/LICENSE

FROM scratch
COPY --from=rootfs /rootfs/ /
ENV PATH=/nodejs/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
