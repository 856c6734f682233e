# tcpecho's container image: `docker build -t tcpecho .`, then `docker run -p 7007:7007 tcpecho`.
# Build stage: the full Node 20 toolchain compiles the TypeScript.
FROM node:20 AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.json

# Production dependencies only, installed from the lockfile on the runtime's own base image.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: what `npm pack` ships (package.json, README.md, LICENSE, build/src) and the production
# dependencies, run by the image's unprivileged `node` user.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json README.md LICENSE ./
COPY --from=build /src/build/src ./build/src
USER node
EXPOSE 7007
# tcpecho drains on SIGTERM (--drain-timeout, 5 s by default): give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["node", "/app/build/src/cli/main.js", "ping", "-c", "1", "-W", "1", "127.0.0.1:7007"]
ENTRYPOINT ["node", "/app/build/src/cli/main.js"]
CMD ["server"]
