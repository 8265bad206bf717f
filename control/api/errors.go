package api

import (
	"errors"
	"fmt"
	"net/http"

	"tenbin/control/config"
	"tenbin/control/daemon"
)

// Error codes in Error.Code.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidConfig    = "invalid_config"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotApplied       = "not_applied"
	CodeInternal         = "internal"
)

// Error is the body of every failed request, and what the client returns for one.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"` // one line per problem (file:line:col: ...)
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	msg := e.Message
	for _, d := range e.Details {
		msg += "\n" + d
	}
	return msg
}

// errorBody wraps Error so the JSON is {"error": {...}}: a client can tell an error from
// a result by its one key.
type errorBody struct {
	Error *Error `json:"error"`
}

// errorFor maps an engine error to its HTTP form.
func errorFor(err error) *Error {
	var cerrs config.Errors
	switch {
	case errors.As(err, &cerrs):
		e := &Error{Status: http.StatusBadRequest, Code: CodeInvalidConfig,
			Message: fmt.Sprintf("invalid configuration: %d problem(s), nothing applied", len(cerrs))}
		for _, ce := range cerrs {
			e.Details = append(e.Details, ce.Error())
		}
		return e
	case errors.Is(err, daemon.ErrNoService), errors.Is(err, daemon.ErrNoBackend):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, daemon.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeInternal, Message: err.Error()}
	}
	return &Error{Status: http.StatusConflict, Code: CodeNotApplied, Message: err.Error()}
}
