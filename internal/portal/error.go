package portal

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to one GraphQL extensions.code at the API edge.
const (
	ECONFLICT        = "CONFLICT"
	EFORBIDDEN       = "FORBIDDEN"
	EINTERNAL        = "INTERNAL"
	EINVALID         = "INVALID"
	ENOTFOUND        = "NOT_FOUND"
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	// ETIMEOUT is a request that ran out of time: unlike EINVALID, the
	// same request may succeed when the server is less busy.
	ETIMEOUT = "TIMEOUT"
	// EUNAVAILABLE is a request the server is too busy to take now; it
	// may succeed a moment later.
	EUNAVAILABLE = "UNAVAILABLE"
	// EEXPIRED is a position or cursor older than what is kept, such as a
	// change feed position its retention has pruned: asking again will not
	// help; the caller must start over (read the current state, then
	// follow from the current position).
	EEXPIRED = "EXPIRED"
)

// httpStatuses are the HTTP statuses of the codes, for the endpoints that
// answer in HTTP rather than GraphQL (REST, webhooks).
var httpStatuses = map[string]int{
	EINVALID:         http.StatusBadRequest,
	EUNAUTHENTICATED: http.StatusUnauthorized,
	EFORBIDDEN:       http.StatusForbidden,
	ENOTFOUND:        http.StatusNotFound,
	ECONFLICT:        http.StatusConflict,
	EEXPIRED:         http.StatusGone,
	ETIMEOUT:         http.StatusServiceUnavailable,
	EUNAVAILABLE:     http.StatusServiceUnavailable,
}

// HTTPStatus returns the HTTP status of an error code: 500 for EINTERNAL
// and any code it does not know.
func HTTPStatus(code string) int {
	if s, ok := httpStatuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a domain error whose Message is safe to show to end users.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns an [Error] with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first [Error] in err's chain, or
// [EINTERNAL] for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err: the message of an
// [Error], or "internal error" for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
