package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// serveTrust serves the example catalog, configured, over a real HTTP
// server whose engine has opts and whose registerLocation allows url and
// file locations.
func serveTrust(t *testing.T, db *store.DB, opts ingest.Options) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, exampleCatalog(t)); err != nil {
		t.Fatal(err)
	}
	eng := ingest.NewEngine(db, opts)
	if err := eng.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(serverOptions(t, db, eng, allowAll)))
	t.Cleanup(srv.Close)
	return srv
}

// serveYAML serves each path's YAML over HTTP.
func serveYAML(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

const registerTrust = `mutation($type: String, $target: String!, $dryRun: Boolean) {
	registerLocation(type: $type, target: $target, dryRun: $dryRun) {
		location { id }
		entities { ref raw }
		errors { level code entityRef message }
	}
}`

type trustPayload struct {
	RegisterLocation struct {
		Location *struct{ ID string }
		Entities []struct {
			Ref string
			Raw map[string]any
		}
		Errors []struct{ Level, Code, EntityRef, Message string }
	}
}

func (p trustPayload) refs() []string {
	var out []string
	for _, e := range p.RegisterLocation.Entities {
		if !strings.HasPrefix(e.Ref, "location:default/generated-") {
			out = append(out, e.Ref)
		}
	}
	slices.Sort(out)
	return out
}

// codes lists "CODE entityRef" of every error, sorted.
func (p trustPayload) codes() []string {
	var out []string
	for _, e := range p.RegisterLocation.Errors {
		out = append(out, strings.TrimSpace(e.Code+" "+e.EntityRef))
	}
	slices.Sort(out)
	return out
}

// locationErrors lists "CODE entityRef" of the errors of a location, sorted.
func locationErrors(t *testing.T, srv *httptest.Server, id string) []string {
	t.Helper()
	var got struct {
		Location struct {
			Errors []struct{ Code, EntityRef string }
		}
	}
	MustQuery(t, srv, `query($id: ID!) { location(id: $id) { errors { code entityRef } } }`, map[string]any{"id": id}, &got)
	var out []string
	for _, e := range got.Location.Errors {
		out = append(out, strings.TrimSpace(e.Code+" "+e.EntityRef))
	}
	slices.Sort(out)
	return out
}

func group(name, parent string, members ...string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: %s
spec:
  type: team
  parent: %s
  children: []
  members: [%s]
`, name, parent, strings.Join(members, ", "))
}

func urlLocation(targets ...string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: more
spec:
  type: url
  targets: [%s]
`, strings.Join(targets, ", "))
}

// TestTrust_RegisteredLocationKinds checks that a location registered
// through the API cannot publish organisation data, neither itself nor
// through a Location entity leading to another URL: its Group (parent the
// admins, members its author) is refused with FORBIDDEN_KIND, in a dry run
// and for real, and no membership or parent relation comes of it.
func TestTrust_RegisteredLocationKinds(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := serveTrust(t, db, ingest.Options{})
		files := serveYAML(t, map[string]string{
			"/team/catalog-info.yaml": yamlDocs(component("team-tool"), group("sneaky-admins", "platform-admins", "ada.okafor"), urlLocation("./more.yaml")),
			"/team/more.yaml":         group("nested-admins", "platform-admins", "ada.okafor"),
		})
		target := files.URL + "/team/catalog-info.yaml"
		wantRefs := []string{"component:default/team-tool", "location:default/more"}
		wantErrs := []string{"FORBIDDEN_KIND group:default/nested-admins", "FORBIDDEN_KIND group:default/sneaky-admins"}

		var dry trustPayload
		MustQuery(t, srv, registerTrust, map[string]any{"target": target, "dryRun": true}, &dry)
		if got := dry.refs(); !slices.Equal(got, wantRefs) {
			t.Errorf("dry run emits %v; want %v", got, wantRefs)
		}
		if got := dry.codes(); !slices.Equal(got, wantErrs) {
			t.Errorf("dry run errors %v; want %v", got, wantErrs)
		}

		var reg trustPayload
		MustQuery(t, srv, registerTrust, map[string]any{"target": target}, &reg)
		if reg.RegisterLocation.Location == nil {
			t.Fatal("no location registered")
		}
		if got := locationErrors(t, srv, reg.RegisterLocation.Location.ID); !slices.Equal(got, wantErrs) {
			t.Errorf("location errors %v; want %v", got, wantErrs)
		}
		for _, msg := range reg.RegisterLocation.Errors {
			if msg.Code == "FORBIDDEN_KIND" && !strings.Contains(msg.Message, "registered through the API may not emit kind Group") {
				t.Errorf("message %q does not say why", msg.Message)
			}
		}
		if ref := MustEntityRef(t, srv, "component:team-tool"); ref == "" {
			t.Error("the allowed component was not stored")
		}
		for _, ref := range []string{"group:sneaky-admins", "group:nested-admins"} {
			if got := MustEntityRef(t, srv, ref); got != "" {
				t.Errorf("%s was stored", got)
			}
		}
		var rel struct {
			Entity struct {
				Relations struct {
					Edges []struct {
						Node struct{ Type, TargetRef string }
					}
				}
			}
		}
		for _, ref := range []string{"user:ada.okafor", "group:platform-admins"} {
			MustQuery(t, srv, `query($ref: String!) { entity(ref: $ref) { relations(first: 100) { edges { node { type targetRef } } } } }`, map[string]any{"ref": ref}, &rel)
			for _, e := range rel.Entity.Relations.Edges {
				if strings.Contains(e.Node.TargetRef, "admins") && e.Node.TargetRef != "group:default/platform-admins" {
					t.Errorf("%s has relation %s %s", ref, e.Node.Type, e.Node.TargetRef)
				}
			}
		}
	})
}

// TestTrust_RegisteredLocationThroughConfiguredURL checks that a
// registered location leading to the very URL a configured location reads
// keeps its own rules: the User found there is refused for it.
func TestTrust_RegisteredLocationThroughConfiguredURL(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		files := serveYAML(t, map[string]string{
			"/org/users.yaml":         user("mallory"),
			"/team/catalog-info.yaml": urlLocation("/org/users.yaml"),
		})
		ctx := context.Background()
		if _, _, err := db.CreateLocation(ctx, ingest.TypeURL, files.URL+"/org/users.yaml"); err != nil {
			t.Fatal(err)
		}
		srv := serveTrust(t, db, ingest.Options{})
		if ref := MustEntityRef(t, srv, "user:mallory"); ref == "" {
			t.Fatal("the configured location's User was not stored")
		}
		var dry trustPayload
		MustQuery(t, srv, registerTrust, map[string]any{"target": files.URL + "/team/catalog-info.yaml", "dryRun": true}, &dry)
		if got, want := dry.codes(), []string{"FORBIDDEN_KIND user:default/mallory"}; !slices.Equal(got, want) {
			t.Errorf("errors %v; want %v", got, want)
		}
	})
}

func user(name string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: %s
spec:
  memberOf: [platform-admins]
`, name)
}

// TestTrust_URLLocationCannotReadFiles checks that a URL location serving
// a Location entity with file targets does not make the server read its
// own files: the target is refused with FORBIDDEN_TARGET, in a dry run and
// in a refresh, and nothing of the file reaches the caller or the catalog.
func TestTrust_URLLocationCannotReadFiles(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		secret := MustWriteFile(t, t.TempDir(), "secret.yaml", strings.Replace(component("leaked-secret"), "spec:", "  description: s3cr3t-value\nspec:", 1))
		srv := serveTrust(t, db, ingest.Options{})
		files := serveYAML(t, map[string]string{
			"/evil/catalog-info.yaml": fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: evil
spec:
  type: file
  targets: [%s, ./secret.yaml, /etc/hostname]
`, secret),
		})
		target := files.URL + "/evil/catalog-info.yaml"
		want := []string{"FORBIDDEN_TARGET location:default/evil", "FORBIDDEN_TARGET location:default/evil", "FORBIDDEN_TARGET location:default/evil"}
		for _, dryRun := range []bool{true, false} {
			var got trustPayload
			r := send(t, srv, registerTrust, map[string]any{"target": target, "dryRun": dryRun})
			if strings.Contains(string(r.Data), "s3cr3t") || strings.Contains(string(r.Data), "leaked-secret") {
				t.Errorf("dryRun=%v: the response holds the file's content: %s", dryRun, r.Data)
			}
			mustData(t, r, &got)
			if dryRun {
				if codes := got.codes(); !slices.Equal(codes, want) {
					t.Errorf("dry run errors %v; want %v", codes, want)
				}
				continue
			}
			if got.RegisterLocation.Location == nil {
				t.Fatal("no location registered")
			}
			if codes := locationErrors(t, srv, got.RegisterLocation.Location.ID); !slices.Equal(codes, want) {
				t.Errorf("location errors %v; want %v", codes, want)
			}
			for _, e := range got.RegisterLocation.Errors {
				if !strings.Contains(e.Message, "may not lead to files") {
					t.Errorf("message %q does not say why", e.Message)
				}
			}
		}
		if ref := MustEntityRef(t, srv, "component:leaked-secret"); ref != "" {
			t.Errorf("%s was read from the server's disk", ref)
		}
	})
}

// TestTrust_RegisteredFileLocationConfined checks that a file location
// registered through the API reads only its own tree: a Location entity
// leading out with ../ or through a symbolic link is refused.
func TestTrust_RegisteredFileLocationConfined(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		MustWriteFile(t, dir, "outside/catalog-info.yaml", component("outside-service"))
		root := MustWriteFile(t, dir, "team/catalog-info.yaml", yamlDocs(component("team-service"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: out
spec:
  type: file
  targets: [../outside/catalog-info.yaml, ./link/catalog-info.yaml]
`))
		if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(dir, "team", "link")); err != nil {
			t.Fatal(err)
		}
		srv := serveTrust(t, db, ingest.Options{})
		var got trustPayload
		MustQuery(t, srv, registerTrust, map[string]any{"type": "file", "target": root}, &got)
		if want := []string{"FORBIDDEN_TARGET location:default/out", "FORBIDDEN_TARGET location:default/out"}; !slices.Equal(got.codes(), want) {
			t.Errorf("errors %v; want %v", got.codes(), want)
		}
		if ref := MustEntityRef(t, srv, "component:outside-service"); ref != "" {
			t.Errorf("%s was read from outside the registered tree", ref)
		}
		if ref := MustEntityRef(t, srv, "component:team-service"); ref == "" {
			t.Error("the location's own component was not stored")
		}
	})
}

// TestTrust_FileRoots checks catalog.fileRoots: a configured location may
// read only below them, symbolic links followed.
func TestTrust_FileRoots(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		MustWriteFile(t, dir, "secret/catalog-info.yaml", component("outside-service"))
		root := MustWriteFile(t, dir, "catalog/all.yaml", yamlDocs(component("inside-service"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: out
spec:
  type: file
  targets: [../secret/catalog-info.yaml, ./link.yaml]
`))
		if err := os.Symlink(filepath.Join(dir, "secret", "catalog-info.yaml"), filepath.Join(dir, "catalog", "link.yaml")); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, root)
		if err != nil {
			t.Fatal(err)
		}
		srv := serveTrust(t, db, ingest.Options{FileRoots: []string{filepath.Join(dir, "catalog"), filepath.Dir(exampleCatalog(t))}})
		if got, want := locationErrors(t, srv, loc.ID), []string{"FORBIDDEN_TARGET location:default/out", "FORBIDDEN_TARGET location:default/out"}; !slices.Equal(got, want) {
			t.Errorf("errors %v; want %v", got, want)
		}
		if ref := MustEntityRef(t, srv, "component:outside-service"); ref != "" {
			t.Errorf("%s was read from outside the file roots", ref)
		}
		if ref := MustEntityRef(t, srv, "component:inside-service"); ref == "" {
			t.Error("the file inside the roots was not read")
		}
	})
}

// TestTrust_LocationURLCredentials checks that registerLocation refuses
// URLs that carry credentials, which every reader of the catalog would see.
func TestTrust_LocationURLCredentials(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := serveTrust(t, db, ingest.Options{})
		for _, target := range []string{
			"https://user:pw@git.example.com/a.yaml",
			"https://git.example.com/a.yaml?token=abc",
			"https://git.example.com/a.yaml?ref=main&private_token=abc",
			"https://git.example.com/a.yaml?access_token=abc",
			"https://git.example.com/a.yaml?api_key=abc",
			"https://git.example.com/a.yaml?apikey=abc",
			"https://git.example.com/a.yaml?sig=abc",
			"https://bucket.s3.amazonaws.com/a.yaml?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA&X-Amz-Signature=abc",
			"https://git.example.com/a.yaml?X-Amz-Security-Token=abc",
			"https://git.example.com/a.yaml?password=abc",
			"https://git.example.com/a.yaml?client_secret=abc",
			"https://git.example.com/a.yaml#access_token=abc",
			"https://git.example.com/a.yaml?%zz&token=abc",
		} {
			code, msg := MustFail(t, srv, registerTrust, map[string]any{"target": target, "dryRun": true})
			if code != "INVALID" || strings.Contains(msg, "abc") || strings.Contains(msg, "AKIA") {
				t.Errorf("%s: code %s, message %q; want INVALID without the secret", target, code, msg)
			}
		}
		var locs struct{ Locations []struct{ Target string } }
		MustQuery(t, srv, `{ locations { target } }`, nil, &locs)
		if len(locs.Locations) != 1 {
			t.Errorf("locations %v; want only the example catalog", locs.Locations)
		}
	})
}

// TestTrust_ValidateEntities checks that validateEntities, which takes YAML
// from any caller, never reads a file through a Location entity, and
// warns of what a registered location could not emit.
func TestTrust_ValidateEntities(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		secret := MustWriteFile(t, t.TempDir(), "secret.yaml", component("leaked-secret"))
		srv := serveTrust(t, db, ingest.Options{})
		yaml := yamlDocs(group("sneaky-admins", "platform-admins", "ada.okafor"), fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: evil
spec:
  type: file
  target: %s
`, secret), component("fine"))
		r := send(t, srv, `mutation($yaml: String!) { validateEntities(yaml: $yaml) { entities { ref } errors { level code entityRef } } }`, map[string]any{"yaml": yaml})
		if strings.Contains(string(r.Data), "leaked-secret") {
			t.Errorf("validateEntities read a local file: %s", r.Data)
		}
		var got struct {
			ValidateEntities struct {
				Entities []refNode
				Errors   []struct{ Level, Code, EntityRef string }
			}
		}
		mustData(t, r, &got)
		var errs []string
		for _, e := range got.ValidateEntities.Errors {
			errs = append(errs, e.Level+" "+e.Code+" "+e.EntityRef)
		}
		want := []string{"warning FORBIDDEN_KIND group:default/sneaky-admins", "warning FORBIDDEN_TARGET location:default/evil"}
		if !slices.Equal(errs, want) {
			t.Errorf("errors %v; want %v", errs, want)
		}
		if len(got.ValidateEntities.Entities) != 3 {
			t.Errorf("entities %v; want the three documents", got.ValidateEntities.Entities)
		}
	})
}

// TestTrust_ConfiguringPromotes checks that a location registered through
// the API and later named in the configuration gains its trust.
func TestTrust_ConfiguringPromotes(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg, created, err := db.RegisterLocation(ctx, ingest.TypeURL, "https://git.example.com/org.yaml", nil)
		if err != nil || !created || reg.Configured {
			t.Fatalf("RegisterLocation: %+v created=%v err=%v; want a new registered location", reg, created, err)
		}
		conf, created, err := db.CreateLocation(ctx, ingest.TypeURL, "https://git.example.com/org.yaml")
		if err != nil || created || conf.ID != reg.ID || !conf.Configured {
			t.Fatalf("CreateLocation: %+v created=%v err=%v; want the same location, configured", conf, created, err)
		}
		again, _, err := db.RegisterLocation(ctx, ingest.TypeURL, "https://git.example.com/org.yaml", nil)
		if err != nil || !again.Configured {
			t.Errorf("registering again: %+v err=%v; want it still configured", again, err)
		}
		locs, err := db.Locations(ctx)
		if err != nil || len(locs) != 1 || !locs[0].Configured {
			t.Errorf("Locations: %+v err=%v; want one configured location", locs, err)
		}
	})
}
