// Package config owns DataQuarantine's configuration: the Config struct and
// its built-in defaults, loading it from one YAML file overlaid by DQ_*
// environment variables, and Validate, which refuses a bad configuration at
// start with every problem named by its key.
//
// Precedence, lowest first: Default(), the YAML file, the environment, then
// command-line flags, which the caller applies to the Config that Load
// returns before it calls Validate. The environment variable of a key is
// derived from its YAML path (kafka.group_id is DQ_KAFKA_GROUP_ID) by walking
// the struct's yaml tags, so a new field is configurable from the
// environment, listed by Keys and checked against docs/configuration.md
// without any list to maintain by hand.
//
// Unknown keys in the file and unknown DQ_* variables are errors, not
// warnings: a misspelt key that is silently ignored runs the gateway with a
// setting its operator believes is changed.
package config
