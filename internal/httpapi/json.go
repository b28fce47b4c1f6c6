package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
)

// Error codes, the "code" of every error response.
const (
	codeInvalidParameter = "invalid_parameter"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeInternal         = "internal"
)

// Encodings of byte strings (keys, payloads, header values) in responses.
const (
	encodingUTF8   = "utf-8"
	encodingBase64 = "base64"
)

// timeFormat is RFC 3339 with all nine fractional digits, always UTC: times
// sort as strings, and a client can send one back as since or until.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers with the gateway's error shape,
// {"error": {"code", "message"}}: the REST API's, and that of the other
// JSON the gateway serves beside it (the rollout-state extension of the
// registry API, the dashboard's history).
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, errorBody{errorDetail{Code: code, Message: message}})
}

// WriteJSON writes v as the response, the one JSON writer of the gateway's
// own API and of the UI's JSON. Encoding happens before the status is
// sent, so a value that fails to encode still gets a proper 500.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal server error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// encodeBytes renders b for JSON: nil stays null, valid UTF-8 is a string,
// anything else is standard base64. The encoding is returned alongside.
func encodeBytes(b []byte) (value, encoding *string) {
	if b == nil {
		return nil, nil
	}
	s, enc := string(b), encodingUTF8
	if !utf8.Valid(b) {
		s, enc = base64.StdEncoding.EncodeToString(b), encodingBase64
	}
	return &s, &enc
}

// formatTime renders t in timeFormat, or null for the zero time.
func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeFormat)
	return &s
}
