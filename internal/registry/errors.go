package registry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
)

// Conditions callers branch on. The HTTP layer maps each to Confluent's
// error code.
var (
	ErrSubjectNotFound       = errors.New("subject not found")
	ErrVersionNotFound       = errors.New("version not found")
	ErrSchemaNotFound        = errors.New("schema not found")
	ErrSubjectSoftDeleted    = errors.New("subject was soft deleted; set permanent=true to delete permanently")
	ErrSubjectNotSoftDeleted = errors.New("subject was not deleted first before being permanently deleted")
	ErrVersionSoftDeleted    = errors.New("version was soft deleted; set permanent=true to delete permanently")
	ErrVersionNotSoftDeleted = errors.New("version was not deleted first before being permanently deleted")
	ErrInvalidSchema         = errors.New("invalid schema")
	ErrInvalidVersion        = errors.New("invalid version")
	ErrInvalidCompatibility  = errors.New("invalid compatibility level")
	ErrInvalidMode           = errors.New("invalid mode")
	ErrInvalidState          = errors.New("invalid rollout state")
	ErrInvalidLabel          = errors.New("invalid semantic version label")
	ErrOperationNotPermitted = errors.New("operation not permitted")
	ErrIncompatible          = errors.New("schema being registered is incompatible with an earlier schema")
	// ErrInvalidRuleSet is a rule set that is not well formed, or a CEL
	// condition the gateway would run that does not compile (Confluent's
	// 42210).
	ErrInvalidRuleSet = errors.New("invalid rule set")
	// ErrNotFound is what a Store returns for a missing row.
	ErrNotFound = errors.New("not found")
	// ErrConflict is what a Store returns when a row's key is taken.
	ErrConflict = errors.New("already exists")
)

// IncompatibleError is a registration refused by the compatibility check,
// with the breaking changes that explain it.
type IncompatibleError struct {
	Subject string
	Level   compat.Mode
	Changes []compat.Change
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("%s under %s for subject %q: %s", ErrIncompatible, e.Level, e.Subject, strings.Join(Messages(e.Changes), "; "))
}

// Is makes errors.Is(err, ErrIncompatible) true.
func (e *IncompatibleError) Is(target error) bool { return target == ErrIncompatible }

// WrongStateError is a rollout-state change refused because the version
// is not in the state the change starts from (Registry.ChangeState).
type WrongStateError struct {
	Subject string
	Version int
	// State is the version's; From the one the change needed.
	State, From State
}

func (e *WrongStateError) Error() string {
	return fmt.Sprintf("version %d of %s is %s, not %s", e.Version, e.Subject, e.State, e.From)
}

// Messages explains changes one line each, in Confluent's verbose style:
// errorType and path as Confluent names them, for clients that parse them;
// the description in the user's terms (compat.Change.Summary).
func Messages(changes []compat.Change) []string {
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		desc := c.Summary
		if desc == "" {
			desc = c.Message
		}
		out = append(out, fmt.Sprintf("{errorType:'%s', description:'%s', path:'%s', direction:'%s'}", c.Kind, desc, c.Path, c.Direction))
	}
	return out
}
