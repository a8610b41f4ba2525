package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRun_Changes checks greenroom changes: the events after a position as
// JSON lines, with the actor of a CLI write (locations add, which then
// refreshes the location as the location itself); nothing after the head;
// a position beyond the head refused.
func TestRun_Changes(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		var vars map[string]string
		if code, out, stderr := runCLI(t, vars, "locations", "add", "https://example.com/catalog-info.yaml", "--database", dsn); code != 0 {
			t.Fatalf("locations add: exit %d\n%s%s", code, out, stderr)
		}
		code, out, stderr := runCLI(t, vars, "changes", "--database", dsn)
		if code != 0 {
			t.Fatalf("changes: exit %d\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var events []changeJSON
		for _, l := range lines {
			var c changeJSON
			if err := json.Unmarshal([]byte(l), &c); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			events = append(events, c)
		}
		if c := events[0]; c.Position != 1 || c.Operation != "LOCATION_CREATED" || !strings.HasPrefix(c.Actor, "cli:") || c.Ref == "" || c.At.IsZero() {
			t.Errorf("first event %+v; want position 1, LOCATION_CREATED by the CLI's user", c)
		}
		if c := events[len(events)-1]; c.Operation != "LOCATION_REFRESHED" || c.Actor != "location:"+events[0].Ref {
			t.Errorf("last event %+v; want the refresh of the location, by the location", c)
		}
		if code, out, _ := runCLI(t, vars, "changes", "--after", "head", "--database", dsn); code != 0 || out != "" {
			t.Errorf("changes --after head: exit %d, %q; want 0 and nothing", code, out)
		}
		if code, _, stderr := runCLI(t, vars, "changes", "--after", "99", "--database", dsn); code != 1 || !strings.Contains(stderr, "beyond the feed's last position") {
			t.Errorf("changes --after 99: exit %d, %q; want 1 and the reason", code, stderr)
		}
	})
}
