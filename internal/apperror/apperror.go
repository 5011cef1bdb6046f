// Package apperror is Recondesk's one error type: a code that decides the
// HTTP status, a message safe to show, and optional field messages.
package apperror

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an error for callers and for HTTP.
type Code string

// The codes, each mapped to one HTTP status in Status.
const (
	Invalid         Code = "invalid"         // bad input: 400
	Unauthenticated Code = "unauthenticated" // 401
	Forbidden       Code = "forbidden"       // 403
	NotFound        Code = "not_found"       // 404
	Conflict        Code = "conflict"        // 409
	TooLarge        Code = "too_large"       // 413
	Rule            Code = "rule"            // a domain rule refused it: 422
	TooMany         Code = "too_many"        // throttled: 429
	Unavailable     Code = "unavailable"     // a dependency is down: 503
	Internal        Code = "internal"        // anything else: 500
)

var statuses = map[Code]int{
	Invalid:         http.StatusBadRequest,
	Unauthenticated: http.StatusUnauthorized,
	Forbidden:       http.StatusForbidden,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	TooLarge:        http.StatusRequestEntityTooLarge,
	Rule:            http.StatusUnprocessableEntity,
	TooMany:         http.StatusTooManyRequests,
	Unavailable:     http.StatusServiceUnavailable,
	Internal:        http.StatusInternalServerError,
}

// Error is an error with a code and a message meant for the user.
type Error struct {
	Code    Code
	Message string
	// Fields holds per-field messages for forms (field name → message).
	Fields map[string]string
	// Err is the underlying cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with a cause that is logged but not shown.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// FieldErrors returns an Invalid error carrying per-field messages.
func FieldErrors(fields map[string]string) *Error {
	return &Error{Code: Invalid, Message: "Please correct the highlighted fields.", Fields: fields}
}

// CodeOf returns err's code, or Internal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the message to show for err; internal errors get a
// generic text.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Something went wrong on our side. It has been logged; please try again, and tell an administrator if it persists."
}

// Status maps an error to its HTTP status.
func Status(err error) int {
	return statuses[CodeOf(err)]
}
