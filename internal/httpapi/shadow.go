package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// codePromotionRefused answers a promotion the guard refused.
const codePromotionRefused = "promotion_refused"

const shadowDisabled = "shadow evaluation is not available on this gateway"

// countsJSON is shadow.Counts in responses.
type countsJSON struct {
	Seen               int64            `json:"seen"`
	AgreePass          int64            `json:"agree_pass"`
	AgreeFail          int64            `json:"agree_fail"`
	NewlyRejected      int64            `json:"newly_rejected"`
	NewlyAccepted      int64            `json:"newly_accepted"`
	NewlyRejectedShare float64          `json:"newly_rejected_share"`
	NewlyAcceptedShare float64          `json:"newly_accepted_share"`
	NewlyRejectedBy    []errorCountJSON `json:"newly_rejected_by"`
}

type errorCountJSON struct {
	ErrorType record.ErrorType `json:"error_type"`
	Field     string           `json:"field"`
	Records   int64            `json:"records"`
}

func newCountsJSON(c shadow.Counts) countsJSON {
	out := countsJSON{
		Seen: c.Seen(), AgreePass: c.AgreePass, AgreeFail: c.AgreeFail,
		NewlyRejected: c.NewlyRejected, NewlyAccepted: c.NewlyAccepted,
		NewlyRejectedShare: c.NewlyRejectedShare(), NewlyAcceptedShare: c.NewlyAcceptedShare(),
		NewlyRejectedBy: make([]errorCountJSON, len(c.NewlyRejectedBy)),
	}
	for i, e := range c.NewlyRejectedBy {
		out.NewlyRejectedBy[i] = errorCountJSON{ErrorType: e.Type, Field: e.Field, Records: e.Records}
	}
	return out
}

// sampleJSON is one sampled record in responses.
type sampleJSON struct {
	ID        string  `json:"id"`
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Timestamp *string `json:"timestamp"`
	// EvaluatedAt is when the verdicts were counted.
	EvaluatedAt *string `json:"evaluated_at"`
	// Stored: the record has a row; GET /api/v1/quarantine/{id} shows it.
	Stored          bool               `json:"stored"`
	Key             *string            `json:"key"`
	KeyEncoding     *string            `json:"key_encoding"`
	Value           *string            `json:"value"`
	ValueEncoding   *string            `json:"value_encoding"`
	ValueSize       int                `json:"value_size"`
	ValueTruncated  bool               `json:"value_truncated"`
	EnforcedErrors  []record.Violation `json:"enforced_errors"`
	CandidateErrors []record.Violation `json:"candidate_errors"`
}

func newSampleJSON(s shadow.Sample) sampleJSON {
	out := sampleJSON{
		ID: s.ID, Topic: s.Topic, Partition: s.Partition, Offset: s.Offset,
		Timestamp: formatTime(s.Timestamp), EvaluatedAt: formatTime(s.At), Stored: s.Stored,
		ValueSize: s.ValueSize, ValueTruncated: len(s.Value) < s.ValueSize,
		EnforcedErrors: s.Enforced, CandidateErrors: s.Candidate,
	}
	out.Key, out.KeyEncoding = encodeBytes(s.Key)
	out.Value, out.ValueEncoding = encodeBytes(s.Value)
	if out.EnforcedErrors == nil {
		out.EnforcedErrors = []record.Violation{}
	}
	if out.CandidateErrors == nil {
		out.CandidateErrors = []record.Violation{}
	}
	return out
}

type shadowVersionJSON struct {
	Version int     `json:"version"`
	Since   *string `json:"since"`
	// Recent covers the report's window, Total everything since Since.
	Recent  countsJSON              `json:"recent"`
	Total   countsJSON              `json:"total"`
	Samples map[string][]sampleJSON `json:"samples"`
}

type shadowJSON struct {
	Subject            string              `json:"subject"`
	EnforcedVersion    int                 `json:"enforced_version"`
	Sample             float64             `json:"sample"`
	Window             string              `json:"window"`
	WindowSeconds      int64               `json:"window_seconds"`
	Versions           []shadowVersionJSON `json:"versions"`
	RegisteredVersions []int               `json:"registered_versions"`
}

// parseWindow reads a window parameter: a Go duration from 1m to
// shadow.MaxWindow, whole minutes; "" is shadow.MaxWindow.
func parseWindow(s string) (time.Duration, string) {
	if s == "" {
		return shadow.MaxWindow, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > shadow.MaxWindow || d%time.Minute != 0 {
		return 0, fmt.Sprintf("invalid window %q: want whole minutes from 1m to %s, such as 15m or 1h", s, formatWindow(shadow.MaxWindow))
	}
	return d, ""
}

// formatWindow writes a window as parseWindow reads it: "1h", "15m".
func formatWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}

func (a *api) getShadow(w http.ResponseWriter, r *http.Request) {
	if a.shadow == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, shadowDisabled)
		return
	}
	window, msg := parseWindow(r.URL.Query().Get("window"))
	if msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	rep, err := a.shadow.ShadowReport(r.Context(), r.PathValue("subject"), window)
	if errors.Is(err, shadow.ErrNotFound) {
		WriteError(w, http.StatusNotFound, codeNotFound, err.Error())
		return
	}
	if err != nil {
		a.internalError(w, r, "reading the shadow report", err)
		return
	}
	out := shadowJSON{
		Subject: rep.Subject, EnforcedVersion: rep.Enforced, Sample: rep.Sample,
		Window: formatWindow(rep.Window), WindowSeconds: int64(rep.Window / time.Second),
		Versions: make([]shadowVersionJSON, 0, len(rep.Versions)), RegisteredVersions: rep.Registered,
	}
	if out.RegisteredVersions == nil {
		out.RegisteredVersions = []int{}
	}
	for _, v := range rep.Versions {
		vj := shadowVersionJSON{
			Version: v.Version, Since: formatTime(v.Since),
			Recent: newCountsJSON(v.Recent), Total: newCountsJSON(v.Total),
			Samples: make(map[string][]sampleJSON, len(shadow.Outcomes)),
		}
		for _, o := range shadow.Outcomes {
			ss := make([]sampleJSON, 0, len(v.Samples[o]))
			for _, s := range v.Samples[o] {
				ss = append(ss, newSampleJSON(s))
			}
			vj.Samples[string(o)] = ss
		}
		out.Versions = append(out.Versions, vj)
	}
	WriteJSON(w, http.StatusOK, out)
}

type promoteBody struct {
	// MaxNewlyRejected is the largest share (0 to 1) of evaluated records
	// the version may newly reject; absent is 0.
	MaxNewlyRejected *float64 `json:"max_newly_rejected"`
	// Window is how far back the records count; absent is 1h.
	Window string `json:"window"`
}

// promotionJSON is the figures a promotion was judged on.
type promotionJSON struct {
	Subject            string  `json:"subject"`
	Version            int     `json:"version"`
	State              string  `json:"state,omitempty"`
	Window             string  `json:"window"`
	Seen               int64   `json:"seen"`
	NewlyRejected      int64   `json:"newly_rejected"`
	NewlyRejectedShare float64 `json:"newly_rejected_share"`
	MaxNewlyRejected   float64 `json:"max_newly_rejected"`
}

func (a *api) promote(w http.ResponseWriter, r *http.Request) {
	if a.shadow == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, shadowDisabled)
		return
	}
	version, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || version < 1 {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter,
			fmt.Sprintf("invalid version %q: want a version number (1, 2, ...)", r.PathValue("version")))
		return
	}
	var body promoteBody
	if !decodeBody(w, r, &body) {
		return
	}
	g := shadow.Guard{}
	if body.MaxNewlyRejected != nil {
		g.MaxNewlyRejected = *body.MaxNewlyRejected
	}
	var msg string
	if g.Window, msg = parseWindow(body.Window); msg != "" {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, msg)
		return
	}
	if err := g.Validate(); err != nil {
		WriteError(w, http.StatusBadRequest, codeInvalidParameter, "invalid max_newly_rejected: "+err.Error())
		return
	}
	subject := r.PathValue("subject")
	rep, err := a.shadow.Promote(r.Context(), subject, version, g)
	figures := promotionJSON{
		Subject: subject, Version: version, Window: formatWindow(g.Window),
		Seen: rep.Recent.Seen(), NewlyRejected: rep.Recent.NewlyRejected,
		NewlyRejectedShare: rep.Recent.NewlyRejectedShare(), MaxNewlyRejected: g.MaxNewlyRejected,
	}
	var refused *shadow.RefusedError
	switch {
	case err == nil:
		figures.State = "enforced"
		WriteJSON(w, http.StatusOK, figures)
	case errors.As(err, &refused):
		WriteJSON(w, http.StatusConflict, struct {
			errorBody
			Figures promotionJSON `json:"figures"`
		}{errorBody{errorDetail{Code: codePromotionRefused, Message: err.Error()}}, figures})
	case errors.Is(err, shadow.ErrWrongState):
		WriteError(w, http.StatusConflict, codeConflict, err.Error())
	case errors.Is(err, shadow.ErrNotFound):
		WriteError(w, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, shadow.ErrNotPermitted):
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	default:
		a.internalError(w, r, "promoting a schema version", err)
	}
}
