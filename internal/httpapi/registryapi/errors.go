package registryapi

import (
	"errors"
	"net/http"

	"github.com/dataquarantine/dataquarantine/internal/registry"
)

// Confluent's error codes. The HTTP status is the code's first three
// digits (409 is its own).
const (
	codeSubjectNotFound          = 40401
	codeVersionNotFound          = 40402
	codeSchemaNotFound           = 40403
	codeSubjectSoftDeleted       = 40404
	codeSubjectNotSoftDeleted    = 40405
	codeVersionSoftDeleted       = 40406
	codeVersionNotSoftDeleted    = 40407
	codeSubjectLevelCompatNotSet = 40408
	codeSubjectLevelModeNotSet   = 40409
	codeIncompatible             = 409
	codeInvalidSchema            = 42201
	codeInvalidVersion           = 42202
	codeInvalidCompatibility     = 42203
	codeInvalidMode              = 42204
	codeOperationNotPermitted    = 42205
	codeInvalidRuleSet           = 42210
	codeNotFound                 = 404
	codeMethodNotAllowed         = 405
	codeUnsupportedMediaType     = 415
	codeStoreError               = 50001
)

// errorBody is Confluent's error shape.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

var codes = []struct {
	err  error
	code int
}{
	{registry.ErrSubjectNotFound, codeSubjectNotFound},
	{registry.ErrVersionNotFound, codeVersionNotFound},
	{registry.ErrSchemaNotFound, codeSchemaNotFound},
	{registry.ErrSubjectSoftDeleted, codeSubjectSoftDeleted},
	{registry.ErrSubjectNotSoftDeleted, codeSubjectNotSoftDeleted},
	{registry.ErrVersionSoftDeleted, codeVersionSoftDeleted},
	{registry.ErrVersionNotSoftDeleted, codeVersionNotSoftDeleted},
	{registry.ErrIncompatible, codeIncompatible},
	{registry.ErrInvalidRuleSet, codeInvalidRuleSet},
	{registry.ErrInvalidSchema, codeInvalidSchema},
	{registry.ErrInvalidLabel, codeInvalidSchema},
	{registry.ErrInvalidVersion, codeInvalidVersion},
	{registry.ErrInvalidCompatibility, codeInvalidCompatibility},
	{registry.ErrInvalidMode, codeInvalidMode},
	{registry.ErrInvalidState, codeInvalidVersion},
	{registry.ErrOperationNotPermitted, codeOperationNotPermitted},
}

// codeFor maps err to Confluent's code; anything unknown is a store error.
func codeFor(err error) int {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return codeStoreError
}

func status(code int) int {
	if code < 1000 {
		return code
	}
	return code / 100
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := codeFor(err)
	msg := err.Error()
	if code == codeStoreError {
		h.log.ErrorContext(r.Context(), "registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "Error in the backend data store"
	}
	h.failCode(w, code, msg)
}

func (h *Handler) failCode(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, status(code), errorBody{ErrorCode: code, Message: msg})
}
