# The crosstalk image `crosstalk k8s job` runs (shards, coordinator, merge): the CLI as its
# entrypoint, so a pod's args are crosstalk's (`run ...`, `coordinate ...`, `merge ...`).
#   docker build -t crosstalk:0.1.0 .
# Two stages: TypeScript and the other dev dependencies build dist/ and stay behind.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# no scripts: `prepare` would build before the sources are here (the build is its own step below)
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY engine engine
COPY fixtures fixtures
COPY scenarios scenarios
RUN npx tsc -p tsconfig.json

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# production dependencies only; no scripts: `prepare` needs TypeScript (dist/ comes from the build
# stage), esbuild's postinstall only re-checks its binary (TypeScript scenarios still compile), and
# @airbnb/node-memwatch would need a compiler (crosstalk falls back to its in-process inspector)
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin bin
COPY schema schema
COPY --from=build /app/dist/engine dist/engine
COPY --from=build /app/dist/fixtures dist/fixtures
COPY --from=build /app/dist/scenarios dist/scenarios
# /app/run: where the manifests put the scenario (under /app, so `import ... from 'crosstalk'`
# resolves to this package); the pods mount a writable volume over it
RUN mkdir /app/run && chown node:node /app/run
# the node image's unprivileged user (uid 1000, as the manifests' securityContext says)
USER node
# a relative --out (the default ./crosstalk-report) lands somewhere writable
WORKDIR /home/node
ENTRYPOINT ["node", "/app/bin/crosstalk.js"]
CMD ["--help"]
