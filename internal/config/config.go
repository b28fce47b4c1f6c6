package config

import (
	_ "embed"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// Config is the whole configuration of one dataquarantine process. Its zero
// value is not useful: start from Default or Load.
type Config struct {
	// DataDir holds everything the embedded mode persists: the embedded
	// broker's log, the SQLite metadata file, payload files and spools.
	// Relative paths are relative to the working directory.
	// Default "./data".
	DataDir string `yaml:"data_dir"`
	// Kafka is how to reach (or run) the broker.
	Kafka Kafka `yaml:"kafka"`
	// Topics names the topics consumed and produced.
	Topics Topics `yaml:"topics"`
	// Schemas are the schemas loaded from the configuration (GitOps). A list
	// set in the file or the environment replaces the default list entirely.
	// Default: one schema, the built-in user_event schema (subject
	// "user_event", version 1).
	Schemas []Schema `yaml:"schemas"`
	// Storage locates the quarantine store.
	Storage Storage `yaml:"storage"`
	// Retention purges old quarantined records from both stores.
	Retention Retention `yaml:"retention"`
	// Limits bound what the decoder accepts from a record.
	Limits Limits `yaml:"limits"`
	// Pipeline tunes the consume-validate-route loop.
	Pipeline Pipeline `yaml:"pipeline"`
	// HTTP configures the web UI, API and metrics server.
	HTTP HTTP `yaml:"http"`
	// Log configures the process's log output.
	Log Log `yaml:"log"`
	// Demo configures the built-in traffic generator.
	Demo Demo `yaml:"demo"`
	// Circuit configures the circuit breaker that pauses an input topic
	// flooded with invalid records.
	Circuit Circuit `yaml:"circuit"`
	// Registry tunes how the pipeline follows the schema registry.
	Registry Registry `yaml:"registry"`
	// Reprocess tunes the jobs that replay quarantined records.
	Reprocess Reprocess `yaml:"reprocess"`
	// UI configures the web UI.
	UI UI `yaml:"ui"`
	// Shadow tunes the evaluation of schema versions in shadow.
	Shadow Shadow `yaml:"shadow"`

	// dir is the directory of the file Config was loaded from ("" when none):
	// relative schema file paths are resolved against it, so a config file
	// and its schemas can move together.
	dir string
}

// Kafka configures the Kafka connection.
type Kafka struct {
	// Brokers are the seed brokers, each host:port. Default empty: run the
	// embedded broker and connect to it.
	Brokers []string `yaml:"brokers"`
	// Embedded configures the in-process broker used when Brokers is empty.
	Embedded Embedded `yaml:"embedded"`
	// GroupID is the consumer group shared by every gateway process.
	// Default "dataquarantine".
	GroupID string `yaml:"group_id"`
	// ClientID identifies this client to the brokers. Default "dataquarantine".
	ClientID string `yaml:"client_id"`
	// CreateTopics creates missing input, clean and DLQ topics, and the
	// followed dead-letter topics (Topics.Imports), at start.
	// Default true.
	CreateTopics bool `yaml:"create_topics"`
	// Partitions is the partition count of topics the gateway creates.
	// Default 6.
	Partitions int32 `yaml:"partitions"`
	// ReplicationFactor is the replication factor of topics the gateway
	// creates; -1 uses the broker's default. Default -1.
	ReplicationFactor int16 `yaml:"replication_factor"`
	// SessionTimeout is how long the group waits for a silent gateway
	// process before giving its partitions to the others (heartbeats are
	// sent every third of it, at most every 3s). The broker bounds it
	// (group.min/max.session.timeout.ms). Default 45s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// ExactlyOnce runs each batch's produces and offset commit in one Kafka
	// transaction, so read_committed consumers of the clean and DLQ topics
	// see each input record once, even across a crash. Default false:
	// at-least-once.
	ExactlyOnce bool `yaml:"exactly_once"`
	// Compression is the codec of the batches the gateway produces to the
	// clean and DLQ topics: none, gzip, snappy, lz4 or zstd. Default none:
	// every Kafka client reads it (kafkajs reads only gzip without a
	// codec plugin); lz4 or zstd save network and disk for a CPU cost.
	Compression string `yaml:"compression"`
	// InstanceID makes this process a static member of the consumer group
	// (KIP-345, group.instance.id): restarted with the same id within
	// SessionTimeout, it takes its partitions back at once, with no
	// rebalance and no wait for its old session to expire. Each process
	// needs its own id, kept across its restarts (a StatefulSet pod's
	// name); a second process with the same id fences the first. A static
	// member does not leave the group when it stops: its partitions wait
	// for it up to SessionTimeout. Default "": a dynamic member.
	InstanceID string `yaml:"instance_id"`
}

// Embedded configures the in-process Kafka-protocol broker.
type Embedded struct {
	// Listen is the address the embedded broker listens on.
	// Default "127.0.0.1:9092". Any other address than a loopback one
	// requires AllowRemote (see Validate).
	Listen string `yaml:"listen"`
	// AllowRemote accepts a Listen address other machines can reach. The
	// embedded broker has no authentication: anyone who reaches it can
	// read every topic and write to any, the clean topic included; the
	// gateway logs a warning at start. Default false.
	AllowRemote bool `yaml:"allow_remote"`
	// Advertise is the host:port the embedded broker tells clients to
	// connect to once they have bootstrapped (Kafka's
	// advertised.listeners). Default "": the listen address, a wildcard
	// host (0.0.0.0) advertised as localhost; port 0 advertises the port
	// bound.
	Advertise string `yaml:"advertise"`
}

// Topics names the gateway's topics.
type Topics struct {
	// Inputs are the topics consumed, each bound to the schema subject its
	// records are validated against. A list set in the file or the
	// environment replaces the default list entirely.
	// Default [{topic: raw-events, subject: user_event}].
	Inputs []Input `yaml:"inputs"`
	// Clean receives valid records, key, value and headers preserved.
	// Default "validated-events".
	Clean string `yaml:"clean"`
	// DLQ receives invalid records with dq.* error headers.
	// Default "quarantine-dlq".
	DLQ string `yaml:"dlq"`
	// DLQHeaders is which dead-letter headers DLQ records carry: "dq" (the
	// dq.* headers), "dq+connect" (also Kafka Connect's
	// __connect.errors.* context headers) or "dq+confluent" (also
	// Confluent's DlqAction __rule.* headers); see docs/dlq.md.
	// Default "dq".
	DLQHeaders string `yaml:"dlq_headers"`
	// Imports are dead-letter topics written by other tools (or another
	// gateway) that serve follows, importing each record into the
	// quarantine: each {topic, from, source_topic}; see docs/dlq.md.
	// Default none.
	Imports []Import `yaml:"imports"`
}

// Import is one dead-letter topic serve follows into the quarantine.
type Import struct {
	// Topic is the dead-letter topic to read. No default: required.
	Topic string `yaml:"topic"`
	// From is who wrote it: "connect" (a Kafka Connect sink's
	// errors.deadletterqueue), "confluent" (Confluent's DlqAction) or "dq"
	// (another DataQuarantine gateway's DLQ). No default: required.
	From string `yaml:"from"`
	// SourceTopic is the original topic of records whose dead-letter
	// headers do not name one (a Connect DLQ without context headers).
	// Default "": such records keep no original topic and cannot be
	// reprocessed to it.
	SourceTopic string `yaml:"source_topic,omitempty"`
}

// The values of Topics.DLQHeaders.
const (
	DLQHeadersDQ        = "dq"
	DLQHeadersConnect   = "dq+connect"
	DLQHeadersConfluent = "dq+confluent"
)

// The values of Import.From.
const (
	FromConnect   = "connect"
	FromConfluent = "confluent"
	FromDQ        = "dq"
)

// Input binds one input topic to a schema subject.
type Input struct {
	// Topic is the Kafka topic to consume. No default: required.
	Topic string `yaml:"topic"`
	// Subject is the schema subject records of Topic must match; it must be
	// the subject of one of Config.Schemas. No default: required.
	Subject string `yaml:"subject"`
	// Fallback says which versions may accept a record the subject's
	// newest enforced version rejects: "enforced" (every older version
	// still enforced, newest first: a gradual rollout) or "none" (the
	// newest enforced version alone decides). Default "enforced".
	Fallback string `yaml:"fallback,omitempty"`
	// WireHeader says whether record values are read for Confluent's wire
	// header (magic byte 0x00 and a 4-byte schema id, 0x01 and a GUID, or a
	// __value_schema_id record header): "detect" (per record; a record that
	// names its schema id is checked against that version) or "ignore"
	// (values are validated as they are; for raw Avro binary, whose first
	// byte may be 0x00). Default "detect".
	WireHeader string `yaml:"wire_header,omitempty"`
	// DeprecatedIDs says what happens to a record naming the schema id of a
	// deprecated version: "accept" (checked against it) or "reject"
	// (SCHEMA_NOT_FOUND). Default "accept".
	DeprecatedIDs string `yaml:"deprecated_ids,omitempty"`
	// Mode is "enforce" (invalid records are quarantined) or "observe"
	// (every record goes to the clean topic; an invalid one is counted as
	// today and marked with dq.observed.* headers), to onboard a topic
	// without risk. Default "enforce".
	Mode string `yaml:"mode,omitempty"`
	// ObservedRows, in observe mode, also stores each invalid record
	// (payload and a metadata row with status observed, browsable, never
	// reprocessed). Default false.
	ObservedRows bool `yaml:"observed_rows,omitempty"`
}

// The values of Input.Fallback, Input.WireHeader and Input.DeprecatedIDs.
const (
	FallbackEnforced = "enforced"
	FallbackNone     = "none"
	WireDetect       = "detect"
	WireIgnore       = "ignore"
	DeprecatedAccept = "accept"
	DeprecatedReject = "reject"
	ModeEnforce      = "enforce"
	ModeObserve      = "observe"
)

// Registry configures how the pipeline follows the schema registry.
type Registry struct {
	// RefreshInterval is how often the pipeline re-reads its subjects'
	// versions and rollout states from the registry, to pick up changes
	// made through another gateway sharing the database. Changes made
	// through this gateway apply at once. Default 10s.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Reprocess tunes reprocessing jobs (docs/operations.md, "Reprocessing").
type Reprocess struct {
	// MaxReplays is the loop guard: a record already republished this
	// many times (its dq.replay.count) is not published again but marked
	// failed_again. Default 3.
	MaxReplays int `yaml:"max_replays"`
	// BatchSize is how many records a job claims, publishes and marks at
	// a time: also the most a crash can republish. Default 100.
	BatchSize int `yaml:"batch_size"`
	// MaxAttempts is how many times a job retries a batch failing for an
	// operational reason (broker, store) before the job fails and releases
	// its records. Default 5.
	MaxAttempts int `yaml:"max_attempts"`
	// Lease is how long a running job stays this gateway's after each
	// batch; a job whose gateway died is resumed by another once its lease
	// ran out. Default 1m.
	Lease time.Duration `yaml:"lease"`
	// ScanInterval is how often each gateway looks for running jobs nobody
	// holds, to resume them. Default 30s.
	ScanInterval time.Duration `yaml:"scan_interval"`
}

// Shadow tunes shadow evaluation: versions in the registry's shadow state
// are evaluated on live records beside the enforced one, deciding nothing
// (docs/schemas.md, "Rollout").
type Shadow struct {
	// Sample is the share of records evaluated in shadow, 0 to 1, picked
	// by a hash of each record's topic, partition and offset (the same
	// records on every run); 0 evaluates none. Default 1.
	Sample float64 `yaml:"sample"`
}

// Schema is one schema version loaded from the configuration.
type Schema struct {
	// Subject is the schema subject. No default: required.
	Subject string `yaml:"subject"`
	// Type is the schema format: "JSON" (JSON Schema), "AVRO" (an Avro
	// schema; records are Avro binary) or "PROTOBUF" (a .proto file;
	// records are Protobuf binary of its first message, or of the one
	// their wire header's message indexes name). Default "JSON".
	Type string `yaml:"type"`
	// Version is the version number within Subject. Default 1.
	Version int `yaml:"version"`
	// File is the path of the schema document; a relative path is relative
	// to the config file's directory (the working directory when there is no
	// config file). Exactly one of File and Schema is set. Default "".
	File string `yaml:"file"`
	// Schema is the schema document inline. Exactly one of File and Schema is
	// set. Default "".
	Schema string `yaml:"schema"`
	// Rules are the CEL business rules records of this version must satisfy
	// once they pass the schema, each {name, expr, message, field}; see
	// docs/rules.md. They are compiled and type-checked by Validate.
	// Default none.
	Rules []rules.Spec `yaml:"rules,omitempty"`
	// Message is, for a PROTOBUF schema, the fully qualified message type
	// (pkg.Msg) of records that carry no Confluent wire header (a header's
	// message indexes choose for the others). Default "": the schema's
	// first message.
	Message string `yaml:"message,omitempty"`
}

// applyDefaults sets the fields of a list element that have a non-zero
// default, before the element is decoded over it: "schemas: [{subject: x,
// file: x.json}]" means type JSON, version 1.
func (s *Schema) applyDefaults() {
	s.Type = SchemaTypeJSON
	s.Version = 1
}

// The schema types.
const (
	SchemaTypeJSON     = "JSON"
	SchemaTypeAvro     = "AVRO"
	SchemaTypeProtobuf = "PROTOBUF"
)

// Storage locates the two halves of the quarantine store.
type Storage struct {
	// Metadata is where quarantine metadata rows are kept.
	Metadata Metadata `yaml:"metadata"`
	// Payloads is where quarantined payloads are kept.
	Payloads Payloads `yaml:"payloads"`
}

// Metadata locates the metadata store.
type Metadata struct {
	// URL is the metadata store: sqlite://PATH, or
	// postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=... for PostgreSQL (the
	// password is never shown: see RedactURL). Default "": the SQLite file
	// <data_dir>/dq.db (see Config.MetadataURL).
	URL string `yaml:"url"`
}

// Payloads locates the payload store.
type Payloads struct {
	// URL is the payload store: file://PATH, or
	// s3://BUCKET?endpoint=HOST:PORT&secure=BOOL&region=REGION (see
	// ParseS3URL). Default "": files under <data_dir>/payloads (see
	// Config.PayloadsURL).
	URL string `yaml:"url"`
	// AccessKey is the access key of an s3:// payload store. Default "":
	// anonymous requests.
	AccessKey string `yaml:"access_key"`
	// SecretKey is the secret key of an s3:// payload store; it is never
	// shown in errors or logs. Default "".
	SecretKey string `yaml:"secret_key"`
}

// Retention configures the periodic purge of old quarantined records.
type Retention struct {
	// MaxAge is how old a quarantined record may get before its metadata
	// row and payload are purged; its age counts from the Kafka record's
	// timestamp (the quarantine time for a record without one), and a
	// payload segment's from when it was written. At least 1h when set.
	// Default 0: keep forever.
	MaxAge time.Duration `yaml:"max_age"`
	// Interval is the time between purges, the first one at start. At
	// least 1m. Default 1h.
	Interval time.Duration `yaml:"interval"`
}

// Limits bound the input the decoder accepts; a record over a limit is
// quarantined with the matching error type, never an operational error.
type Limits struct {
	// MaxBytes is the largest record value accepted; a larger one is
	// PAYLOAD_TOO_LARGE. Default 1048576 (1 MiB).
	MaxBytes int `yaml:"max_bytes"`
	// MaxDepth is the deepest nesting of JSON objects and arrays (and of
	// Protobuf messages) accepted.
	// Default 64.
	MaxDepth int `yaml:"max_depth"`
	// AllowDuplicateKeys accepts JSON objects with a repeated key instead of
	// rejecting them as ambiguous. Default false.
	AllowDuplicateKeys bool `yaml:"allow_duplicate_keys"`
}

// Pipeline tunes the consume-validate-route loop.
type Pipeline struct {
	// BatchSize is the most records taken per poll. Default 5000.
	BatchSize int `yaml:"batch_size"`
	// RetryBackoffMin is the first wait after an operational failure (broker,
	// store); waits double up to RetryBackoffMax. Default 100ms.
	RetryBackoffMin time.Duration `yaml:"retry_backoff_min"`
	// RetryBackoffMax is the longest wait between retries. Default 10s.
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	// MaxBatchHold bounds how long one batch may keep the group from
	// rebalancing while its writes are retried; past it the batch is
	// released, uncommitted, and polled again (another gateway may take its
	// partitions meanwhile). Keep it under the group's rebalance timeout
	// (60s). Default 30s.
	MaxBatchHold time.Duration `yaml:"max_batch_hold"`
	// StallTimeout is how long the pipeline may go without committing
	// while it has work (records polled and not committed, or consumer lag
	// on a topic it is not paused on) before /readyz reports it stalled.
	// Default 2m.
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// HTTP configures the HTTP server (web UI, API, registry, metrics).
type HTTP struct {
	// Listen is the address the HTTP server listens on.
	// Default "127.0.0.1:8080". Any other address than a loopback one
	// requires Auth.Tokens (see Validate).
	Listen string `yaml:"listen"`
	// Auth configures who may use the HTTP server.
	Auth Auth `yaml:"auth"`
	// Pprof serves Go's runtime profiles (net/http/pprof) under
	// /debug/pprof/, to admins only when auth is on. Default false.
	Pprof bool `yaml:"pprof"`
	// AllowedHosts are the host names, besides localhost and loopback
	// addresses, that requests may name in their Host header, with any
	// port: a name, an IP address, ".example.com" (the domain and its
	// subdomains), a CIDR prefix, or "*" (any; only with auth on). With
	// auth off, a request under any other name is refused (DNS
	// rebinding); with auth on, the check applies only when the list is
	// set. /healthz and /readyz answer under any name. Default none.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Auth configures the HTTP server's API tokens. With no tokens, auth is off
// and every request acts as an anonymous admin: allowed only while
// HTTP.Listen is a loopback address.
type Auth struct {
	// Tokens are the API tokens, each {name, role, token or token_file}.
	// A list set in the file or the environment replaces the default list
	// entirely. Default none: auth off.
	Tokens []Token `yaml:"tokens"`
	// PublicMetrics serves /metrics without a token, for Prometheus to
	// scrape; false requires a viewer token (bearer) for it. Default true.
	PublicMetrics bool `yaml:"public_metrics"`
}

// The roles of API tokens, in increasing power: each includes the ones
// before it.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Roles lists the roles of API tokens, least powerful first.
var Roles = []string{RoleViewer, RoleOperator, RoleAdmin}

// MinTokenLen is the shortest token Validate accepts.
const MinTokenLen = 16

// Token is one API token.
type Token struct {
	// Name identifies the token's holder in the audit log and logs; unique.
	// No default: required.
	Name string `yaml:"name"`
	// Role is viewer, operator or admin. Default "viewer".
	Role string `yaml:"role"`
	// Token is the secret itself, at least MinTokenLen characters. Exactly
	// one of Token and TokenFile is set. It is never shown in errors, logs
	// or config dumps. Default "".
	Token Secret `yaml:"token"`
	// TokenFile is a file holding the token (a mounted Kubernetes Secret,
	// a Docker secret), read at start; surrounding white space is ignored.
	// A relative path is relative to the config file's directory.
	// Default "".
	TokenFile string `yaml:"token_file"`
}

// applyDefaults: a token without a role is a viewer, the least power.
func (t *Token) applyDefaults() { t.Role = RoleViewer }

// Secret is a string never shown: formatted, marshalled to text, JSON or
// YAML it is "xxxxx" (or "" when empty). Read it with string(s).
type Secret string

const redacted = "xxxxx"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText implements encoding.TextMarshaler (and so JSON and YAML).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Log configures logging.
type Log struct {
	// Level is the lowest level logged: debug, info, warn or error.
	// Default "info".
	Level string `yaml:"level"`
	// Format is text (logfmt-like) or json. Default "text".
	Format string `yaml:"format"`
}

// Demo configures the built-in generator of mixed valid and invalid traffic.
type Demo struct {
	// Enabled produces demo records to the first input topic. Default false.
	Enabled bool `yaml:"enabled"`
	// Rate is the number of demo records produced per second. Default 50.
	Rate int `yaml:"rate"`
	// InvalidShare is the fraction of demo records made invalid, 0 to 1.
	// Default 0.2.
	InvalidShare float64 `yaml:"invalid_share"`
}

// Circuit configures the per-input-topic circuit breaker.
type Circuit struct {
	// Enabled turns the breaker on. Default true.
	Enabled bool `yaml:"enabled"`
	// Threshold is the invalid share (0 to 1, exclusive of 0) over the
	// window above which the topic is paused. Default 0.5.
	Threshold float64 `yaml:"threshold"`
	// Window is the sliding window the share is measured over. Default 5m.
	Window time.Duration `yaml:"window"`
	// MinRecords is how many records the window must hold before the
	// breaker may trip. Default 100.
	MinRecords int64 `yaml:"min_records"`
	// Cooldown is how long a paused topic waits before half-opening by
	// itself to probe; 0 means only an operator resumes it (API or CLI).
	// Default 0.
	Cooldown time.Duration `yaml:"cooldown"`
	// WebhookURL receives a JSON POST on every state change; "" for none.
	// Default "".
	WebhookURL string `yaml:"webhook_url"`
}

// UI configures the web UI.
type UI struct {
	// PrometheusURL is a Prometheus server scraping every gateway
	// (http(s)://host:port[/prefix]): the dashboard's history then comes
	// from its range queries, for the whole deployment and as far back as
	// it keeps. Default "": the history this process keeps in memory since
	// it started (24 hours at most).
	PrometheusURL string `yaml:"prometheus_url"`
}

// userEventSchema is the design notes' user_event schema, the default schema.
//
//go:embed defaults/user_event.schema.json
var userEventSchema string

// Default returns the built-in configuration: embedded broker, SQLite and
// files under ./data, the user_event schema bound to raw-events. It
// validates. Each call returns a new Config that shares nothing with others.
func Default() Config {
	return Config{
		DataDir: "./data",
		Kafka: Kafka{
			Brokers:           nil,
			Embedded:          Embedded{Listen: "127.0.0.1:9092"},
			GroupID:           "dataquarantine",
			ClientID:          "dataquarantine",
			CreateTopics:      true,
			Partitions:        6,
			ReplicationFactor: -1,
			SessionTimeout:    45 * time.Second,
			ExactlyOnce:       false,
			Compression:       "none",
		},
		Topics: Topics{
			Inputs:     []Input{{Topic: "raw-events", Subject: "user_event"}},
			Clean:      "validated-events",
			DLQ:        "quarantine-dlq",
			DLQHeaders: DLQHeadersDQ,
		},
		Schemas: []Schema{{
			Subject: "user_event",
			Type:    SchemaTypeJSON,
			Version: 1,
			Schema:  userEventSchema,
		}},
		Retention: Retention{MaxAge: 0, Interval: time.Hour},
		Limits: Limits{
			MaxBytes:           1 << 20,
			MaxDepth:           64,
			AllowDuplicateKeys: false,
		},
		Pipeline: Pipeline{
			BatchSize:       5000,
			RetryBackoffMin: 100 * time.Millisecond,
			RetryBackoffMax: 10 * time.Second,
			MaxBatchHold:    30 * time.Second,
			StallTimeout:    2 * time.Minute,
		},
		HTTP: HTTP{Listen: "127.0.0.1:8080", Auth: Auth{PublicMetrics: true}},
		Log:  Log{Level: "info", Format: "text"},
		Demo: Demo{Enabled: false, Rate: 50, InvalidShare: 0.2},
		Circuit: Circuit{
			Enabled:    true,
			Threshold:  0.5,
			Window:     5 * time.Minute,
			MinRecords: 100,
		},
		Registry: Registry{RefreshInterval: 10 * time.Second},
		Reprocess: Reprocess{
			MaxReplays: 3, BatchSize: 100, MaxAttempts: 5,
			Lease: time.Minute, ScanInterval: 30 * time.Second,
		},
		Shadow: Shadow{Sample: 1},
	}
}
