package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/portal"
)

const (
	testSecret   = "greenroom-test-secret-0123456789abcdef"
	testIssuer   = "https://idp.example.com/"
	testAudience = "greenroom"
	testSubject  = "user:default/jane"
)

// Keys are generated once per test binary: RSA generation is slow under -race.
var (
	rsaKey1 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	ecKey1  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustECKey() })
)

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// MustVerifier returns a verifier for c whose background work ends with the test.
func MustVerifier(tb testing.TB, c auth.Config, client *http.Client) *auth.Verifier {
	tb.Helper()
	v, err := auth.NewVerifier(tb.Context(), c, client)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// validClaims returns valid claims for the test issuer and audience, changed by
// overrides; a nil override removes the claim.
func validClaims(overrides jwt.MapClaims) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": testSubject,
		"iss": testIssuer,
		"aud": []string{testAudience},
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// MustSign returns a token signed by key with method, naming kid when it is not empty.
func MustSign(tb testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign token: %v", err)
	}
	return s
}

// wantUnauthenticated checks that err is an UNAUTHENTICATED error whose
// message contains want and does not repeat the token.
func wantUnauthenticated(tb testing.TB, err error, token, want string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error; want one containing %q", want)
	}
	if got := portal.ErrorCode(err); got != portal.EUNAUTHENTICATED {
		tb.Errorf("code = %q; want %q (err: %v)", got, portal.EUNAUTHENTICATED, err)
	}
	msg := portal.ErrorMessage(err)
	if !strings.Contains(msg, want) {
		tb.Errorf("message = %q; want it to contain %q", msg, want)
	}
	if len(token) > 16 && strings.Contains(msg, token) {
		tb.Errorf("message %q repeats the token", msg)
	}
}

// testKey is a public key to publish in a test JWKS.
type testKey struct {
	kid, alg string
	pub      any
}

// MustJWKS returns a JWKS document holding keys.
func MustJWKS(tb testing.TB, keys ...testKey) []byte {
	tb.Helper()
	set := jwkset.NewMemoryStorage()
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.pub, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.alg), USE: jwkset.UseSig},
		})
		if err != nil {
			tb.Fatalf("JWK %s: %v", k.kid, err)
		}
		if err := set.KeyWrite(tb.Context(), jwk); err != nil {
			tb.Fatalf("JWK %s: %v", k.kid, err)
		}
	}
	doc, err := set.JSONPublic(tb.Context())
	if err != nil {
		tb.Fatalf("JWKS: %v", err)
	}
	return doc
}

// jwksServer is an identity provider's JWKS endpoint, over TLS, whose
// document the test can change.
type jwksServer struct {
	*httptest.Server
	doc     atomic.Pointer[[]byte]
	fetches atomic.Int64
}

func MustJWKSServer(tb testing.TB, doc []byte) *jwksServer {
	tb.Helper()
	s := &jwksServer{}
	s.Serve(doc)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.doc.Load())
	}))
	tb.Cleanup(s.Close)
	return s
}

// Serve makes the server publish doc from now on.
func (s *jwksServer) Serve(doc []byte) { s.doc.Store(&doc) }

// jwksConfig returns a production-style config for the JWKS at url.
func jwksConfig(url string) auth.Config {
	return auth.Config{JWKSURL: url, Issuer: testIssuer, Audience: []string{testAudience}}
}

// MustWriteFile replaces the file at path with data the way a deployment
// rotates a mounted file: write beside it, then rename over it.
func MustWriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer that a server goroutine may write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogger returns a logger that writes text to w.
func newLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}
