package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const catalogYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payments}
spec: {type: service, lifecycle: production, owner: team-a}
`

// denyAll is a policy that allows nothing to anyone.
type denyAll struct{}

func (denyAll) Current() *policy.Policy {
	p, err := policy.Parse([]byte("rules:\n  - name: nothing\n    deny: [\"*\"]\n    to: [anyone]\n"), "deny.yaml")
	if err != nil {
		panic(err)
	}
	return p
}

// TestCatalog_ChecksAndAudits checks that one service method refuses a
// caller the policy denies and lets an operator through, and that both
// calls are in the audit log, as the same action on the same target.
func TestCatalog_ChecksAndAudits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "catalog-info.yaml")
		if err := os.WriteFile(file, []byte(catalogYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		svc := app.New(app.Deps{Store: db, Engine: ingest.NewEngine(db, ingest.Options{}), Policies: denyAll{},
			RegisterTypes: []string{ingest.TypeFile}}).Catalog

		user := portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane",
			Ownership: []string{"user:default/jane"}, InCatalog: true})
		user = portal.NewContextWithRequestID(user, "req-1")
		if _, _, err := svc.RegisterLocation(user, ingest.TypeFile, file, false); portal.ErrorCode(err) != portal.EFORBIDDEN {
			t.Fatalf("jane registers: %v; want FORBIDDEN", err)
		}
		loc, _, err := svc.RegisterLocation(app.Operator(ctx, "ops"), ingest.TypeFile, file, false)
		if err != nil {
			t.Fatalf("the operator registers: %v", err)
		}
		if _, err := svc.DeleteEntity(user, "Component:payments"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("jane deletes an entity she may not read: %v; want NOT_FOUND", err)
		}
		if _, err := svc.DeleteEntity(user, "no kind"); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("a ref that does not parse: %v; want INVALID", err)
		}

		events, _, err := db.AuditEvents(ctx, audit.Filter{}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		type row struct{ actor, action, target, outcome, code, request string }
		var got []row
		for _, e := range events {
			got = append(got, row{e.Actor, e.Action, e.Target, e.Outcome, e.ErrorCode, e.RequestID})
		}
		want := []row{ // newest first
			{"user:default/jane", "deleteEntity", "no kind", audit.OutcomeError, portal.EINVALID, "req-1"},
			{"user:default/jane", "deleteEntity", "component:default/payments", audit.OutcomeError, portal.ENOTFOUND, "req-1"},
			{"cli:ops", "registerLocation", loc.Target, audit.OutcomeOK, "", ""},
			{"user:default/jane", "registerLocation", file, audit.OutcomeDenied, portal.EFORBIDDEN, "req-1"},
		}
		if len(got) != len(want) {
			t.Fatalf("audit log %+v; want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("event %d: %+v; want %+v", i, got[i], want[i])
			}
		}
	})
}
