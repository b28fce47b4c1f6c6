// Package avrocompat owns Avro schema resolution checks: whether data
// written with one Avro schema can be read with another, by the rules of
// the Avro 1.11 specification ("Schema Resolution"), with every change
// between them found and explained rather than only the first.
//
// Schemas are parsed (and validated) by github.com/twmb/avro, the Avro
// library the gateway decodes with. The verdict is meant to be the one that
// library's CheckCompatibility and Resolve give, so that a schema the
// registry accepts is one the gateway can resolve; the tests check both
// agree. Where the specification leaves a choice, that library's choice is
// followed: a reader union picks a branch by full name, then short name,
// then promotion, and the writer's value must resolve against that branch;
// every branch of a writer union must resolve; two decimals must agree on
// precision and scale.
package avrocompat
