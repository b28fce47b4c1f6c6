package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// schema state/shadow/promote against a real gateway: v2 (a required sku)
// in shadow, 2 of 10 records without a sku; the report says so, a 5%
// promotion is refused with the figure, a 25% one enforces v2.
func TestSchemaShadowCommands(t *testing.T) {
	t.Parallel()
	server, broker := runningGatewayWith(t, func(c *config.Config) {
		c.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "orders"}}
		c.Schemas = []config.Schema{{
			Subject: "orders", Type: config.SchemaTypeJSON, Version: 1,
			Schema: `{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`,
		}}
	})
	run := func(args ...string) (int, string, string) {
		return runCLI(t, "", nil, append(args, "--server", server)...)
	}
	ctx := context.Background()
	require.NoError(t, call(ctx, server, "", http.MethodPut, "/registry/config/orders", map[string]string{"compatibility": "FORWARD"}, nil))
	v2 := writeFile(t, t.TempDir(), "orders.v2.json", `{"type":"object","required":["id","sku"],"properties":{"id":{"type":"integer"},"sku":{"type":"string"}}}`)
	code, _, errOut := run("schema", "register", "orders", v2)
	require.Equal(t, 0, code, errOut)

	code, out, _ := run("schema", "shadow", "orders")
	require.Equal(t, 0, code)
	require.Contains(t, out, "No version is in shadow.")
	require.Contains(t, out, "v2 is registered: evaluate it with 'dataquarantine schema state orders 2 shadow'")

	code, out, errOut = run("schema", "state", "orders", "2", "shadow")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "orders version 2 is now in shadow")

	var recs []*kgo.Record
	for i := range 10 {
		v := fmt.Sprintf(`{"id":%d,"sku":"s"}`, i)
		if i < 2 {
			v = fmt.Sprintf(`{"id":%d}`, i)
		}
		recs = append(recs, &kgo.Record{Value: []byte(v)})
	}
	apptest.Produce(t, broker, "raw-events", recs...)
	testwait.For(t, 30*time.Second, "the shadow to count 10 records", func() error {
		code, out, _ := run("schema", "shadow", "orders", "--json")
		var rep shadowReportJSON
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Versions) != 1 || rep.Versions[0].Total.Seen != 10 {
			return fmt.Errorf("exit %d: %s", code, out)
		}
		return nil
	})

	code, out, _ = run("schema", "shadow", "orders", "--window", "15m")
	require.Equal(t, 0, code)
	require.Contains(t, out, "orders: v1 enforced; 100% of records evaluated in shadow (this gateway)")
	require.Contains(t, out, "last 15m: 10 records: would newly reject 2 (20%), newly accept 0; both accept 8, both reject 0")
	require.Regexp(t, `MISSING_FIELD\s+at /sku\s+2`, out)
	require.Regexp(t, `raw-events/\d+@\d+ \{"id":[01]\}`, out, "a newly rejected record, where to find it")

	code, _, errOut = run("schema", "promote", "orders", "2", "--max-newly-rejected", "5%")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "version 2 of orders would newly reject 20% of records (2 of 10 evaluated in the last 1h), above the 5% allowed; top: MISSING_FIELD at /sku (2 records)")
	code, _, errOut = run("schema", "shadow", "orders", "--samples", "99")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--samples must be from 0 to 10, got 99")

	code, _, errOut = run("schema", "promote", "orders", "2", "--max-newly-rejected", "150%")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "is not a share")
	code, _, errOut = run("schema", "promote", "orders", "2", "--window", "2h")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "invalid window")

	code, out, errOut = run("schema", "promote", "orders", "2", "--max-newly-rejected", "0.25")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "orders version 2 is now enforced: it would newly reject 20% (2 of 10 records evaluated in the last 1h), within the 25% allowed\n", out)
	code, _, errOut = run("schema", "promote", "orders", "2")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "version 2 of orders is enforced, not in shadow")

	code, _, errOut = run("schema", "shadow", "nope")
	require.Equal(t, 1, code)
	require.NotEmpty(t, errOut)
}

func TestParseShare(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"1%": 0.01, "0.5%": 0.005, "0.01": 0.01, "0": 0, "100%": 1, "2.5%": 0.025} {
		got, err := parseShare(in)
		require.NoError(t, err, in)
		require.InDelta(t, want, got, 1e-12, in)
	}
	for _, in := range []string{"", "%", "1.5", "-1%", "101%", "NaN", "one"} {
		_, err := parseShare(in)
		require.Error(t, err, in)
	}
}

// A payload's control characters (a terminal escape sequence, decoded from
// JSON's \u001b) never reach the terminal.
func TestShadowPrintIsTerminalSafe(t *testing.T) {
	t.Parallel()
	value := `{"a":"\u001b[31mred"}`
	rep := shadowReportJSON{Subject: "s", EnforcedVersion: 1, Sample: 1, Window: "1h", Versions: []shadowVersionJSON{{
		Version: 2,
		Recent:  shadowCountsJSON{Seen: 1, NewlyRejected: 1, NewlyRejectedShare: 1},
		Samples: map[string][]shadowSampleJSON{"newly_rejected": {{
			Topic: "t", Value: &value,
			CandidateErrors: []record.Violation{{Type: record.UnknownField, Field: "/\x1b[2J", Message: "property \"\x1b[2J\" is not allowed"}},
		}}},
	}}}
	var out strings.Builder
	printShadow(&out, rep, 3)
	require.NotContains(t, out.String(), "\x1b")
	require.Contains(t, out.String(), `UNKNOWN_FIELD at /?[2J: property "?[2J" is not allowed`)
	bad := "\x1b[31m not json"
	require.Equal(t, `"\x1b[31m not json"`, preview(shadowSampleJSON{Value: &bad}))
}
