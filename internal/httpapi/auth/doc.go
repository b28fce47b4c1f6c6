// Package auth owns who may use the gateway's HTTP surface: API tokens with
// roles (viewer, operator, admin), the browser session cookie set by
// POST /login, the same-origin rule for cookie-authenticated changes (CSRF),
// the host names the gateway answers to (DNS rebinding: host.go), the limit
// on failed authentications (limit.go), the role each route requires, and
// the audit record of every change that succeeds. It wraps the whole HTTP root and puts the caller's
// httpapi.Principal in the request context.
//
// It lives under httpapi because everything it decides is about HTTP
// requests (headers, cookies, redirects, status codes); the token list
// itself is configuration (config.Auth).
package auth
