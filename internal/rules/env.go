package rules

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
	// Rules may name time zones (getHours('Europe/Paris')): embedding the
	// zone database makes them work the same on a minimal image.
	_ "time/tzdata"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The variables a rule sees.
const (
	varMessage = "message"
	varNow     = "now"
)

// maxExprLen bounds a rule's source, in code points. Real rules are a line
// or a few; the bound keeps parsing of a hostile expression cheap.
const maxExprLen = 10_000

// env is the CEL environment every rule is compiled in. It is immutable and
// safe for concurrent use, so it is built once.
var env = sync.OnceValues(func() (*cel.Env, error) {
	base, err := cel.NewEnv(
		cel.Variable(varMessage, cel.DynType),
		cel.Variable(varNow, cel.TimestampType),
		// 1 < 1.5 and message.amount > 0 whatever the number's CEL type.
		cel.CrossTypeNumericComparisons(true),
		// message.?discount.orValue(0): optional fields without has().
		cel.OptionalTypes(),
		cel.ParserExpressionSizeLimit(maxExprLen),
		cel.ParserErrorRecoveryLimit(4),
		// Mistakes in literals are compile errors, not per-record ones.
		cel.ASTValidators(
			cel.ValidateTimestampLiterals(),
			cel.ValidateDurationLiterals(),
			cel.ValidateRegexLiterals(),
		),
	)
	if err != nil {
		return nil, err
	}
	return base.Extend(cel.CustomTypeAdapter(adapter{base.CELTypeAdapter()}))
})

// adapter converts decoded records to CEL values. It handles the shapes the
// decoders produce that CEL's default adapter reads differently
// (json.Number) or not at all (*big.Rat, [16]byte), and wraps maps and
// lists so that their elements come back through it.
type adapter struct{ base types.Adapter }

func (a adapter) NativeToValue(v any) ref.Val {
	switch v := v.(type) {
	case json.Number:
		return numberValue(string(v))
	case map[string]any:
		return types.NewStringInterfaceMap(a, v)
	case []any:
		return types.NewDynamicList(a, v)
	case *big.Rat: // Avro decimal
		if v == nil {
			return types.NullValue
		}
		f, _ := v.Float64()
		return types.Double(f)
	case [16]byte: // Avro uuid on fixed(16)
		return types.Bytes(v[:])
	}
	return a.base.NativeToValue(v)
}

// maxExactInt is the largest integer every float64 near it represents
// exactly (2^53).
const maxExactInt = 1 << 53

// numberValue is the CEL value of a JSON number: an int when the number is
// whole and exact as an int64, a double otherwise (see the package doc).
func numberValue(s string) ref.Val {
	// Only integer literals go to ParseInt: its error on "249.99" would
	// allocate on every record.
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return types.Int(i)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return types.NewErr("invalid number %q", record.Truncate(s, maxMessageLen))
	}
	if f == math.Trunc(f) && math.Abs(f) <= maxExactInt {
		return types.Int(int64(f))
	}
	return types.Double(f)
}

// activation binds message and now for one evaluation, without the map a
// generic activation would allocate.
type activation struct {
	message any
	now     types.Timestamp
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varMessage:
		return a.message, true
	case varNow:
		return a.now, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func newActivation(message any, now time.Time) *activation {
	return &activation{message: message, now: types.Timestamp{Time: now}}
}
