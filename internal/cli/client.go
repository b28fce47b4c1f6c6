package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// apiError is a non-2xx answer from a running gateway, with the message of
// either error shape it uses: {"error": {"code", "message"}} (/api/v1) or
// Confluent's {"error_code", "message"} (/registry).
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

// call sends a JSON request to a running gateway and decodes the JSON answer
// into out (when not nil).
func call(ctx context.Context, server, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(server, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the gateway at %s: %w", server, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
			Error   struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e) // the status says what went wrong if the body does not
		msg := e.Message + e.Error.Message
		if msg == "" {
			msg = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(raw))
		}
		return &apiError{status: resp.StatusCode, message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unexpected answer from %s: %w", path, err)
	}
	return nil
}
