# trawl in a container. Untested here: the development machines have no
# Docker engine (see README, "Container").
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/trawl ./cmd/trawl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trawl /usr/local/bin/trawl
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/trawl"]
CMD ["help"]
