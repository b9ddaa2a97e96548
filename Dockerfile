# syntax=docker/dockerfile:1
# Build: dependencies first (cached until Cargo.toml/Cargo.lock change), then the app.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Cargo refuses a manifest whose declared targets are missing: stub every bench the manifest
# declares and the browser test binary too (only their presence matters here).
RUN mkdir -p src benches tests/browser && touch src/lib.rs \
    && for f in src/main.rs tests/browser/main.rs \
                $(sed -n 's/^name = "\(.*\)"$/benches\/\1.rs/p' Cargo.toml | grep -v '^benches/redress.rs$'); do \
         echo 'fn main() {}' > "$f"; done \
    && cargo build --release --locked \
    && rm -rf src benches tests
COPY src src
COPY templates templates
COPY migrations migrations
# Built into the binary: static files (rust-embed), the evidence pack's fonts, the demo data.
COPY static static
COPY assets assets
COPY demo demo
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

# Run: a slim image, an unprivileged user, only the binary (static files, fonts and templates
# are built into it).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin redress \
    && mkdir -p /app/data && chown redress /app/data
WORKDIR /app
COPY --from=build /src/target/release/redress /usr/local/bin/redress
USER redress
ENV REDRESS_ADDR=0.0.0.0:8080 \
    REDRESS_DATABASE_URL=sqlite:///app/data/redress.db
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["redress"]
CMD ["serve"]
