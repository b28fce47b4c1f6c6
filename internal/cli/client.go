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

// tokenEnv and serverEnv are the variables the client commands read their
// API token and the gateway's URL from when --token and --server are not
// given.
const (
	tokenEnv  = "DQ_TOKEN"
	serverEnv = "DQ_SERVER"
)

// envValue returns the value of the last name=value of environ, or "".
func envValue(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if s, ok := strings.CutPrefix(kv, name+"="); ok {
			v = s
		}
	}
	return v
}

// gateway is how a client command reaches a running gateway: its URL and
// the API token to send (empty: none, for a gateway with auth off).
type gateway struct {
	server, token *string
}

// gatewayFlags adds --server and --token to a client command.
func gatewayFlags(fs *flagSet) gateway {
	return gateway{
		server: serverFlag(fs),
		token:  fs.String("token", envValue(fs.env.Environ, tokenEnv), "the API `token` to send; needed when the gateway has http.auth.tokens (default $"+tokenEnv+", which keeps it out of the process list)"),
	}
}

// call sends a JSON request to the gateway and decodes the JSON answer into
// out (when not nil).
func (g gateway) call(ctx context.Context, method, path string, body, out any) error {
	token := ""
	if g.token != nil {
		token = *g.token
	}
	return call(ctx, *g.server, token, method, path, body, out)
}

// call sends a JSON request to a running gateway and decodes the JSON answer
// into out (when not nil).
func call(ctx context.Context, server, token, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := send(ctx, server, token, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unexpected answer from %s: %w", path, err)
	}
	return nil
}

// send sends a request (body, when not nil, as JSON) to a running gateway
// and returns its 2xx answer with the body unread, for the caller to read
// and close; any other answer is an *apiError.
func send(ctx context.Context, server, token, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(server, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		ct := "application/json"
		if strings.HasPrefix(path, "/registry/") {
			ct = "application/vnd.schemaregistry.v1+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the gateway at %s: %w", server, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
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
	if resp.StatusCode == http.StatusUnauthorized && token == "" {
		msg += " (the gateway requires an API token: pass --token or set " + tokenEnv + ")"
	}
	return nil, &apiError{status: resp.StatusCode, message: msg}
}
