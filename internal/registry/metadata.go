package registry

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Metadata is Confluent's schema metadata (the "metadata" of a
// registration body): tags on the schema's fields, free-form properties,
// and the names of sensitive fields. The registry stores and returns it,
// and it is part of the schema id, as in Confluent; the gateway does not
// interpret it.
type Metadata struct {
	Tags       map[string][]string `json:"tags,omitempty"`
	Properties map[string]string   `json:"properties,omitempty"`
	Sensitive  []string            `json:"sensitive,omitempty"`
}

// encodeMetadata returns m as stored: canonical JSON (keys sorted, each
// tag list and the sensitive list sorted without repeats, as Confluent
// keeps them), "" for none.
func encodeMetadata(m *Metadata) (string, error) {
	if m == nil || len(m.Tags)+len(m.Properties)+len(m.Sensitive) == 0 {
		return "", nil
	}
	c := Metadata{Properties: m.Properties, Sensitive: sortedSet(m.Sensitive)}
	if len(m.Tags) > 0 {
		c.Tags = make(map[string][]string, len(m.Tags))
		for k, v := range m.Tags {
			c.Tags[k] = sortedSet(v)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the metadata: %w", err)
	}
	return string(b), nil
}

// ParseMetadata decodes a Schema's Metadata; nil for "".
func ParseMetadata(s string) (*Metadata, error) {
	if s == "" {
		return nil, nil
	}
	var m Metadata
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decoding stored metadata: %w", err)
	}
	return &m, nil
}

// HasProperties reports whether the metadata's properties include every
// key and value of want.
func (m *Metadata) HasProperties(want map[string]string) bool {
	for k, v := range want {
		if m == nil || m.Properties[k] != v {
			return false
		}
		if _, ok := m.Properties[k]; !ok {
			return false
		}
	}
	return true
}

func sortedSet(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
