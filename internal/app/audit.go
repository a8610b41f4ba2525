package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// auditor records the audit event of every call of a service.
type auditor struct {
	rec interface {
		RecordAuditEvent(ctx context.Context, e audit.Event) error
	}
	log *slog.Logger
}

// record appends the event of action, called on target with args by the
// principal in ctx and ending with *err, to the audit log. It is deferred
// at the top of each service method, so that refusals, failures and
// successes are all recorded. The event outlives a caller that hangs up:
// the action ran. A failure to record is logged, not returned: the action
// itself is done and its result must reach the caller.
func (a auditor) record(ctx context.Context, action, target string, args map[string]any, err *error) {
	p := portal.PrincipalFromContext(ctx)
	e := audit.Event{
		Actor:     p.Ref,
		ActorKind: string(p.Kind),
		Action:    action,
		Target:    target,
		Arguments: args,
		Outcome:   audit.OutcomeOK,
		RequestID: portal.RequestIDFromContext(ctx),
	}
	if *err != nil {
		e.Outcome, e.ErrorCode, e.ErrorMessage = audit.OutcomeError, portal.ErrorCode(*err), portal.ErrorMessage(*err)
		if e.ErrorCode == portal.EFORBIDDEN {
			e.Outcome = audit.OutcomeDenied
		}
	}
	if rerr := a.rec.RecordAuditEvent(context.WithoutCancel(ctx), e.Redacted()); rerr != nil {
		a.log.ErrorContext(ctx, "audit event not recorded", "action", action, "actor", p.Ref, "err", rerr)
	}
}

// parseRef returns an entity ref in its canonical form, which the audit
// log keeps so that it can be filtered by it however the caller spelt it.
// A ref that does not parse is returned as given, with EINVALID.
func parseRef(s string) (string, error) {
	r, err := catalog.ParseRef(strings.TrimSpace(s), catalog.RefDefaults{})
	if err != nil {
		return s, portal.Errorf(portal.EINVALID, "%v", err)
	}
	return r.String(), nil
}
