package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// DNS rebinding: a web page on attacker.example, whose name the attacker
// then points at 127.0.0.1, is on the same origin as the gateway in the
// browser's eyes, so neither the same-origin policy nor the CSRF rule
// (Origin and Sec-Fetch-Site both look like the gateway's own pages) stops
// it. What gives it away is the Host header: the attacker's name. So the
// gateway answers only to the names it is known by: loopback names and
// addresses, and the AllowedHosts of the operator.
//
// With auth on, the check runs only when AllowedHosts is set: tokens do the
// protecting there (a rebinding page has no token, and the browser keeps
// the session cookie for the gateway's own name), while reverse proxies and
// Schema Registry clients reach the gateway under names and addresses
// nobody listed. /healthz and /readyz are never checked: probes address
// the pod by its IP, and the answers tell a page nothing.

// hostPolicy decides which Host headers are answered.
type hostPolicy struct {
	check   bool            // false: every Host is answered
	names   map[string]bool // exact names and addresses, canonical form
	domains []string        // ".example.com": the domain and its subdomains
	nets    []netip.Prefix
}

// newHostPolicy reads the AllowedHosts patterns: a name ("gateway.example"),
// an IP address, ".example.com" (the domain and every name under it), a
// CIDR prefix ("10.0.0.0/8"), or "*" (any Host: no check). config.Validate
// checks their shape; here a pattern is only classified, so one that is
// no valid name simply matches nothing.
func newHostPolicy(patterns []string, authOn bool) (hostPolicy, error) {
	p := hostPolicy{check: !authOn || len(patterns) > 0, names: map[string]bool{}}
	for _, raw := range patterns {
		s := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case s == "*":
			if !authOn {
				return hostPolicy{}, errors.New(`auth: allowed host "*" with auth off would let any web page drive the gateway (DNS rebinding)`)
			}
			p.check = false
		case strings.Contains(s, "/"):
			pre, err := netip.ParsePrefix(s)
			if err != nil {
				return hostPolicy{}, fmt.Errorf("auth: allowed host %q: not a CIDR prefix: %w", raw, err)
			}
			p.nets = append(p.nets, pre.Masked())
		case strings.HasPrefix(s, ".") && len(s) > 1:
			p.domains = append(p.domains, strings.TrimSuffix(s, "."))
		case s != "":
			p.names[canonicalHost(s)] = true
		}
	}
	return p, nil
}

// canonicalHost returns host (a Host header's host part, or a pattern)
// lower-cased, without brackets or a trailing dot, IP addresses in their
// canonical form ("::ffff:127.0.0.1" is "127.0.0.1").
func canonicalHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// allows reports whether a request with Host header hostHeader is answered.
func (p hostPolicy) allows(hostHeader string) bool {
	if !p.check {
		return true
	}
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = canonicalHost(host)
	if host == "" {
		return false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.IsLoopback() {
			return true
		}
		for _, n := range p.nets {
			if n.Contains(a) {
				return true
			}
		}
		return p.names[host]
	}
	if host == "localhost" || p.names[host] {
		return true
	}
	for _, d := range p.domains {
		if host == d[1:] || strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// hostExempt reports whether path is answered whatever the Host: the
// probes' endpoints.
func hostExempt(path string) bool { return path == "/healthz" || path == "/readyz" }

// maxShownHost bounds how much of a refused Host header the error repeats.
const maxShownHost = 256

func refuseHost(w http.ResponseWriter, r *http.Request) {
	shown := r.Host
	if len(shown) > maxShownHost {
		shown = shown[:maxShownHost] + "..."
	}
	writeError(w, http.StatusForbidden, "host_not_allowed", fmt.Sprintf(
		"this gateway does not answer to the host name %q: it answers to localhost, loopback addresses and the names in http.allowed_hosts "+
			"(a web page reaching it under another name, as DNS rebinding does, is refused); add the name to http.allowed_hosts if clients use it", shown))
}
