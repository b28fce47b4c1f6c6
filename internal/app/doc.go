// Package app is the composition root: it turns a validated config into
// running components (embedded broker or external cluster, stores, schema
// resolver, validation engine, pipeline, HTTP server, demo traffic), owns
// their lifecycle and the Prometheus registry. It is the only package that
// knows every concrete adapter.
package app
