package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/greenroomhq/greenroom/internal/audit"
)

// TestRun_JobsCancelAudit cancels one location's refresh job through the
// API and another's with greenroom jobs cancel, and checks that both leave
// the same audit record but for who acted, and that the list shows them.
func TestRun_JobsCancelAudit(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		cfg := DefaultConfig()
		cfg.Listen, cfg.Database = "127.0.0.1:0", dsn
		cfg.Locations = []string{mustWrite(t, dir, "a.yaml", fmt.Sprintf(teamCatalog, "team-a")),
			mustWrite(t, dir, "b.yaml", fmt.Sprintf(teamCatalog, "team-b"))}
		m := &Main{Config: cfg}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		base := "http://" + m.Addr()
		waitReady(t, base)

		code, out, stderr := runCLI(t, nil, "jobs", "--database", dsn)
		if code != 0 {
			t.Fatalf("jobs: exit %d\n%s%s", code, out, stderr)
		}
		var ids []string // the refresh jobs, one per location
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[1] == "refresh_location" {
				ids = append(ids, f[0])
			}
		}
		if len(ids) != 2 || !strings.Contains(out, `"location_id":`) || !strings.HasSuffix(out, " jobs, 0 failed\n") {
			t.Fatalf("jobs lists %v; want two refresh jobs:\n%s", ids, out)
		}

		if _, code := graphql(t, base, `mutation($id: ID!) { cancelJob(id: $id) { id state } }`, map[string]any{"id": ids[0]}); code != "" {
			t.Fatalf("cancelJob: %s", code)
		}
		if code, out, stderr := runCLI(t, nil, "jobs", "cancel", ids[1], "--database", dsn); code != 0 || !strings.Contains(out, "job "+ids[1]) {
			t.Fatalf("jobs cancel: exit %d\n%s%s", code, out, stderr)
		}
		if code, out, stderr := runCLI(t, nil, "jobs", "cancel", "--database", dsn, "99999"); code != 2 || !strings.Contains(stderr, "greenroom jobs cancel: no job 99999") {
			t.Errorf("cancelling an unknown job: exit %d, %q %q; want 2 and NOT_FOUND's message", code, out, stderr)
		}
		if code, _, stderr := runCLI(t, nil, "jobs", "cancel", "--database", dsn); code != 2 || !strings.Contains(stderr, "takes one job id") {
			t.Errorf("cancel without an id: exit %d, %q; want 2", code, stderr)
		}
		code, out, stderr = runCLI(t, nil, "jobs", "--state", "cancelled", "--database", dsn)
		if code != 0 || strings.Count(out, "refresh_location") != 2 {
			t.Errorf("jobs --state cancelled: exit %d\n%s%s; want both refresh jobs", code, out, stderr)
		}

		events, _, err := m.db.AuditEvents(context.Background(), audit.Filter{Actions: []string{"cancelJob"}}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 3 {
			t.Fatalf("%d audit events; want 3: %+v", len(events), events)
		}
		notFound, cliCancel, apiCancel := events[0], events[1], events[2]
		user := "cli:" + operatorName(env(nil))
		if cliCancel.Actor != user || cliCancel.ActorKind != "cli" || apiCancel.Actor != "user:development/guest" {
			t.Errorf("actors %q (%s) and %q; want %s (cli) and the API's guest", cliCancel.Actor, cliCancel.ActorKind, apiCancel.Actor, user)
		}
		cliCancel.Target, cliCancel.Arguments["id"] = apiCancel.Target, apiCancel.Target
		ignore := cmpopts.IgnoreFields(audit.Event{}, "ID", "At", "Actor", "ActorKind", "RequestID")
		if diff := cmp.Diff(apiCancel, cliCancel, ignore); diff != "" {
			t.Errorf("jobs cancel's record differs from cancelJob's (-api +cli):\n%s", diff)
		}
		if notFound.Outcome != audit.OutcomeError || notFound.ErrorCode != "NOT_FOUND" || notFound.Target != "99999" {
			t.Errorf("the unknown job's cancel recorded as %+v; want a NOT_FOUND error", notFound)
		}
	})
}
