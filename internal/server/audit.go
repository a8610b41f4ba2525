package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// AuditRecorder keeps the audit log.
type AuditRecorder interface {
	RecordAuditEvent(ctx context.Context, e audit.Event) error
}

// auditMutations records every mutation the API runs: who, what, on what,
// with which arguments, and how it ended. It is a field middleware, so it
// sees each mutation field's own result, even when a request holds several.
func auditMutations(rec AuditRecorder, log *slog.Logger) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object != "Mutation" {
			return next(ctx)
		}
		res, err := next(ctx)
		e := AuditEvent(ctx, fc.Field.Name, fc.Args, err)
		// The event outlives a client that hangs up: the mutation ran.
		if rerr := rec.RecordAuditEvent(context.WithoutCancel(ctx), e.Redacted()); rerr != nil {
			log.ErrorContext(ctx, "audit event not recorded", "action", e.Action, "actor", e.Actor, "err", rerr)
		}
		return res, err
	}
}

// AuditEvent is the audit record of one mutation, action, called with
// args by the principal in ctx and ending with err: the one shape every
// transport records (the GraphQL API here, the greenroom commands that
// change the catalog), so that the log reads the same whoever acted. It is
// not redacted yet: the store redacts what it writes.
func AuditEvent(ctx context.Context, action string, args map[string]any, err error) audit.Event {
	p := portal.PrincipalFromContext(ctx)
	e := audit.Event{
		Actor:     p.Ref,
		ActorKind: string(p.Kind),
		Action:    action,
		Target:    auditTarget(args),
		Arguments: auditArguments(args),
		Outcome:   audit.OutcomeOK,
		RequestID: RequestID(ctx),
	}
	if err != nil {
		e.Outcome, e.ErrorCode, e.ErrorMessage = audit.OutcomeError, portal.ErrorCode(err), portal.ErrorMessage(err)
		if e.ErrorCode == portal.EFORBIDDEN {
			e.Outcome = audit.OutcomeDenied
		}
	}
	return e
}

// auditTarget is what a mutation acts on, read from its arguments: an
// entity ref in its canonical form, so that the log can be filtered by it
// however the caller spelt it, a location id, or a location's target
// (redacted with the rest of the event).
func auditTarget(args map[string]any) string {
	if s, ok := args["ref"].(string); ok {
		if r, err := catalog.ParseRef(strings.TrimSpace(s), catalog.RefDefaults{}); err == nil {
			return r.String()
		}
		return s
	}
	for _, name := range []string{"id", "target"} {
		if s, ok := args[name].(string); ok {
			return s
		}
	}
	return ""
}

// documentArguments are the mutation arguments that carry a document
// (validateEntities' yaml): each is kept as its digest and size, however
// short, since the secrets a document holds cannot be found by its shape.
// audit.Redact keeps any long or multi-line string the same way.
var documentArguments = map[string]bool{"yaml": true}

func auditArguments(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		if s, ok := v.(string); ok && documentArguments[k] {
			out[k] = audit.Digest(s)
			continue
		}
		out[k] = v
	}
	return out
}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request an id: the X-Request-ID a proxy sent,
// when it is short and printable, or a new one. It is sent back in the
// response, logged, and kept with audit events.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return false
		}
	}
	return true
}
