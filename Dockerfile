# syntax=docker/dockerfile:1
# Build: dependencies first (cached until Cargo.toml/Cargo.lock change), then the app.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src src
COPY templates templates
COPY migrations migrations
COPY static static
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

# Run: a slim image, an unprivileged user, only the binary and the static files.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin redress \
    && mkdir -p /app/data && chown redress /app/data
WORKDIR /app
COPY --from=build /src/target/release/redress /usr/local/bin/redress
COPY static static
USER redress
ENV REDRESS_ADDR=0.0.0.0:8080 \
    REDRESS_DATABASE_URL=sqlite:///app/data/redress.db \
    REDRESS_STATIC_DIR=/app/static
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["redress"]
CMD ["serve"]
