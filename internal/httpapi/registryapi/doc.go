// Package registryapi is the Confluent Schema Registry–compatible REST API
// over a registry.Registry, so that existing clients and serializers
// (franz-go's sr, Confluent's serdes) work unchanged. The gateway mounts it
// under /registry; paths here are relative to that prefix.
//
// Responses and errors follow Confluent's shapes: JSON bodies of content
// type application/vnd.schemaregistry.v1+json, errors
// {"error_code": 40401, "message": "..."} with Confluent's codes.
package registryapi
