package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/settings"
)

// TestMain_Webhooks serves a URL location from a local forge that serves
// GitHub's file URLs, with an hour's refresh interval, and checks on each
// database that a signed GitHub push webhook for its repository and branch
// refreshes it at once (a subscribed client sees the change), while a
// tampered body, a missing signature, a provider with no secret and a
// push to another branch refresh nothing.
func TestMain_Webhooks(t *testing.T) {
	eachDatabase(t, testWebhooks)
}

func testWebhooks(t *testing.T, dsn string) {
	var mu sync.Mutex
	description := "first"
	forge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/acme/shop/blob/main/catalog-info.yaml" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, component("hooked", description))
	}))
	defer forge.Close()
	edit := func(d string) {
		mu.Lock()
		description = d
		mu.Unlock()
	}

	const secret = "webhook-secret"
	cfg := DefaultConfig()
	cfg.Locations = []string{forge.URL + "/acme/shop/blob/main/catalog-info.yaml"}
	cfg.Catalog.RefreshInterval = settings.Duration(time.Hour)
	cfg.Hooks.Secrets.GitHub = secret
	m, base := serve(t, cfg, dsn)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws := dialLive(ctx, t, base, map[string]any{"after": headCursor(t, m), "filter": map[string]any{"name": []string{"hooked"}}})

	push := func(provider, branch string, sign func(body []byte) string) (int, []string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"ref": "refs/heads/" + branch, "repository": map[string]any{"html_url": forge.URL + "/acme/shop"}})
		req, _ := http.NewRequest(http.MethodPost, base+"/hooks/refresh/"+provider, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		if sign != nil {
			req.Header.Set("X-Hub-Signature-256", sign(body))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Refreshed []string }
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Refreshed
	}
	valid := func(body []byte) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	tampered := func(body []byte) string { return valid(append([]byte(" "), body...)) }

	edit("second")
	start := time.Now()
	if code, refreshed := push("github", "main", valid); code != http.StatusAccepted || len(refreshed) != 1 {
		t.Fatalf("signed push: %d, refreshed %v; want 202 and the location", code, refreshed)
	}
	ectx, ecancel := context.WithTimeout(ctx, 10*time.Second)
	ev := ws.next(ectx, t)
	ecancel()
	t.Logf("pushed → event in %v", time.Since(start).Round(time.Millisecond))
	if ev.Operation != "UPDATED" || ev.Entity == nil || ev.Entity.Description != "second" {
		t.Errorf("after a signed push: %+v; want hooked UPDATED, described second", ev)
	}

	edit("third")
	for _, c := range []struct {
		name, provider, branch string
		sign                   func([]byte) string
		want                   int
	}{
		{"tampered body", "github", "main", tampered, http.StatusUnauthorized},
		{"no signature", "github", "main", nil, http.StatusUnauthorized},
		{"provider without a secret", "gitlab", "main", valid, http.StatusNotFound},
		{"another branch", "github", "develop", valid, http.StatusAccepted},
	} {
		if code, refreshed := push(c.provider, c.branch, c.sign); code != c.want || len(refreshed) != 0 {
			t.Errorf("%s: %d, refreshed %v; want %d and nothing refreshed", c.name, code, refreshed, c.want)
		}
	}
	// Nothing was refreshed: the catalog still has what the first push read.
	time.Sleep(1500 * time.Millisecond)
	data, _ := graphql(t, base, `{ entity(ref: "component:hooked") { description } }`, nil)
	var got struct{ Entity struct{ Description string } }
	if json.Unmarshal(data, &got); got.Entity.Description != "second" {
		t.Errorf("after refused pushes the entity is described %q (%s); want still second", got.Entity.Description, data)
	}
	if code, _ := push("github", "main", valid); code != http.StatusAccepted {
		t.Fatalf("signed push: %d", code)
	}
	ectx, ecancel = context.WithTimeout(ctx, 10*time.Second)
	defer ecancel()
	if ev := ws.next(ectx, t); ev.Entity == nil || ev.Entity.Description != "third" {
		t.Errorf("after the refused pushes and a signed one: %+v; want described third", ev)
	}
}

// TestMain_RefreshNoWait checks on each database that refreshLocation and
// refreshEntity with wait: false return at once with the location's
// refresh job, which job(id) shows, and that the refresh then happens.
func TestMain_RefreshNoWait(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		file := mustWrite(t, dir, "catalog-info.yaml", component("nowait", "first"))
		cfg := DefaultConfig()
		cfg.Locations = []string{file}
		cfg.Catalog.RefreshInterval = settings.Duration(time.Hour)
		cfg.Catalog.WatchFiles = false
		m, base := serve(t, cfg, dsn)
		loc := mustOnlyLocation(t, m)

		mustWrite(t, dir, "catalog-info.yaml", component("nowait", "second"))
		data, code := graphql(t, base, `mutation($id: ID!) { refreshLocation(id: $id, wait: false) { location { id } stats { updated } jobId } }`,
			map[string]any{"id": loc.ID})
		var started struct {
			RefreshLocation struct {
				Stats *struct{ Updated int }
				JobID string
			}
		}
		if json.Unmarshal(data, &started); code != "" || started.RefreshLocation.JobID == "" || started.RefreshLocation.Stats != nil {
			t.Fatalf("refreshLocation(wait: false): %s %s; want a job id and no stats", code, data)
		}
		data, code = graphql(t, base, `query($id: ID!) { job(id: $id) { id kind } }`, map[string]any{"id": started.RefreshLocation.JobID})
		var job struct{ Job *struct{ ID, Kind string } }
		if json.Unmarshal(data, &job); code != "" || job.Job == nil || job.Job.Kind != "refresh_location" {
			t.Errorf("job(%s): %s %s; want the refresh_location job", started.RefreshLocation.JobID, code, data)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, _ := graphql(t, base, `{ entity(ref: "component:nowait") { description } }`, nil)
			var got struct{ Entity struct{ Description string } }
			if json.Unmarshal(data, &got); got.Entity.Description == "second" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the refresh asked for without waiting did not happen in 10 s: %s", data)
			}
			time.Sleep(20 * time.Millisecond)
		}

		data, code = graphql(t, base, `mutation { refreshEntity(ref: "component:nowait", wait: false) { entity { ref } stats { updated } jobId } }`, nil)
		var entity struct {
			RefreshEntity struct {
				Entity struct{ Ref string }
				JobID  string
			}
		}
		if json.Unmarshal(data, &entity); code != "" || entity.RefreshEntity.Entity.Ref != "component:default/nowait" ||
			entity.RefreshEntity.JobID != started.RefreshLocation.JobID {
			t.Errorf("refreshEntity(wait: false): %s %s; want the entity and its location's job %s", code, data, started.RefreshLocation.JobID)
		}
	})
}
