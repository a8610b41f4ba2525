package server_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestAudit_NoSecrets sends mutations whose arguments carry secrets in
// every form that was found to pass the audit log's redaction, and checks
// that none of them reaches the log: URLs that url.Parse refuses, secrets
// in fragments and signed-URL parameters, and YAML documents, which the
// log keeps as their digest and size.
func TestAudit_NoSecrets(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})
		admin := as(t, srv, "user:default/admin")

		// Nothing listens on port 1: every read fails at once.
		targets := []string{
			"http://jane:SECRET-userinfo@127.0.0.1:1/catalog-info.yaml",
			" http://jane:SECRET-leading-space@127.0.0.1:1/catalog-info.yaml?token=SECRET-leading-space-query",
			"http://jane:SECRET-port@127.0.0.1:port/catalog-info.yaml",
			"http://127.0.0.1:1/catalog-info%zz.yaml?token=SECRET-escape%zz",
			"http://127.0.0.1:1/catalog-info.yaml#access_token=SECRET-fragment&token_type=bearer",
			"http://127.0.0.1:1/catalog-info.yaml?X-Amz-Credential=SECRET-amz-credential&X-Amz-Signature=SECRET-amz-signature&X-Amz-Expires=60",
			"http://127.0.0.1:1/catalog-info.yaml?sv=2022-11-02&sig=SECRET-sig",
			"http://127.0.0.1:1/catalog-info.yaml?to%6Ben=SECRET-escaped-name",
		}
		for _, target := range targets {
			// Each fails, or reads nothing; only the log matters here.
			admin.post(t, registerMutation, map[string]any{"type": "url", "target": target, "dryRun": true})
		}
		docs := []string{
			component("with-password") + "  password: hunter2\n",
			`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: with-token
  annotations:
    github.com/token: SECRET-annotation
    example.com/api-key: SECRET-api-key
spec: {type: service, lifecycle: production, owner: team-a}
`,
			`{apiVersion: backstage.io/v1alpha1, kind: Component, metadata: {name: one-line}, spec: {password: SECRET-one-line}}`,
		}
		for _, doc := range docs {
			var ok struct{}
			anonymous(srv).MustQuery(t, validateMutation, map[string]any{"yaml": doc}, &ok)
		}

		events := admin.MustAudit(t, map[string]any{"first": 100}).events()
		if want := len(targets) + len(docs); len(events) != want {
			t.Fatalf("%d events; want %d", len(events), want)
		}
		for _, e := range events {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"SECRET", "hunter2"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the log keeps a secret: %s", b)
				}
			}
		}
		// Newest first: the documents, then the targets.
		for i, doc := range docs {
			e := events[len(docs)-1-i]
			want := map[string]any{"sha256": fmt.Sprintf("%x", sha256.Sum256([]byte(doc))), "bytes": float64(len(doc))}
			if got := e.Arguments["yaml"]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("validateEntities' yaml recorded as %v; want its digest and size %v", got, want)
			}
		}
		for _, e := range events[len(docs):] {
			if e.Action != "registerLocation" || e.Target == nil || !strings.Contains(*e.Target, "127.0.0.1") {
				t.Errorf("event %s(%s): want registerLocation with its (redacted) target kept", e.Action, deref(e.Target))
			}
		}
	})
}
