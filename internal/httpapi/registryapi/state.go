package registryapi

import (
	"errors"
	"net/http"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
)

// StatePattern is the route of the rollout-state extension, in the
// gateway's own API (/api/v1), not in the Confluent-compatible one.
const StatePattern = "PUT /api/v1/schemas/{subject}/versions/{version}/state"

// StateHandler serves StatePattern: {"state": "enforced"} moves a version
// to that rollout state. Errors use the gateway API's shape,
// {"error": {"code", "message"}}. Each change is logged and audited with
// the state it left.
func (h *Handler) StateHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(StatePattern, h.putState)
	return mux
}

type stateBody struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	State   string `json:"state"`
}

// putState answers as the gateway's API does (httpapi.WriteJSON, its
// media type and error shape), not with this package's writeJSON: the
// route is the gateway's, and Confluent's media type and error shape are
// for the Confluent-compatible routes only.
func (h *Handler) putState(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) { httpapi.WriteError(w, status, code, msg) }
	var req stateBody
	if err := decode(r, &req); err != nil {
		fail(http.StatusBadRequest, "invalid_parameter", err.Error())
		return
	}
	version, err := parseVersion(r.PathValue("version"))
	if err != nil {
		fail(http.StatusBadRequest, "invalid_parameter", err.Error())
		return
	}
	subject := r.PathValue("subject")
	v, err := h.SetState(r.Context(), subject, version, registry.State(req.State))
	if err == nil {
		httpapi.WriteJSON(w, http.StatusOK, stateBody{Subject: v.Subject, Version: v.Version, State: string(v.State)})
		return
	}
	switch {
	case errors.Is(err, registry.ErrSubjectNotFound), errors.Is(err, registry.ErrVersionNotFound):
		fail(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, registry.ErrInvalidState), errors.Is(err, registry.ErrInvalidVersion):
		fail(http.StatusBadRequest, "invalid_parameter", err.Error())
	case errors.Is(err, registry.ErrOperationNotPermitted):
		fail(http.StatusForbidden, "forbidden", err.Error())
	default:
		h.log.ErrorContext(r.Context(), "setting rollout state", "subject", subject, "err", err)
		fail(http.StatusInternalServerError, "internal", "internal server error")
	}
}
