package audit

import "time"

// Outcomes of an audited action.
const (
	// OutcomeOK is an action that did what was asked.
	OutcomeOK = "ok"
	// OutcomeDenied is an action the permission policy refused
	// (FORBIDDEN). Requests refused for a bad token never reach the API.
	OutcomeDenied = "denied"
	// OutcomeError is an action that was allowed but failed.
	OutcomeError = "error"
)

// Event is one audited action.
type Event struct {
	// ID is a version 7 UUID, so that IDs sort by the time they were made;
	// the store makes one when it is empty.
	ID string
	// At is when the action happened, in UTC; the store uses the time of
	// recording when it is zero.
	At time.Time
	// Actor is the canonical ref of the principal, "" for an anonymous caller.
	Actor string
	// ActorKind is the principal's kind: user, service or anonymous, or cli
	// for a greenroom command run on the database (Actor "cli:<OS user>").
	ActorKind string
	// Action names what was attempted, such as the mutation "deleteEntity".
	Action string
	// Target is the entity ref or location ID acted on; "" when there is none.
	Target string
	// Arguments are the action's arguments as decoded from the request, with
	// secrets replaced and documents kept as their [Digest] (see [Redact]). Numbers read back as float64, as
	// encoding/json decodes them.
	Arguments map[string]any
	// Outcome is one of [OutcomeOK], [OutcomeDenied] and [OutcomeError].
	Outcome string
	// ErrorCode and ErrorMessage are the portal error code and the message
	// shown to the caller, when the action failed.
	ErrorCode    string
	ErrorMessage string
	// RequestID ties the event to the request's access-log line.
	RequestID string
}

// Filter selects audit events. Each non-empty list matches any of its
// values exactly; conditions combine with AND. The zero Filter selects
// every event.
type Filter struct {
	Actors   []string
	Actions  []string
	Outcomes []string
	Targets  []string
	// Since selects events at or after a time, Until events before it, so
	// that consecutive windows neither overlap nor leave gaps.
	Since, Until *time.Time
}
