package settings

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/server"
)

// file sets every key of both sections, so a key added to a section
// without reaching auth.Config or server.Limits fails below.
const file = `
auth:
  secret: s3cret
  jwksURL: https://idp.example.com/jwks
  jwksFile: /etc/keys.json
  issuer: https://idp.example.com
  audience: [greenroom]
  algorithms: [RS256]
  clockSkew: 45s
  emailClaim: mail
api:
  maxTokens: 1
  maxDepth: 2
  maxComplexity: 3
  maxAliases: 4
  maxBatch: 5
  maxBodyBytes: 6
  maxResponseBytes: 7
  timeout: 8s
  readTimeout: 9s
  writeTimeout: 10s
  maxConcurrentRequests: 11
  queueTimeout: 12s
  disableIntrospection: true
  corsOrigins: [https://portal.example.com]
`

func TestSections(t *testing.T) {
	var f struct {
		Auth Auth `yaml:"auth"`
		API  API  `yaml:"api"`
	}
	dec := yaml.NewDecoder(strings.NewReader(file))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{f.Auth, f.API} {
		rv := reflect.ValueOf(v)
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Errorf("%s.%s is not set by the test's file", rv.Type().Name(), rv.Type().Field(i).Name)
			}
		}
	}
	wantAuth := auth.Config{Secret: "s3cret", JWKSURL: "https://idp.example.com/jwks", JWKSFile: "/etc/keys.json",
		Issuer: "https://idp.example.com", Audience: []string{"greenroom"}, Algorithms: []string{"RS256"},
		ClockSkew: 45 * time.Second, EmailClaim: "mail"}
	if d := cmp.Diff(wantAuth, f.Auth.Config(), cmpopts.IgnoreUnexported(auth.Config{})); d != "" {
		t.Errorf("auth (-want +got):\n%s", d)
	}
	wantLimits := server.Limits{MaxTokens: 1, MaxDepth: 2, MaxComplexity: 3, MaxAliases: 4, MaxBatch: 5, MaxBodyBytes: 6,
		MaxResponseBytes: 7, Timeout: 8 * time.Second, ReadTimeout: 9 * time.Second, WriteTimeout: 10 * time.Second,
		MaxConcurrentRequests: 11, QueueTimeout: 12 * time.Second, DisableIntrospection: true,
		CORS: server.CORS{AllowedOrigins: []string{"https://portal.example.com"}}}
	if d := cmp.Diff(wantLimits, f.API.Limits(), cmpopts.IgnoreUnexported(server.Limits{}, server.CORS{})); d != "" {
		t.Errorf("api (-want +got):\n%s", d)
	}
}

func TestEnv(t *testing.T) {
	env := map[string]string{"GREENROOM_AUTH_SECRET": "x", "GREENROOM_AUTH_JWKS_URL": "u", "GREENROOM_AUTH_JWKS_FILE": "f",
		"GREENROOM_AUTH_ISSUER": "i", "GREENROOM_AUTH_AUDIENCE": " a, ,b ", "B": "yes"}
	a := Auth{Secret: "from the file", Audience: []string{"file"}}
	a.LoadEnv(func(k string) string { return env[k] })
	if d := cmp.Diff(Auth{Secret: "x", JWKSURL: "u", JWKSFile: "f", Issuer: "i", Audience: []string{"a", "b"}}, a); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	b := false
	if err := Bool(func(k string) string { return env[k] }, "B", &b); err == nil || !strings.Contains(err.Error(), `B: "yes" is not true or false`) {
		t.Errorf("Bool(yes) = %v", err)
	}
	if err := Bool(func(string) string { return "" }, "B", &b); err != nil || b {
		t.Errorf("Bool(unset) = %v, %v", b, err)
	}
}

func TestDurationError(t *testing.T) {
	var f struct {
		D Duration `yaml:"d"`
	}
	err := yaml.Unmarshal([]byte("\nd: soon\n"), &f)
	if err == nil || !strings.Contains(err.Error(), `line 2: "soon" is not a duration`) {
		t.Errorf("got %v", err)
	}
}
