package schema

import (
	"fmt"
)

// Static resolves topics through fixed bindings to fixed versions, as loaded
// from the config file. It is immutable and safe for concurrent use.
type Static struct {
	byTopic   map[string]*Version
	bindings  map[string]string
	bySubject map[string]*Version
}

var _ Resolver = (*Static)(nil)

// NewStatic binds each topic to a subject (bindings maps topic -> subject)
// and each subject to the highest of its given versions. A binding to a
// subject with no version is an error: the config would route every record
// of that topic to quarantine.
func NewStatic(bindings map[string]string, versions []*Version) (*Static, error) {
	s := &Static{
		byTopic:   make(map[string]*Version, len(bindings)),
		bindings:  bindings,
		bySubject: make(map[string]*Version, len(versions)),
	}
	for _, v := range versions {
		if cur, ok := s.bySubject[v.Subject]; !ok || v.Version > cur.Version {
			s.bySubject[v.Subject] = v
		}
	}
	for topic, subject := range bindings {
		v, ok := s.bySubject[subject]
		if !ok {
			return nil, fmt.Errorf("topic %s is bound to subject %s, which has no schema", topic, subject)
		}
		s.byTopic[topic] = v
	}
	return s, nil
}

// Resolve implements Resolver.
func (s *Static) Resolve(topic string) (*Version, error) {
	if v, ok := s.byTopic[topic]; ok {
		return v, nil
	}
	return nil, &NotFoundError{Topic: topic, Subject: s.bindings[topic]}
}

// Subject returns the latest version of subject, or nil.
func (s *Static) Subject(subject string) *Version { return s.bySubject[subject] }

// Fixed resolves every topic to one version: the offline validator's
// resolver, where there are no topics.
type Fixed struct{ Version *Version }

var _ Resolver = Fixed{}

// Resolve implements Resolver.
func (f Fixed) Resolve(string) (*Version, error) { return f.Version, nil }
