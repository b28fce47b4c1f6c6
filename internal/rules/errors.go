package rules

import (
	"fmt"
	"strings"
)

// Problem is one reason a rule was refused by Compile.
type Problem struct {
	// Index is the rule's position in the specs given to Compile.
	Index int
	// Name is the rule's name, "" when it has none.
	Name string
	// Key is the Spec field at fault, as the configuration spells it:
	// "name", "expr", "message" or "field".
	Key string
	// Message says what is wrong; for "expr" it is the CEL compiler's own
	// message, with the line and column of the mistake.
	Message string
}

func (p Problem) String() string {
	name := ""
	if p.Name != "" {
		name = fmt.Sprintf(" (%s)", p.Name)
	}
	return fmt.Sprintf("rules[%d]%s.%s: %s", p.Index, name, p.Key, p.Message)
}

// CompileError lists every problem Compile found, so that a configuration
// with several bad rules is fixed in one pass.
type CompileError struct {
	Problems []Problem
}

func (e *CompileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "compiling rules: " + strings.Join(lines, "; ")
}
