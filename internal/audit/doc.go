// Package audit defines the audit log's vocabulary: an [Event] records one
// attempt to change the portal (who, what, on what, with which arguments,
// and how it ended), and a [Filter] selects events to list. Storage lives
// in internal/store; the code that records events lives at the API edge.
//
// It imports only the standard library, so that every layer may use it.
package audit
