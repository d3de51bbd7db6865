# The API and the job worker, one image (docs/deployment.md, "Several processes: Railway and containers"):
#   API (default)   node --max-old-space-size=256 --max-semi-space-size=32 dist/src/server.js
#   worker          node dist/src/cli/worker.js
#   migrations      node dist/src/cli/migrate.js up
#   an admin        node dist/src/cli/admin-create.js --email E --password P --name N
# The runtime stage holds the compiled JavaScript and the production dependencies only: no
# TypeScript sources, no compiler, no dev dependencies.
#
# Node 20: the version CI tests on. `--build-arg NODE_VERSION=22` builds on the next LTS.
ARG NODE_VERSION=20

# ---- build: every dependency, compile, then drop the dev dependencies ---------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app

# The lockfile first, so that a change of source reuses the installed dependencies. bcrypt, sharp
# (libvips), msgpackr-extract and esbuild install prebuilt binaries for linux x64 and arm64 from
# the registry: no compiler is needed.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# What tsconfig.build.json compiles (bench/ is left out: the image does not run it).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY seeders ./seeders
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=5000 \
    DATA_DIR=/data
WORKDIR /app

# Owned by root, so the process (user node) cannot rewrite its own code.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks the root where the mail service finds templates/email.
COPY package.json ./
COPY templates ./templates

# DATA_DIR: local uploads (without Cloudinary), temporary upload files, .eml mails (without SMTP).
# Mount a volume here, shared by every API process when uploads stay local (no VOLUME line, so
# no anonymous volume piles up per container: docker-compose.yml mounts a named one).
RUN mkdir -p /data && chown node:node /data

USER node
EXPOSE 5000

# Liveness of the API, with node itself (the slim image has no curl). The worker serves no HTTP:
# docker-compose.yml turns this check off for it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||5000)+'/health',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]

# The process handles SIGTERM itself: it finishes in-flight requests and jobs, then exits 0.
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=32", "dist/src/server.js"]
