package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// mustRecordAudit records e and returns the ID it was stored under.
func mustRecordAudit(tb testing.TB, db *store.DB, e audit.Event) string {
	tb.Helper()
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			tb.Fatal(err)
		}
		e.ID = id.String()
	}
	if err := db.RecordAuditEvent(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
	return e.ID
}

// mustAuditIDs lists one page of events and returns their IDs.
func mustAuditIDs(tb testing.TB, db *store.DB, f audit.Filter, after string, limit int) (ids []string, hasMore bool) {
	tb.Helper()
	events, hasMore, err := db.AuditEvents(context.Background(), f, after, limit)
	if err != nil {
		tb.Fatal(err)
	}
	ids = []string{}
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids, hasMore
}

func TestDB_RecordAuditEvent(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()

		t.Run("OK", func(t *testing.T) {
			at := time.Date(2025, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("CET", 3600))
			in := audit.Event{
				ID: "0195b2c4-0000-7000-8000-000000000001", At: at,
				Actor: "user:default/jane.doe", ActorKind: "user", Action: "registerLocation",
				Target: "url:https://example.com/catalog-info.yaml",
				Arguments: map[string]any{
					"type": "url", "dryRun": false, "depth": 2.0,
					"login": map[string]any{"token": "s3cr3t", "user": "jane"},
				},
				Outcome: audit.OutcomeError, ErrorCode: portal.ECONFLICT, ErrorMessage: "already registered",
				RequestID: "req-1",
			}
			if err := db.RecordAuditEvent(ctx, in); err != nil {
				t.Fatal(err)
			}
			got, _, err := db.AuditEvents(ctx, audit.Filter{Targets: []string{in.Target}}, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			want.At = time.Date(2025, 3, 4, 4, 6, 7, 891_000_000, time.UTC)
			want.Arguments = map[string]any{
				"type": "url", "dryRun": false, "depth": 2.0,
				"login": map[string]any{"token": audit.Redacted, "user": "jane"},
			}
			if diff := cmp.Diff([]audit.Event{want}, got); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if in.Arguments["login"].(map[string]any)["token"] != "s3cr3t" {
				t.Error("RecordAuditEvent modified the caller's arguments")
			}
		})

		t.Run("Defaults", func(t *testing.T) {
			before := time.Now().UTC().Add(-time.Second)
			if err := db.RecordAuditEvent(ctx, audit.Event{Action: "deleteEntity", ActorKind: "anonymous", Outcome: audit.OutcomeDenied}); err != nil {
				t.Fatal(err)
			}
			got, _, err := db.AuditEvents(ctx, audit.Filter{Actions: []string{"deleteEntity"}}, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d events; want 1", len(got))
			}
			e := got[0]
			if id, err := uuid.Parse(e.ID); err != nil || id.Version() != 7 {
				t.Errorf("ID %q is not a version 7 UUID (%v)", e.ID, err)
			}
			if e.At.Before(before) || e.At.After(time.Now().Add(time.Second)) || e.At.Location() != time.UTC {
				t.Errorf("At = %v; want the time of recording, in UTC", e.At)
			}
			if e.Arguments != nil || e.Actor != "" || e.Target != "" {
				t.Errorf("got arguments %v, actor %q, target %q; want none", e.Arguments, e.Actor, e.Target)
			}
		})

		t.Run("ErrConflict", func(t *testing.T) {
			e := audit.Event{ID: "0195b2c4-0000-7000-8000-0000000000ff", Action: "refreshLocation", Outcome: audit.OutcomeOK}
			if err := db.RecordAuditEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordAuditEvent(ctx, e); portal.ErrorCode(err) != portal.ECONFLICT {
				t.Errorf("recording an ID twice: %v; want %s", err, portal.ECONFLICT)
			}
		})

		// The event of a failed mutation must outlive the transaction that
		// failed: here a refresh's change set, planned against a state that
		// changed since, is refused while the event is recorded. On SQLite
		// the two take turns at the one writer connection.
		t.Run("KeptWhenRefreshFails", func(t *testing.T) {
			loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, "/nonexistent/audit.yaml")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- db.RecordAuditEvent(ctx, audit.Event{Action: "refreshEntity", Target: "x", Outcome: audit.OutcomeError})
			}()
			cs := &catalog.ChangeSet{Location: loc, LocationStamp: "planned against another state"}
			if _, err := db.ApplyChangeSet(ctx, cs); !errors.Is(err, catalog.ErrStale) {
				t.Fatalf("applying a stale change set: %v; want %v", err, catalog.ErrStale)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if ids, _ := mustAuditIDs(t, db, audit.Filter{Actions: []string{"refreshEntity"}}, "", 10); len(ids) != 1 {
				t.Errorf("got %d refreshEntity events after the rollback; want 1", len(ids))
			}
		})
	})
}

func TestDB_AuditEvents(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		// Recorded oldest first: IDs grow, so listings return them reversed.
		var ids []string
		for i, e := range []audit.Event{
			{Actor: "user:default/jane", Action: "registerLocation", Target: "loc-1", Outcome: audit.OutcomeOK},
			{Actor: "user:default/bob", Action: "deleteEntity", Target: "component:default/a", Outcome: audit.OutcomeDenied},
			{Actor: "user:default/jane", Action: "deleteEntity", Target: "component:default/a", Outcome: audit.OutcomeOK},
			{Actor: "service:ci", Action: "refreshLocation", Target: "loc-1", Outcome: audit.OutcomeError},
			{Actor: "", Action: "deleteLocation", Target: "loc-2", Outcome: audit.OutcomeDenied},
		} {
			e.At = base.Add(time.Duration(i) * time.Hour)
			ids = append(ids, mustRecordAudit(t, db, e))
		}
		at := func(h int) *time.Time { t := base.Add(time.Duration(h) * time.Hour); return &t }

		t.Run("Filters", func(t *testing.T) {
			tests := []struct {
				name   string
				filter audit.Filter
				want   []string
			}{
				{"all", audit.Filter{}, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
				{"actor", audit.Filter{Actors: []string{"user:default/jane"}}, []string{ids[2], ids[0]}},
				{"anonymous actor", audit.Filter{Actors: []string{""}}, []string{ids[4]}},
				{"actions", audit.Filter{Actions: []string{"deleteEntity", "deleteLocation"}}, []string{ids[4], ids[2], ids[1]}},
				{"outcome", audit.Filter{Outcomes: []string{audit.OutcomeDenied}}, []string{ids[4], ids[1]}},
				{"target", audit.Filter{Targets: []string{"loc-1"}}, []string{ids[3], ids[0]}},
				{"combined", audit.Filter{Actions: []string{"deleteEntity"}, Outcomes: []string{audit.OutcomeOK}}, []string{ids[2]}},
				{"since is inclusive", audit.Filter{Since: at(3)}, []string{ids[4], ids[3]}},
				{"until is exclusive", audit.Filter{Until: at(2)}, []string{ids[1], ids[0]}},
				{"window in another zone", audit.Filter{
					Since: func() *time.Time { t := at(1).In(time.FixedZone("PST", -8*3600)); return &t }(),
					Until: at(3),
				}, []string{ids[2], ids[1]}},
				{"a millisecond into an event", audit.Filter{Since: func() *time.Time { t := at(4).Add(time.Millisecond); return &t }()}, []string{}},
				{"no match", audit.Filter{Actors: []string{"user:default/nobody"}}, []string{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, hasMore := mustAuditIDs(t, db, tt.filter, "", 10)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("ids mismatch (-want +got):\n%s", diff)
					}
					if hasMore {
						t.Error("hasMore = true; want false")
					}
				})
			}
		})

		t.Run("DefaultLimit", func(t *testing.T) {
			got, hasMore := mustAuditIDs(t, db, audit.Filter{}, "", 0)
			if len(got) != len(ids) || hasMore {
				t.Errorf("limit 0 listed %d events (hasMore %v); want all %d", len(got), hasMore, len(ids))
			}
		})

		t.Run("Paging", func(t *testing.T) {
			var f audit.Filter
			got, hasMore := mustAuditIDs(t, db, f, "", 2)
			if diff := cmp.Diff([]string{ids[4], ids[3]}, got); diff != "" || !hasMore {
				t.Fatalf("page 1 (hasMore %v) mismatch (-want +got):\n%s", hasMore, diff)
			}
			// Events recorded between two pages are newer than every event
			// listed, so the next page continues where the last one ended.
			fresh := []string{
				mustRecordAudit(t, db, audit.Event{At: base.Add(10 * time.Hour), Action: "registerLocation", Outcome: audit.OutcomeOK}),
				mustRecordAudit(t, db, audit.Event{At: base.Add(11 * time.Hour), Action: "registerLocation", Outcome: audit.OutcomeOK}),
			}
			got, hasMore = mustAuditIDs(t, db, f, ids[3], 2)
			if diff := cmp.Diff([]string{ids[2], ids[1]}, got); diff != "" || !hasMore {
				t.Fatalf("page 2 (hasMore %v) mismatch (-want +got):\n%s", hasMore, diff)
			}
			got, hasMore = mustAuditIDs(t, db, f, ids[1], 2)
			if diff := cmp.Diff([]string{ids[0]}, got); diff != "" || hasMore {
				t.Fatalf("page 3 (hasMore %v) mismatch (-want +got):\n%s", hasMore, diff)
			}
			got, hasMore = mustAuditIDs(t, db, f, "", 3)
			if diff := cmp.Diff([]string{fresh[1], fresh[0], ids[4]}, got); diff != "" || !hasMore {
				t.Errorf("first page after recording (hasMore %v) mismatch (-want +got):\n%s", hasMore, diff)
			}
		})
	})
}
