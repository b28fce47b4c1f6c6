package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// Limits of the values Validate accepts.
const (
	maxPartitions   = 10000
	maxTopicNameLen = 249
	maxMaxBytes     = 64 << 20
	maxBatchSize    = 100000
	maxDemoRate     = 100000
)

// problems collects what Validate finds, each naming its key.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// between checks lo <= v <= hi.
func (p *problems) between(key string, v, lo, hi int64) {
	switch {
	case v < lo:
		p.add(key, "must be at least %d, got %d", lo, v)
	case v > hi:
		p.add(key, "must be at most %d, got %d", hi, v)
	}
}

func (p *problems) nonEmpty(key, v string) bool {
	if strings.TrimSpace(v) == "" {
		p.add(key, "must not be empty")
		return false
	}
	return true
}

func (p *problems) oneOf(key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(key, "%s is not one of %s", quoteValue(v), strings.Join(allowed, ", "))
}

// hostPort checks a host:port address. A listen address may leave the host
// empty (all interfaces) and use port 0 (any free port); a broker address
// may not.
func (p *problems) hostPort(key, addr string, listen bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var addrErr *net.AddrError
		if errors.As(err, &addrErr) {
			err = errors.New(addrErr.Err)
		}
		p.add(key, "%s is not host:port (%v)", quoteValue(addr), err)
		return
	}
	if host == "" && !listen {
		p.add(key, "%s has no host", quoteValue(addr))
	}
	n, err := strconv.Atoi(port)
	minPort := 1
	if listen {
		minPort = 0
	}
	if err != nil || n < minPort || n > 65535 {
		p.add(key, "%s: port must be a number from %d to 65535", quoteValue(addr), minPort)
	}
}

// Validate checks every key and returns all problems joined (errors.Join),
// each naming its key, e.g. "kafka.partitions: must be at least 1, got 0".
// It reads the schema files to check they exist and hold JSON, and compiles
// the JSON Schemas and the business rules.
func (c *Config) Validate() error {
	var p problems
	p.nonEmpty("data_dir", c.DataDir)
	c.validateKafka(&p)
	c.validateTopics(&p)
	c.validateSchemas(&p)
	c.validateStorage(&p)

	p.between("limits.max_bytes", int64(c.Limits.MaxBytes), 1, maxMaxBytes)
	p.between("limits.max_depth", int64(c.Limits.MaxDepth), 1, jsonschema.MaxDepthCap)

	if a := c.Retention.MaxAge; a != 0 && a < time.Hour {
		p.add("retention.max_age", "must be 0 (keep forever) or at least 1h, got %s", a)
	}
	if c.Retention.Interval < time.Minute {
		p.add("retention.interval", "must be at least 1m, got %s", c.Retention.Interval)
	}
	p.between("pipeline.batch_size", int64(c.Pipeline.BatchSize), 1, maxBatchSize)
	if c.Pipeline.RetryBackoffMin <= 0 {
		p.add("pipeline.retry_backoff_min", "must be positive, got %s", c.Pipeline.RetryBackoffMin)
	}
	if c.Pipeline.RetryBackoffMax < c.Pipeline.RetryBackoffMin {
		p.add("pipeline.retry_backoff_max", "must be at least pipeline.retry_backoff_min (%s), got %s",
			c.Pipeline.RetryBackoffMin, c.Pipeline.RetryBackoffMax)
	}
	if h := c.Pipeline.MaxBatchHold; h < time.Second || h > 10*time.Minute {
		p.add("pipeline.max_batch_hold", "must be between 1s and 10m (and under the group's rebalance timeout, 60s by default), got %s", h)
	}
	if c.Pipeline.StallTimeout < 10*time.Second {
		p.add("pipeline.stall_timeout", "must be at least 10s, got %s", c.Pipeline.StallTimeout)
	}

	p.hostPort("http.listen", c.HTTP.Listen, true)
	c.validateAuth(&p)
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")

	p.between("demo.rate", int64(c.Demo.Rate), 1, maxDemoRate)
	if s := c.Demo.InvalidShare; !(s >= 0 && s <= 1) { // written so that NaN fails
		p.add("demo.invalid_share", "must be between 0 and 1, got %v", s)
	}

	if s := c.Circuit.Threshold; !(s > 0 && s <= 1) {
		p.add("circuit.threshold", "must be above 0 and at most 1, got %v", s)
	}
	if c.Circuit.Window < time.Second {
		p.add("circuit.window", "must be at least 1s, got %s", c.Circuit.Window)
	}
	p.between("circuit.min_records", c.Circuit.MinRecords, 1, 1_000_000_000)
	p.between("reprocess.max_replays", int64(c.Reprocess.MaxReplays), 1, 1000)
	p.between("reprocess.batch_size", int64(c.Reprocess.BatchSize), 1, 10_000)
	p.between("reprocess.max_attempts", int64(c.Reprocess.MaxAttempts), 1, 100)
	if c.Reprocess.Lease < 5*time.Second {
		p.add("reprocess.lease", "must be at least 5s, got %s", c.Reprocess.Lease)
	}
	if c.Reprocess.ScanInterval < time.Second {
		p.add("reprocess.scan_interval", "must be at least 1s, got %s", c.Reprocess.ScanInterval)
	}
	if s := c.Shadow.Sample; !(s >= 0 && s <= 1) { // written so that NaN fails
		p.add("shadow.sample", "must be between 0 and 1, got %v", s)
	}
	if c.Registry.RefreshInterval < time.Second {
		p.add("registry.refresh_interval", "must be at least 1s, got %s", c.Registry.RefreshInterval)
	}
	if c.Circuit.Cooldown < 0 {
		p.add("circuit.cooldown", "must not be negative, got %s", c.Circuit.Cooldown)
	}
	p.httpURL("circuit.webhook_url", c.Circuit.WebhookURL)
	p.httpURL("ui.prometheus_url", c.UI.PrometheusURL)
	return errors.Join(p...)
}

// httpURL checks that a URL setting is empty or an http(s) URL with a host.
func (p *problems) httpURL(key, u string) {
	if u == "" {
		return
	}
	if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		p.add(key, "must be an http:// or https:// URL")
	}
}

func (c *Config) validateKafka(p *problems) {
	for i, b := range c.Kafka.Brokers {
		p.hostPort(fmt.Sprintf("kafka.brokers[%d]", i), b, false)
	}
	p.hostPort("kafka.embedded.listen", c.Kafka.Embedded.Listen, true)
	if a := c.Kafka.Embedded.Advertise; a != "" {
		p.hostPort("kafka.embedded.advertise", a, true)
		if host, _, err := net.SplitHostPort(a); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				p.add("kafka.embedded.advertise", "%s is not an address a client can connect to: name this machine as clients reach it (broker.example:9092)", quoteValue(a))
			}
		}
	}
	if len(c.Kafka.Brokers) == 0 && !c.Kafka.Embedded.AllowRemote && !IsLoopbackListen(c.Kafka.Embedded.Listen) {
		p.add("kafka.embedded.listen", "%s is reachable from other machines, and the embedded broker has no authentication: "+
			"anyone who can reach it could read every topic and write straight into the clean topic, bypassing validation. "+
			"Listen on a loopback address such as 127.0.0.1:9092, use an external cluster (kafka.brokers), "+
			"or accept the risk with kafka.embedded.allow_remote: true (DQ_KAFKA_EMBEDDED_ALLOW_REMOTE=true)",
			quoteValue(c.Kafka.Embedded.Listen))
	}
	p.nonEmpty("kafka.group_id", c.Kafka.GroupID)
	p.nonEmpty("kafka.client_id", c.Kafka.ClientID)
	p.between("kafka.partitions", int64(c.Kafka.Partitions), 1, maxPartitions)
	if rf := c.Kafka.ReplicationFactor; rf != -1 && rf < 1 {
		p.add("kafka.replication_factor", "must be -1 (the broker's default) or at least 1, got %d", rf)
	}
	if c.Kafka.SessionTimeout < time.Second {
		p.add("kafka.session_timeout", "must be at least 1s, got %s", c.Kafka.SessionTimeout)
	}
	p.oneOf("kafka.compression", c.Kafka.Compression, "none", "gzip", "snappy", "lz4", "zstd")
	if id := c.Kafka.InstanceID; id != "" && !legalInstanceID(id) {
		p.add("kafka.instance_id", "%s is not a legal group instance id: at most 249 letters, digits, '.', '_' and '-' "+
			"(Kafka's rule), such as a StatefulSet pod's name", quoteValue(id))
	}
}

// legalInstanceID applies the broker's rule for group.instance.id, the same
// as for topic names.
func legalInstanceID(id string) bool {
	if len(id) > maxTopicNameLen || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (c *Config) validateSchemas(p *problems) {
	if len(c.Schemas) == 0 {
		p.add("schemas", "at least one schema is required")
	}
	type subjectVersion struct {
		subject string
		version int
	}
	first := make(map[subjectVersion]int)
	for i, s := range c.Schemas {
		key := fmt.Sprintf("schemas[%d]", i)
		if p.nonEmpty(key+".subject", s.Subject) {
			sv := subjectVersion{s.Subject, s.Version}
			if j, dup := first[sv]; dup {
				p.add(key, "subject %s version %d is already defined by schemas[%d]", quoteValue(s.Subject), s.Version, j)
			} else {
				first[sv] = i
			}
		}
		// isJSON: the document is JSON text, as JSON Schema and Avro
		// schemas both are.
		isJSON := false
		switch s.Type {
		case SchemaTypeJSON, SchemaTypeAvro:
			isJSON = true
		case SchemaTypeProtobuf: // .proto text, compiled when the gateway starts
		default:
			p.add(key+".type", "unknown schema type %s (want %s, %s or %s)", quoteValue(s.Type), SchemaTypeJSON, SchemaTypeAvro, SchemaTypeProtobuf)
		}
		if s.Version < 1 {
			p.add(key+".version", "must be at least 1, got %d", s.Version)
		}
		if s.Message != "" && s.Type != SchemaTypeProtobuf {
			p.add(key+".message", "names a Protobuf message type; this schema is %s", s.Type)
		}
		switch {
		case s.File != "" && s.Schema != "":
			p.add(key, "set either file or schema, not both")
		case s.File == "" && s.Schema == "":
			p.add(key, "set one of file (a path) or schema (the document inline)")
		case s.File != "":
			if data := c.validateSchemaFile(p, key+".file", s.File, isJSON); data != nil && s.Type == SchemaTypeJSON {
				compileJSONSchema(p, key+".file", s.Subject, data)
			}
		case isJSON:
			if err := checkJSON([]byte(s.Schema)); err != nil {
				p.add(key+".schema", "not valid JSON: %v", err)
			} else if s.Type == SchemaTypeJSON {
				compileJSONSchema(p, key+".schema", s.Subject, []byte(s.Schema))
			}
		}
		validateRules(p, key+".rules", s.Rules)
	}
}

// validateRules compiles the rules of one schema entry, so that a rule that
// would fail at start (or on every record) is refused with the CEL
// compiler's message under its key: schemas[0].rules[1].expr: ...
func validateRules(p *problems, key string, specs []rules.Spec) {
	if len(specs) == 0 {
		return
	}
	_, err := rules.Compile(specs, rules.Options{})
	var ce *rules.CompileError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		for _, pr := range ce.Problems {
			p.add(fmt.Sprintf("%s[%d].%s", key, pr.Index, pr.Key), "%s", pr.Message)
		}
	default:
		p.add(key, "%v", err)
	}
}

// validateSchemaFile checks that file can be read and, when isJSON, holds
// JSON, and returns its content when it passed.
func (c *Config) validateSchemaFile(p *problems, key, file string, isJSON bool) []byte {
	path := c.schemaPath(file)
	looked := ""
	if path != file {
		looked = fmt.Sprintf(" (looked for %s)", path)
	}
	data, err := readSchemaFile(path)
	switch {
	case errNotExist(err):
		p.add(key, "%s does not exist%s", quoteValue(file), looked)
	case err != nil:
		p.add(key, "cannot read %s: %v", quoteValue(file), err)
	case isJSON:
		if err := checkJSON(data); err != nil {
			p.add(key, "%s is not valid JSON: %v", quoteValue(file), err)
			return nil
		}
		return data
	}
	return nil
}

// compileJSONSchema compiles a JSON Schema as the gateway will, so that a
// schema it could not use (an invalid keyword, a pattern that does not
// compile, a reference cycle that could never finish validating a record)
// is refused under its key instead of failing the start, or every record.
func compileJSONSchema(p *problems, key, subject string, data []byte) {
	if _, err := jsonschema.Compile(subject, data); err != nil {
		p.add(key, "%v", err)
	}
}

// checkJSON reports whether data is one JSON value, with the offset of the
// first mistake.
func checkJSON(data []byte) error {
	var v json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("%w (at byte %d)", syn, syn.Offset)
		}
		return err
	}
	return nil
}

func (c *Config) validateTopics(p *problems) {
	subjects := make(map[string]bool, len(c.Schemas))
	for _, s := range c.Schemas {
		subjects[s.Subject] = true
	}
	type topic struct{ key, name string }
	var topics []topic
	if len(c.Topics.Inputs) == 0 {
		p.add("topics.inputs", "at least one input is required")
	}
	for i, in := range c.Topics.Inputs {
		key := fmt.Sprintf("topics.inputs[%d]", i)
		if checkTopicName(p, key+".topic", in.Topic) {
			topics = append(topics, topic{key + ".topic", in.Topic})
		}
		if p.nonEmpty(key+".subject", in.Subject) && !subjects[in.Subject] {
			p.add(key+".subject", "%s is not a configured schema subject", quoteValue(in.Subject))
		}
		switch in.Fallback {
		case "", FallbackEnforced, FallbackNone:
		default:
			p.add(key+".fallback", "%s is not a fallback policy (want %s or %s)", quoteValue(in.Fallback), FallbackEnforced, FallbackNone)
		}
		switch in.WireHeader {
		case "", WireDetect, WireIgnore:
		default:
			p.add(key+".wire_header", "%s is not a wire-header policy (want %s or %s)", quoteValue(in.WireHeader), WireDetect, WireIgnore)
		}
		switch in.DeprecatedIDs {
		case "", DeprecatedAccept, DeprecatedReject:
		default:
			p.add(key+".deprecated_ids", "%s is not a policy (want %s or %s)", quoteValue(in.DeprecatedIDs), DeprecatedAccept, DeprecatedReject)
		}
		switch in.Mode {
		case "", ModeEnforce, ModeObserve:
			if in.ObservedRows && in.Mode != ModeObserve {
				p.add(key+".observed_rows", "stores the records observe mode forwards; set mode: %s, or drop it", ModeObserve)
			}
		default:
			p.add(key+".mode", "%s is not a mode (want %s or %s)", quoteValue(in.Mode), ModeEnforce, ModeObserve)
		}
	}
	if checkTopicName(p, "topics.clean", c.Topics.Clean) {
		topics = append(topics, topic{"topics.clean", c.Topics.Clean})
	}
	if checkTopicName(p, "topics.dlq", c.Topics.DLQ) {
		topics = append(topics, topic{"topics.dlq", c.Topics.DLQ})
	}
	p.oneOf("topics.dlq_headers", c.Topics.DLQHeaders, DLQHeadersDQ, DLQHeadersConnect, DLQHeadersConfluent)
	for i, im := range c.Topics.Imports {
		key := fmt.Sprintf("topics.imports[%d]", i)
		if checkTopicName(p, key+".topic", im.Topic) {
			topics = append(topics, topic{key + ".topic", im.Topic})
		}
		switch im.From {
		case FromConnect, FromConfluent, FromDQ:
		case "":
			p.add(key+".from", "must be set: who wrote the topic (%s, %s or %s)", FromConnect, FromConfluent, FromDQ)
		default:
			p.add(key+".from", "%s is not one of %s, %s, %s", quoteValue(im.From), FromConnect, FromConfluent, FromDQ)
		}
		if im.SourceTopic != "" {
			checkTopicName(p, key+".source_topic", im.SourceTopic)
		}
	}
	// Every topic has one role. Kafka also refuses to create topics whose
	// names differ only by '.' against '_' (their metric names collide).
	for j := range topics {
		for i := range j {
			a, b := topics[i], topics[j]
			if a.name == b.name {
				p.add(b.key, "%s is already used by %s", quoteValue(b.name), a.key)
				break
			}
			if collisionName(a.name) == collisionName(b.name) {
				p.add(b.key, "%s collides with %s (%s): Kafka treats '.' and '_' in topic names as the same", quoteValue(b.name), quoteValue(a.name), a.key)
				break
			}
		}
	}
}

func collisionName(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

// checkTopicName checks Kafka's rules for a topic name and reports whether it
// passed.
func checkTopicName(p *problems, key, name string) bool {
	if err := CheckTopicName(name); err != nil {
		p.add(key, "%v", err)
		return false
	}
	return true
}

// CheckTopicName reports what makes name an illegal Kafka topic name, nil
// for a legal one: 1 to 249 characters from [a-zA-Z0-9._-], not "." or "..".
func CheckTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case name == "." || name == "..":
		return fmt.Errorf("%s is not a legal topic name", quoteValue(name))
	case len(name) > maxTopicNameLen:
		return fmt.Errorf("topic name is %d characters long, at most %d are allowed", len(name), maxTopicNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%s is not a legal topic name: use only letters, digits, '.', '_' and '-'", quoteValue(name))
		}
	}
	return nil
}

func (c *Config) validateStorage(p *problems) {
	if u := c.Storage.Metadata.URL; u != "" {
		if _, err := ParseMetadataURL(u); err != nil {
			p.add("storage.metadata.url", "%v", err)
		}
	}
	if u := c.Storage.Payloads.URL; u != "" {
		if _, err := ParsePayloadsURL(u); err != nil {
			p.add("storage.payloads.url", "%v", err)
		}
	}
}
