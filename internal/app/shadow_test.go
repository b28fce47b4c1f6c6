package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

const (
	ordersV1 = `{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"sku":{"type":"string"}}}`
	// ordersV2 requires a sku, and takes a decimal id.
	ordersV2 = `{"type":"object","required":["id","sku"],"properties":{"id":{"type":"number"},"sku":{"type":"string"}}}`
)

type shadowCounts struct {
	Seen               int64   `json:"seen"`
	AgreePass          int64   `json:"agree_pass"`
	AgreeFail          int64   `json:"agree_fail"`
	NewlyRejected      int64   `json:"newly_rejected"`
	NewlyAccepted      int64   `json:"newly_accepted"`
	NewlyRejectedShare float64 `json:"newly_rejected_share"`
	NewlyRejectedBy    []struct {
		ErrorType string `json:"error_type"`
		Field     string `json:"field"`
		Records   int64  `json:"records"`
	} `json:"newly_rejected_by"`
}

type shadowReport struct {
	Subject         string `json:"subject"`
	EnforcedVersion int    `json:"enforced_version"`
	Versions        []struct {
		Version int          `json:"version"`
		Recent  shadowCounts `json:"recent"`
		Total   shadowCounts `json:"total"`
		Samples map[string][]struct {
			ID     string `json:"id"`
			Stored bool   `json:"stored"`
			Value  string `json:"value"`
		} `json:"samples"`
	} `json:"versions"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Figures struct {
		Seen          int64 `json:"seen"`
		NewlyRejected int64 `json:"newly_rejected"`
	} `json:"figures"`
}

func order(id, sku string) *kgo.Record {
	v := `{"id":` + id
	if sku != "" {
		v += `,"sku":"` + sku + `"`
	}
	return &kgo.Record{Key: []byte("o-" + id), Value: []byte(v + "}")}
}

// TestShadowRollout walks shadow -> enforce -> deprecate over a real
// gateway: v1 enforced, v2 (a required sku) registered and put in shadow;
// a known mix is routed exactly as v1 alone decides, with no trace of the
// shadow on any record, while the shadow report and metric equal what v1
// and v2 say of each record offline; promotion refuses while v2 would
// newly reject more than 1% (and before any evidence), then, once the
// traffic is fixed, succeeds, audited; with v1 deprecated v2 alone decides.
func TestShadowRollout(t *testing.T) {
	ctx := context.Background()
	gw, cfg, cl := startSubject(t, "orders", config.SchemaTypeJSON, ordersV1)
	addr := gw.app.KafkaAddr()
	v2, err := cl.CreateSchema(ctx, "orders", sr.Schema{Type: sr.TypeJSON, Schema: ordersV2})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version)

	var refused apiError
	require.Equal(t, http.StatusConflict, gw.send(http.MethodPost, "/api/v1/schemas/orders/versions/2/promote", `{"max_newly_rejected":0.01}`, &refused))
	require.Equal(t, "conflict", refused.Error.Code, "v2 is registered, not in shadow: %s", refused.Error.Message)
	gw.setState("orders", 2, "shadow")
	require.Equal(t, http.StatusConflict, gw.send(http.MethodPost, "/api/v1/schemas/orders/versions/2/promote", `{"max_newly_rejected":0.01}`, &refused))
	require.Equal(t, "promotion_refused", refused.Error.Code)
	require.Contains(t, refused.Error.Message, "no record of subject orders was evaluated against version 2 in the last 1h")

	// The mix: 60 both accept, 20 without a sku (v2 would newly reject),
	// 10 neither accepts, 5 with a decimal id (v2 would newly accept).
	var recs []*kgo.Record
	for i := range 95 {
		switch {
		case i < 60:
			recs = append(recs, order(fmt.Sprint(i), "s"))
		case i < 80:
			recs = append(recs, order(fmt.Sprint(i), ""))
		case i < 90:
			recs = append(recs, order(`"x"`, "s"))
		default:
			recs = append(recs, order(fmt.Sprintf("%d.5", i), "s"))
		}
	}
	produce(t, addr, recs...)
	clean := consumeExactly(t, addr, cfg.Topics.Clean, 80)
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 15)
	for _, r := range clean {
		require.Empty(t, r.Headers, "a clean record carries its own headers only: %s", r.Value)
	}
	for _, r := range dlq {
		require.Equal(t, "1", header(r, pipeline.HeaderSchemaVersion), "v1 decides")
		require.Equal(t, string(record.TypeMismatch), header(r, pipeline.HeaderErrorType))
	}

	// Offline: each record through v1 alone and v2 alone.
	want := offlineShadow(t, &cfg, recs)
	require.Equal(t, shadow.Counts{
		AgreePass: 60, NewlyRejected: 20, AgreeFail: 10, NewlyAccepted: 5,
		NewlyRejectedBy: []shadow.ErrorCount{{Type: record.MissingField, Field: "/sku", Records: 20}},
	}, want)
	rep := waitShadow(t, gw, 95)
	require.Equal(t, 1, rep.EnforcedVersion)
	require.Len(t, rep.Versions, 1)
	got := rep.Versions[0]
	require.Equal(t, 2, got.Version)
	for _, c := range []shadowCounts{got.Recent, got.Total} {
		require.Equal(t, want.Seen(), c.Seen)
		require.Equal(t, want.AgreePass, c.AgreePass)
		require.Equal(t, want.AgreeFail, c.AgreeFail)
		require.Equal(t, want.NewlyRejected, c.NewlyRejected)
		require.Equal(t, want.NewlyAccepted, c.NewlyAccepted)
		require.Len(t, c.NewlyRejectedBy, 1)
		require.Equal(t, "MISSING_FIELD", c.NewlyRejectedBy[0].ErrorType)
		require.Equal(t, "/sku", c.NewlyRejectedBy[0].Field)
		require.Equal(t, int64(20), c.NewlyRejectedBy[0].Records)
	}
	for outcome, n := range map[string]int64{"agree_pass": 60, "agree_fail": 10, "newly_rejected": 20, "newly_accepted": 5} {
		require.Equal(t, float64(n), gw.metric(`schema_shadow_verdicts_total{outcome="`+outcome+`",subject="orders",version="2"}`), outcome)
	}
	// A newly accepted sample is in quarantine today: its id opens it.
	acc := got.Samples["newly_accepted"]
	require.Len(t, acc, 5)
	require.True(t, acc[0].Stored)
	var row quarantineItem
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/quarantine/"+acc[0].ID, &row))
	require.Equal(t, acc[0].Value, *row.Payload)
	require.NotContains(t, got.Samples["newly_rejected"][0].Value, "sku", "a newly rejected sample carries its payload")

	// 20 of 95 (21%): refused, with the figure.
	require.Equal(t, http.StatusConflict, gw.send(http.MethodPost, "/api/v1/schemas/orders/versions/2/promote", `{"max_newly_rejected":0.01}`, &refused))
	require.Equal(t, "promotion_refused", refused.Error.Code)
	require.Equal(t, "version 2 of orders would newly reject 21.1% of records (20 of 95 evaluated in the last 1h), above the 1% allowed; top: MISSING_FIELD at /sku (20 records)", refused.Error.Message)
	require.Equal(t, int64(95), refused.Figures.Seen)
	require.Equal(t, 1.0, gw.metric(`schema_enforced_version{subject="orders"}`), "still v1")

	// The producers fix their traffic: 2,000 records with a sku bring the
	// share to 20 of 2,095, under 1%.
	recs = recs[:0]
	for i := range 2000 {
		recs = append(recs, order(fmt.Sprint(1000+i), "s"))
	}
	produce(t, addr, recs...)
	waitShadow(t, gw, 2095)
	var promoted struct {
		State              string  `json:"state"`
		Seen               int64   `json:"seen"`
		NewlyRejected      int64   `json:"newly_rejected"`
		NewlyRejectedShare float64 `json:"newly_rejected_share"`
	}
	require.Equal(t, http.StatusOK, gw.send(http.MethodPost, "/api/v1/schemas/orders/versions/2/promote", `{"max_newly_rejected":0.01}`, &promoted))
	require.Equal(t, "enforced", promoted.State)
	require.Equal(t, int64(2095), promoted.Seen)
	require.Equal(t, int64(20), promoted.NewlyRejected)
	require.Equal(t, 2.0, gw.metric(`schema_enforced_version{subject="orders"}`))
	var events struct {
		Events []struct {
			Action  string         `json:"action"`
			Target  string         `json:"target"`
			Details map[string]any `json:"details"`
		} `json:"events"`
	}
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/audit?action=schema.promote", &events))
	require.Len(t, events.Events, 1)
	require.Equal(t, "schema/orders/2", events.Events[0].Target)
	require.Equal(t, "shadow", events.Events[0].Details["from"])
	require.EqualValues(t, 20, events.Events[0].Details["newly_rejected"])
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/schemas/orders/shadow", &rep))
	require.Empty(t, rep.Versions, "nothing in shadow any more")

	// Enforced, with v1 still a fallback, then alone once v1 is deprecated.
	produce(t, addr, order("5000", ""))
	consumeExactly(t, addr, cfg.Topics.Clean, 80+2000+1)
	gw.setState("orders", 1, "deprecated")
	produce(t, addr, order("5001", ""))
	dlq = consumeExactly(t, addr, cfg.Topics.DLQ, 16)
	i := slices.IndexFunc(dlq, func(r *kgo.Record) bool { return string(r.Value) == `{"id":5001}` })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, "2", header(dlq[i], pipeline.HeaderSchemaVersion))
	require.Equal(t, string(record.MissingField), header(dlq[i], pipeline.HeaderErrorType))
}

// offlineShadow computes what the shadow report must say of recs: each
// through v1 alone and v2 alone, compiled as the gateway compiles them.
func offlineShadow(t *testing.T, cfg *config.Config, recs []*kgo.Record) shadow.Counts {
	t.Helper()
	engine := func(version int, text string) *validate.Engine {
		v, err := formats.Compile(schema.FormatJSON, "orders", version, []byte(text), formats.Options{Limits: app.JSONLimits(cfg)})
		require.NoError(t, err)
		e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}, MaxBytes: cfg.Limits.MaxBytes})
		require.NoError(t, err)
		return e
	}
	v1, v2 := engine(1, ordersV1), engine(2, ordersV2)
	var c shadow.Counts
	by := map[shadow.ErrorCount]int64{}
	for _, r := range recs {
		rec := record.Record{Topic: "raw-events", Value: r.Value}
		var today, cand record.Verdict
		require.NoError(t, v1.Validate(&rec, &today))
		require.NoError(t, v2.Validate(&rec, &cand))
		switch shadow.Classify(today.Valid(), cand.Valid()) {
		case shadow.AgreePass:
			c.AgreePass++
		case shadow.AgreeFail:
			c.AgreeFail++
		case shadow.NewlyAccepted:
			c.NewlyAccepted++
		case shadow.NewlyRejected:
			c.NewlyRejected++
			for _, e := range cand.Violations {
				by[shadow.ErrorCount{Type: e.Type, Field: e.Field}]++
			}
		}
	}
	for k, n := range by {
		k.Records = n
		c.NewlyRejectedBy = append(c.NewlyRejectedBy, k)
	}
	return c
}

// waitShadow polls the shadow report until its version has seen n records
// (they are counted when their batch commits).
func waitShadow(t *testing.T, gw *running, n int64) shadowReport {
	t.Helper()
	var rep shadowReport
	testwait.For(t, 30*time.Second, fmt.Sprintf("the shadow report to count %d records", n), func() error {
		rep = shadowReport{}
		if code := gw.getJSON("/api/v1/schemas/orders/shadow", &rep); code != http.StatusOK {
			return fmt.Errorf("status %d", code)
		}
		if len(rep.Versions) != 1 || rep.Versions[0].Total.Seen < n {
			return fmt.Errorf("report %+v", rep)
		}
		return nil
	})
	require.Equal(t, n, rep.Versions[0].Total.Seen)
	return rep
}

// TestObserveMode: an input in observe mode with observed rows: every
// record reaches the clean topic, none the DLQ; the violations are
// counted as when enforcing and marked on the clean records; each is
// stored with status observed, browsable and never reprocessed; and the
// breaker does not watch the topic.
func TestObserveMode(t *testing.T) {
	cfg := config.Default()
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "user_event", Mode: config.ModeObserve, ObservedRows: true}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprint("ok", i)), Value: []byte(fmt.Sprintf(`{"user_id":"USER%06d","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`, i))})
	}
	bad := map[string]record.ErrorType{
		`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`:                          record.MissingField,
		`{"user_id":"USER000001","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`: record.EnumViolation,
		`{"user_id":"bob","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`:          record.PatternMismatch,
	}
	for v := range bad {
		recs = append(recs, &kgo.Record{Key: []byte("bad"), Value: []byte(v)})
	}
	produce(t, addr, recs...)
	clean := consumeExactly(t, addr, cfg.Topics.Clean, 33)
	consumeExactly(t, addr, cfg.Topics.DLQ, 0)

	var ids []string
	for _, r := range clean {
		if string(r.Key) != "bad" {
			require.Empty(t, r.Headers)
			continue
		}
		require.Equal(t, string(bad[string(r.Value)]), header(r, pipeline.HeaderObservedErrorType))
		require.Equal(t, "user_event", header(r, pipeline.HeaderSchemaSubject))
		require.Empty(t, header(r, pipeline.HeaderQuarantineID))
		ids = append(ids, header(r, pipeline.HeaderObservedID))
	}
	require.Len(t, ids, 3)
	testwait.For(t, 10*time.Second, "33 records processed", func() error {
		if got := gw.metric(`records_processed_total{subject="user_event",topic="raw-events"}`); got != 33 {
			return fmt.Errorf("%v processed", got)
		}
		return nil
	})
	require.Equal(t, 30.0, gw.metric(`records_valid_total{subject="user_event",topic="raw-events"}`))
	for _, typ := range bad {
		require.Equal(t, 1.0, gw.metric(`records_invalid_total{error_type="`+string(typ)+`",subject="user_event",topic="raw-events"}`))
	}
	var page struct {
		Items []quarantineItem `json:"items"`
	}
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/quarantine?status=observed", &page))
	require.Len(t, page.Items, 3)
	for _, it := range page.Items {
		require.Contains(t, ids, it.ID)
		require.Equal(t, "observed", it.Status)
	}
	var e apiError
	status := gw.send(http.MethodPost, "/api/v1/quarantine/"+ids[0]+"/reprocess", `{"reason":"try"}`, &e)
	require.Equal(t, http.StatusConflict, status, "an observed record was delivered: %s", e.Error.Message)
	var circuits struct {
		Topics []any `json:"topics"`
	}
	status = gw.getJSON("/api/v1/circuit", &circuits)
	require.True(t, status == http.StatusNotFound || len(circuits.Topics) == 0, "no breaker watches an observe-mode topic")
}

// TestShadowWireFormat: Avro records in Confluent's wire format are judged
// in shadow as they would be with the candidate enforced: read from the
// schema they name into the candidate. v2 adds a field without a default,
// so a record written with v1 is one v2 would newly reject (its readers
// could not fill the field), while a record written with v2 passes both.
func TestShadowWireFormat(t *testing.T) {
	ctx := context.Background()
	gw, cfg, cl := startSubject(t, "payments", config.SchemaTypeAvro, paymentV1)
	const strictV2 = `{"type":"record","name":"Payment","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"},{"name":"currency","type":"string"}]}`
	v1, err := cl.SchemaByVersion(ctx, "payments", 1)
	require.NoError(t, err)
	v2, err := cl.CreateSchema(ctx, "payments", sr.Schema{Type: sr.TypeAvro, Schema: strictV2})
	require.NoError(t, err)
	gw.setState("payments", 2, "shadow")

	serde := paymentSerde(v1.ID, v2.ID, strictV2)
	var recs []*kgo.Record
	for i := range 5 {
		var value []byte
		if i < 3 {
			value, err = serde.Encode(paymentV1Datum{ID: fmt.Sprint("p-", i), Amount: 1})
		} else {
			value, err = serde.Encode(paymentV2Datum{ID: fmt.Sprint("p-", i), Amount: 1, Currency: "EUR"})
		}
		require.NoError(t, err)
		recs = append(recs, &kgo.Record{Value: value})
	}
	produce(t, gw.app.KafkaAddr(), recs...)
	consumeExactly(t, gw.app.KafkaAddr(), cfg.Topics.Clean, 5)

	var rep shadowReport
	testwait.For(t, 30*time.Second, "the shadow report to count 5 records", func() error {
		rep = shadowReport{}
		if code := gw.getJSON("/api/v1/schemas/payments/shadow", &rep); code != http.StatusOK {
			return fmt.Errorf("status %d", code)
		}
		if len(rep.Versions) != 1 || rep.Versions[0].Total.Seen != 5 {
			return fmt.Errorf("report %+v", rep)
		}
		return nil
	})
	c := rep.Versions[0].Total
	require.Equal(t, int64(3), c.NewlyRejected, "v1's records: v2 cannot read them")
	require.Equal(t, int64(2), c.AgreePass, "v2's records")
	require.Len(t, c.NewlyRejectedBy, 1)
	require.Equal(t, "/currency", c.NewlyRejectedBy[0].Field)
}

// TestShadowStartAndStopFromTheUI: the subject page's shadow control moves
// a registered version into shadow and back, each change audited as the
// state API's are (schema.state, with the state it left); a change that
// does not start from the state it needs is refused with the reason, and
// changes nothing.
func TestShadowStartAndStopFromTheUI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gw, _, cl := startSubject(t, "orders", config.SchemaTypeJSON, ordersV1)
	_, err := cl.CreateSchema(ctx, "orders", sr.Schema{Type: sr.TypeJSON, Schema: ordersV2})
	require.NoError(t, err)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	set := func(version int, on string) (int, string, string) {
		t.Helper()
		resp, err := noRedirect.PostForm(fmt.Sprintf("%s/schemas/orders/versions/%d/shadow", gw.base, version), url.Values{"on": {on}})
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	// state is v2's, as the shadow report lists it.
	state := func() string {
		t.Helper()
		var rep struct {
			Versions []struct {
				Version int `json:"version"`
			} `json:"versions"`
			Registered []int `json:"registered_versions"`
		}
		require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/schemas/orders/shadow", &rep))
		switch {
		case len(rep.Versions) == 1 && rep.Versions[0].Version == 2 && len(rep.Registered) == 0:
			return "shadow"
		case len(rep.Versions) == 0 && slices.Equal(rep.Registered, []int{2}):
			return "registered"
		}
		return fmt.Sprintf("%+v", rep)
	}
	type change struct{ From, To string }
	changes := func() []change {
		t.Helper()
		var events struct {
			Events []struct {
				Target  string            `json:"target"`
				Details map[string]string `json:"details"`
			} `json:"events"`
		}
		require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/audit?action=schema.state", &events))
		var out []change
		for _, e := range slices.Backward(events.Events) { // newest first
			require.Equal(t, "schema/orders/2", e.Target)
			out = append(out, change{e.Details["from"], e.Details["to"]})
		}
		return out
	}

	status, to, _ := set(2, "1")
	require.Equal(t, [2]any{http.StatusSeeOther, "/schemas/orders"}, [2]any{status, to})
	require.Equal(t, "shadow", state())
	status, _, body := set(2, "1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Not changed: wrong rollout state: version 2 of orders is shadow, not registered.")

	status, to, _ = set(2, "0")
	require.Equal(t, [2]any{http.StatusSeeOther, "/schemas/orders"}, [2]any{status, to})
	require.Equal(t, "registered", state())
	status, _, body = set(2, "0")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Not changed: wrong rollout state: version 2 of orders is registered, not shadow.")
	status, _, body = set(9, "1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Not changed: not found: version not found: 9.")

	require.Equal(t, []change{{"registered", "shadow"}, {"shadow", "registered"}}, changes(), "each change audited once, the refusals not at all")
}

// startSubject starts a gateway whose raw-events topic is bound to
// subject, version 1 of it (typ, text) from the config, with the subject's
// compatibility checks off so that a test registers any version 2; it
// returns the gateway, its config and a Confluent registry client.
func startSubject(t *testing.T, subject, typ, text string) (*running, config.Config, *sr.Client) {
	t.Helper()
	cfg := config.Default()
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: subject}}
	cfg.Schemas = []config.Schema{{Subject: subject, Type: typ, Version: 1, Schema: text}}
	gw := startWith(t, cfg)
	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	for _, res := range cl.SetCompatibility(context.Background(), sr.SetCompatibility{Level: sr.CompatNone}, subject) {
		require.NoError(t, res.Err)
	}
	return gw, cfg, cl
}
