# Multi-stage build: the frontend with Node, the backend with Rust, a slim runtime image.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM rust:1.95-bookworm AS backend
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY backend/ backend/
RUN cargo build --release --bin portaria

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 portaria
WORKDIR /app
COPY --from=backend /src/target/release/portaria /usr/local/bin/portaria
COPY --from=frontend /src/frontend/dist /app/frontend/dist
ENV FRONTEND_DIR=/app/frontend/dist PORTARIA_BIND=0.0.0.0:8080
USER portaria
EXPOSE 8080
# GET /healthz on PORTARIA_BIND (a wildcard is probed on loopback) with the binary itself: the image has no
# curl, and /bin/sh (dash) has no /dev/tcp.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s CMD ["portaria", "healthcheck"]
CMD ["portaria", "serve"]
