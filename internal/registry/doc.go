// Package registry owns the schema registry: subjects, their numbered
// versions, global schema ids, compatibility levels, modes, soft and hard
// deletes and per-version rollout states, with Confluent Schema Registry's
// semantics.
//
// The Registry service holds every rule; a Store driver (sub-packages
// sqlite and postgres) only persists rows. Drivers share one conformance
// suite, registrytest.Exercise.
package registry
