# Build base for the service images on machines that reach no container registry: Debian
# (made here with debootstrap) with the pinned Node.js binary and the npm it ships with, laid
# out like the official node image (/usr/local/bin). Built by tools/images/bases.ts; where a
# registry is reachable, docker/services.Dockerfile uses the official image by digest instead.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
ARG DEBIAN_SUITE
ARG DEBIAN_MIRROR
ARG DEBIAN_SECURITY_MIRROR
# Point-release and security updates on top of the debootstrap snapshot.
RUN printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_SECURITY_MIRROR" "$DEBIAN_SUITE" > /etc/apt/sources.list \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
COPY node /usr/local/bin/node
COPY npm.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/npm.tgz --strip-components=1 -C /usr/local/lib/node_modules/npm \
 && rm /tmp/npm.tgz \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
# npm reaches the registry the way this machine does: its trust store (the network may
# re-sign TLS) and its registry. Build stages only: the runtime base keeps Debian's CAs.
COPY build-ca-certificates.crt /usr/local/share/build-ca/ca-certificates.crt
ARG NPM_REGISTRY
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/build-ca/ca-certificates.crt \
    NPM_CONFIG_REGISTRY=${NPM_REGISTRY} \
    NPM_CONFIG_UPDATE_NOTIFIER=false
CMD ["node"]
