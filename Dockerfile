# syntax=docker/dockerfile:1
# DataQuarantine gateway image: a static binary built exactly as `make build`
# builds it (checked by internal/deploytest), on a distroless base, run as a
# non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t dataquarantine .
#   docker run --rm -p 8080:8080 -p 9092:9092 \
#     -e DQ_HTTP_AUTH_TOKENS="[{name: admin, role: admin, token: $(openssl rand -hex 32)}]" \
#     dataquarantine --demo

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w -X github.com/dataquarantine/dataquarantine/internal/cli.version='"${VERSION}" -o /out/dataquarantine ./cmd/dataquarantine

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dataquarantine /usr/local/bin/dataquarantine
# The nonroot user (65532) owns its home: the data dir (embedded broker log,
# SQLite, payload files) lives there unless storage points elsewhere.
USER 65532:65532
WORKDIR /home/nonroot
# In a container the listeners must accept connections from outside it, so
# the gateway refuses to start until API tokens are configured
# (DQ_HTTP_AUTH_TOKENS; docs/operations.md, "Securing the gateway"). The
# embedded broker (used when DQ_KAFKA_BROKERS is empty) has no
# authentication: publish its port only where you trust every client
# (the gateway warns at start); with DQ_KAFKA_BROKERS it is not started.
# It advertises localhost:9092, right for clients on the host of
# `docker run -p 9092:9092`; clients elsewhere need
# DQ_KAFKA_EMBEDDED_ADVERTISE=<a name they reach>:9092.
ENV DQ_DATA_DIR=/home/nonroot/data \
    DQ_HTTP_LISTEN=0.0.0.0:8080 \
    DQ_KAFKA_EMBEDDED_LISTEN=0.0.0.0:9092 \
    DQ_KAFKA_EMBEDDED_ALLOW_REMOTE=true
EXPOSE 8080 9092
ENTRYPOINT ["/usr/local/bin/dataquarantine", "serve"]
