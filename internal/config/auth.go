package config

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxTokenFileBytes bounds a token file: a larger one is not a token.
const maxTokenFileBytes = 4096

// TokenValue returns the secret of HTTP.Auth.Tokens[i]: its token, or the
// content of its token_file with surrounding white space removed. Errors
// never contain the secret.
func (c *Config) TokenValue(i int) (string, error) {
	if i < 0 || i >= len(c.HTTP.Auth.Tokens) {
		return "", fmt.Errorf("token index %d out of range (%d tokens configured)", i, len(c.HTTP.Auth.Tokens))
	}
	t := c.HTTP.Auth.Tokens[i]
	switch {
	case t.Token != "" && t.TokenFile != "":
		return "", errors.New("set either token or token_file, not both")
	case t.Token != "":
		return string(t.Token), nil
	case t.TokenFile != "":
		return readTokenFile(c.relPath(t.TokenFile))
	default:
		return "", errors.New("set one of token or token_file")
	}
}

// relPath resolves a path from the config file against the file's directory.
func (c *Config) relPath(file string) string {
	if filepath.IsAbs(file) || c.dir == "" {
		return file
	}
	return filepath.Join(c.dir, file)
}

func readTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errNotExist(err) {
			return "", fmt.Errorf("%s does not exist", path)
		}
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // read-only
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxTokenFileBytes {
		return "", fmt.Errorf("%s is larger than %d bytes: not a token", path, maxTokenFileBytes)
	}
	return string(bytes.TrimSpace(data)), nil
}

// AuthEnabled reports whether any API token is configured.
func (c *Config) AuthEnabled() bool { return len(c.HTTP.Auth.Tokens) > 0 }

func (c *Config) validateAuth(p *problems) {
	names := make(map[string]int, len(c.HTTP.Auth.Tokens))
	var values []string
	var valueKeys []string
	for i, t := range c.HTTP.Auth.Tokens {
		key := fmt.Sprintf("http.auth.tokens[%d]", i)
		if p.nonEmpty(key+".name", t.Name) {
			if j, dup := names[t.Name]; dup {
				p.add(key+".name", "%s is already the name of http.auth.tokens[%d]", quoteValue(t.Name), j)
			} else {
				names[t.Name] = i
			}
		}
		if !slices.Contains(Roles, t.Role) {
			p.add(key+".role", "unknown role %s (want %s)", quoteValue(t.Role), strings.Join(Roles, ", "))
		}
		if t.TokenFile != "" && t.Token == "" {
			key += ".token_file"
		} else {
			key += ".token"
		}
		v, err := c.TokenValue(i)
		switch {
		case err != nil:
			p.add(key, "%v", err)
		case len(v) < MinTokenLen:
			p.add(key, "too short: a token must be at least %d characters (got %d); generate one with: openssl rand -hex 32", MinTokenLen, len(v))
		case strings.ContainsAny(v, " \t\r\n,"):
			p.add(key, "must not contain white space or commas")
		default:
			for j, other := range values {
				if subtle.ConstantTimeCompare([]byte(v), []byte(other)) == 1 {
					p.add(key, "the same token as %s: each holder needs its own", valueKeys[j])
					break
				}
			}
			values = append(values, v)
			valueKeys = append(valueKeys, key)
		}
	}
	c.validateAllowedHosts(p)
	if len(c.HTTP.Auth.Tokens) == 0 && !IsLoopbackListen(c.HTTP.Listen) {
		p.add("http.listen", "%s is reachable from other machines, and http.auth.tokens is empty (auth off): "+
			"anyone who can reach it could read quarantined data and change schemas. Configure at least one API token "+
			"(http.auth.tokens, or DQ_HTTP_AUTH_TOKENS='[{name: admin, role: admin, token_file: /run/secrets/dq-admin-token}]'; "+
			"see docs/operations.md, \"Securing the gateway\"), or listen on a loopback address such as 127.0.0.1:8080",
			quoteValue(c.HTTP.Listen))
	}
}

// validateAllowedHosts checks the shape of http.allowed_hosts entries; the
// HTTP server's auth middleware matches them (internal/httpapi/auth).
func (c *Config) validateAllowedHosts(p *problems) {
	for i, h := range c.HTTP.AllowedHosts {
		key := fmt.Sprintf("http.allowed_hosts[%d]", i)
		s := strings.TrimSpace(h)
		switch {
		case s == "*":
			if !c.AuthEnabled() {
				p.add(key, "\"*\" answers requests under any host name, which with auth off (no http.auth.tokens) lets any web page "+
					"drive the gateway through DNS rebinding: list the names clients use, or configure API tokens")
			}
		case strings.Contains(s, "/") && !strings.Contains(s, "://"):
			if _, err := netip.ParsePrefix(s); err != nil {
				p.add(key, "%s is not a CIDR prefix such as 10.0.0.0/8", quoteValue(h))
			}
		case allowedHostName(strings.TrimPrefix(s, ".")):
		default:
			p.add(key, "%s is not a host name, IP address, .domain, CIDR prefix or *; give names without a scheme or port "+
				"(gateway.example.com, not http://gateway.example.com:8080): every port is allowed", quoteValue(h))
		}
	}
}

// allowedHostName reports whether s is an IP address or a DNS name, without
// a port.
func allowedHostName(s string) bool {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range strings.ToLower(strings.TrimSuffix(s, ".")) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// IsLoopbackListen reports whether a listen address accepts connections
// only from this machine: a loopback IP (127.0.0.0/8, ::1) or "localhost".
// An empty host (all interfaces), any other IP and any other host name are
// not. A malformed address is reported as loopback: http.listen's own
// check names that mistake.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}
