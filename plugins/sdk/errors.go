package sdk

import "github.com/greenroomhq/greenroom/internal/portal"

// The codes of the errors a plugin answers with, in extensions.code, as
// the core's (README, Errors).
const (
	CodeInvalid         = portal.EINVALID
	CodeNotFound        = portal.ENOTFOUND
	CodeForbidden       = portal.EFORBIDDEN
	CodeUnauthenticated = portal.EUNAUTHENTICATED
	CodeConflict        = portal.ECONFLICT
	CodeUnavailable     = portal.EUNAVAILABLE
)

// Errorf returns an error the API shows as it is, with its code in
// extensions.code. An error made otherwise is logged and shown to the
// caller as "internal error" (code INTERNAL): its text may hold anything.
func Errorf(code, format string, args ...any) error { return portal.Errorf(code, format, args...) }

// ErrorCode returns the code of an error made by [Errorf] or answered by
// the core ([Core.Query]): INTERNAL for any other error, "" for nil.
func ErrorCode(err error) string { return portal.ErrorCode(err) }
