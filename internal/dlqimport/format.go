package dlqimport

import (
	"fmt"
	"strings"
)

// Format says who wrote a dead-letter topic, and so which headers explain
// its records.
type Format string

// The formats.
const (
	// FormatConnect is a Kafka Connect sink's dead-letter queue
	// (errors.deadletterqueue.topic.name), with the __connect.errors.*
	// context headers when errors.deadletterqueue.context.headers.enable
	// is true.
	FormatConnect Format = "connect"
	// FormatConfluent is Confluent's DlqAction: the record a Java
	// serializer or deserializer could not pass through a data-contract
	// rule, with the __rule.* headers.
	FormatConfluent Format = "confluent"
	// FormatDQ is another DataQuarantine gateway's DLQ, with the dq.*
	// headers.
	FormatDQ Format = "dq"
)

// Formats lists every format.
var Formats = []Format{FormatConnect, FormatConfluent, FormatDQ}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("%q is not a dead-letter format: want %s", s, strings.Join(names, ", "))
}

// Title names who writes a format, for people: "Kafka Connect".
func (f Format) Title() string {
	switch f {
	case FormatConnect:
		return "Kafka Connect"
	case FormatConfluent:
		return "Confluent DlqAction"
	default:
		return "DataQuarantine"
	}
}
