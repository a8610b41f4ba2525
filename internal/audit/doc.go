// Package audit defines the audit log's vocabulary: an [Event] records one
// attempt to change the portal (who, what, on what, with which arguments,
// and how it ended), and a [Filter] selects events to list. It also owns
// what of an event may be kept ([Event.Redacted]): the one rule of which
// names look secret ([portal.SecretName]), the search for secrets in text
// ([RedactString]), and documents kept as their [Digest]. Storage lives in
// internal/store, which redacts every event it writes; the code that records
// events lives at the API edge.
//
// It imports only the standard library, so that every layer may use it.
package audit
