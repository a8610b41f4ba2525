package auth_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/auth"
)

// rawToken assembles a token from literal header and claims JSON, for
// shapes the jwt package refuses to sign.
func rawToken(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc([]byte("signature"))
}

func TestNewVerifier_Errors(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(nil)
	closed.Close()
	missing := httptest.NewServer(nil) // every path is 404
	t.Cleanup(missing.Close)

	jwks := func(f func(c *auth.Config)) auth.Config {
		c := jwksConfig("https://idp.example.com/jwks.json")
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  auth.Config
		file string // when set, written to a temporary file named by cfg.JWKSFile
		want string
	}{
		{"NoKeySource", auth.Config{}, "", "no key source"},
		{"TwoKeySources", auth.Config{Secret: testSecret, JWKSFile: "jwks.json"}, "", "only one of"},
		{"ShortSecret", auth.Config{Secret: "too-short"}, "", "the secret is 9 bytes; HS256 needs at least 32"},
		{"HMACWithJWKS", jwks(func(c *auth.Config) { c.Algorithms = []string{"HS256"} }), "", "algorithm HS256 needs Secret"},
		{"RSAWithSecret", auth.Config{Secret: testSecret, Algorithms: []string{"RS256"}}, "", "algorithm RS256 needs a JWKS"},
		{"AlgNone", auth.Config{Secret: testSecret, Algorithms: []string{"none"}}, "", `algorithm "none" is not supported`},
		{"JWKSWithoutIssuer", jwks(func(c *auth.Config) { c.Issuer = "" }), "", "Issuer is required with a JWKS"},
		{"JWKSWithoutAudience", jwks(func(c *auth.Config) { c.Audience = nil }), "", "Audience is required with a JWKS"},
		{"EmptyAudience", auth.Config{Secret: testSecret, Audience: []string{""}}, "", "Audience contains an empty value"},
		{"PlainHTTP", jwks(func(c *auth.Config) { c.JWKSURL = "http://idp.example.com/jwks.json" }), "", "must use https"},
		{"RelativeURL", jwks(func(c *auth.Config) { c.JWKSURL = "jwks.json" }), "", "not an absolute URL"},
		{"NegativeSkew", auth.Config{Secret: testSecret, ClockSkew: -time.Second}, "", "ClockSkew -1s is negative"},
		{"RefreshTooOften", jwks(func(c *auth.Config) { c.JWKSRefresh = time.Millisecond }), "", "shorter than one second"},
		// Plain http is accepted on loopback, so these fail fetching, not validating.
		{"Unreachable", jwks(func(c *auth.Config) { c.JWKSURL = closed.URL }), "", "fetch JWKS"},
		{"HTTPStatus", jwks(func(c *auth.Config) { c.JWKSURL = missing.URL + "/jwks.json" }), "", "404 Not Found"},
		{"MissingFile", jwks(func(c *auth.Config) { c.JWKSURL, c.JWKSFile = "", "/nonexistent/jwks.json" }), "", "read JWKS"},
		{"NotJSON", jwks(func(c *auth.Config) { c.JWKSURL = "" }), "hello", "not a JWKS document"},
		{"NoKeys", jwks(func(c *auth.Config) { c.JWKSURL = "" }), `{"keys":[]}`, "holds no usable signing key"},
		{"OnlySymmetricKey", jwks(func(c *auth.Config) { c.JWKSURL = "" }),
			`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, "holds no usable signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if tt.file != "" {
				cfg.JWKSFile = filepath.Join(t.TempDir(), "jwks.json")
				MustWriteFile(t, cfg.JWKSFile, []byte(tt.file))
			}
			v, err := auth.NewVerifier(t.Context(), cfg, nil)
			if err == nil {
				t.Fatalf("NewVerifier = %v, nil; want an error containing %q", v, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfig_Enabled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  auth.Config
		want bool
	}{
		{auth.Config{}, false},
		{auth.Config{Issuer: testIssuer, Audience: []string{testAudience}}, false},
		{auth.Config{Secret: testSecret}, true},
		{auth.Config{JWKSURL: "https://idp.example.com/jwks.json"}, true},
		{auth.Config{JWKSFile: "jwks.json"}, true},
	}
	for _, tt := range tests {
		if got := tt.cfg.Enabled(); got != tt.want {
			t.Errorf("%+v.Enabled() = %v; want %v", tt.cfg, got, tt.want)
		}
	}
}

func TestConfig_LogValue(t *testing.T) {
	t.Parallel()
	cfg := auth.Config{Secret: testSecret, JWKSURL: "https://user:hunter2@idp.example.com/jwks.json", Issuer: testIssuer}
	got := cfg.LogValue().String()
	for _, secret := range []string{testSecret, "hunter2"} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue() = %s; it shows %q", got, secret)
		}
	}
	if !strings.Contains(got, "REDACTED") || !strings.Contains(got, testIssuer) {
		t.Errorf("LogValue() = %s; want the secret REDACTED and the issuer shown", got)
	}
}

func TestVerifier_Verify_Secret(t *testing.T) {
	t.Parallel()
	v := MustVerifier(t, auth.Config{Secret: testSecret, Issuer: testIssuer, Audience: []string{testAudience, "cli"}}, nil)
	sign := func(c jwt.MapClaims) string { return MustSign(t, jwt.SigningMethodHS256, []byte(testSecret), "", c) }
	now := time.Now()

	t.Run("OK", func(t *testing.T) {
		iat, exp := now.Add(-time.Minute).Truncate(time.Second), now.Add(time.Hour).Truncate(time.Second)
		got, err := v.Verify(t.Context(), sign(validClaims(jwt.MapClaims{
			"email": "jane@example.com", "iat": iat.Unix(), "exp": exp.Unix(),
		})))
		if err != nil {
			t.Fatal(err)
		}
		want := &auth.Claims{
			Subject: testSubject, Email: "jane@example.com", Issuer: testIssuer,
			Audience: []string{testAudience}, ExpiresAt: exp, IssuedAt: iat,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claims mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("OKAnyAcceptedAudience", func(t *testing.T) {
		if _, err := v.Verify(t.Context(), sign(validClaims(jwt.MapClaims{"aud": []string{"other", "cli"}}))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKSingleStringAudience", func(t *testing.T) {
		if _, err := v.Verify(t.Context(), sign(validClaims(jwt.MapClaims{"aud": "cli"}))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKWithinClockSkew", func(t *testing.T) {
		tok := sign(validClaims(jwt.MapClaims{
			"nbf": now.Add(10 * time.Second).Unix(),
			"iat": now.Add(10 * time.Second).Unix(),
			"exp": now.Add(-10 * time.Second).Unix(),
		}))
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("EmailVerification", func(t *testing.T) {
		for _, tt := range []struct {
			verified any
			want     string
		}{
			{nil, "jane@example.com"},
			{true, "jane@example.com"},
			{"true", "jane@example.com"},
			{false, ""},
			{"false", ""},
			{"maybe", ""},
		} {
			tok := sign(validClaims(jwt.MapClaims{"email": "jane@example.com", "email_verified": tt.verified}))
			c, err := v.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.Email != tt.want {
				t.Errorf("email_verified %v: Email = %q; want %q", tt.verified, c.Email, tt.want)
			}
		}
	})

	errTests := []struct {
		name  string
		token string
		want  string
	}{
		{"ErrExpired", sign(validClaims(jwt.MapClaims{"exp": time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Unix()})),
			"the token expired at 2020-01-02T03:04:05Z"},
		{"ErrExpiredBeyondSkew", sign(validClaims(jwt.MapClaims{"exp": now.Add(-40 * time.Second).Unix()})), "the token expired at"},
		{"ErrNotValidYet", sign(validClaims(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()})), "the token is not valid yet"},
		{"ErrNotValidYetBeyondSkew", sign(validClaims(jwt.MapClaims{"nbf": now.Add(40 * time.Second).Unix()})), "the token is not valid yet"},
		{"ErrIssuedInFuture", sign(validClaims(jwt.MapClaims{"iat": now.Add(time.Hour).Unix()})), "issued in the future"},
		{"ErrWrongKey", MustSign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", validClaims(nil)),
			"the token signature is invalid"},
		{"ErrTamperedClaims", tamper(sign(validClaims(nil))), "the token signature is invalid"},
		{"ErrAlgNone", MustSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", validClaims(nil)),
			`algorithm "none" is not accepted (accepted: HS256)`},
		{"ErrAlgRS256", MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "", validClaims(nil)), `algorithm "RS256" is not accepted`},
		{"ErrAlgHS512", MustSign(t, jwt.SigningMethodHS512, []byte(testSecret), "", validClaims(nil)), `algorithm "HS512" is not accepted`},
		{"ErrAlgUnknown", rawToken(`{"alg":"XYZ"}`, `{}`), `algorithm "XYZ" is not accepted`},
		{"ErrNoAlg", rawToken(`{"typ":"JWT"}`, `{}`), "names no algorithm"},
		{"ErrWrongIssuer", sign(validClaims(jwt.MapClaims{"iss": "https://evil.example.com/"})),
			`token issuer "https://evil.example.com/" is not accepted (want "https://idp.example.com/")`},
		{"ErrNoIssuer", sign(validClaims(jwt.MapClaims{"iss": nil})), "the token has no issuer (iss claim)"},
		{"ErrWrongAudience", sign(validClaims(jwt.MapClaims{"aud": []string{"billing"}})),
			`token audience ["billing"] is not accepted (want one of ["greenroom" "cli"])`},
		{"ErrNoAudience", sign(validClaims(jwt.MapClaims{"aud": nil})), "the token has no audience (aud claim)"},
		{"ErrNoExpiry", sign(validClaims(jwt.MapClaims{"exp": nil})), "the token has no expiry time (exp claim)"},
		{"ErrNoSubject", sign(validClaims(jwt.MapClaims{"sub": nil})), "the token has no subject (sub claim)"},
		{"ErrEmpty", "", "the token is empty"},
		{"ErrOneSegment", "abc", "a JWT has three dot-separated parts"},
		{"ErrTwoSegments", "abc.def", "a JWT has three dot-separated parts"},
		{"ErrFourSegments", sign(validClaims(nil)) + ".abc", "a JWT has three dot-separated parts"},
		{"ErrGarbageBase64", "!!!.@@@.###", "the token is malformed"},
		{"ErrHeaderNotJSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + ".e30.c2ln", "the token is malformed"},
		{"ErrClaimWrongType", rawToken(`{"alg":"HS256"}`, `{"exp":"tomorrow"}`), "the token is malformed"},
		{"ErrOversized", strings.Repeat("a", auth.MaxTokenLength+1), "longer than 32768 characters"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), tt.token)
			if c != nil {
				t.Errorf("Verify returned claims %+v", c)
			}
			wantUnauthenticated(t, err, tt.token, tt.want)
		})
	}
}

// tamper changes the subject of a signed token and keeps its signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"user:default/admin"}`))
	return strings.Join(parts, ".")
}

func TestVerifier_Verify_EmailClaim(t *testing.T) {
	t.Parallel()
	v := MustVerifier(t, auth.Config{Secret: testSecret, EmailClaim: "upn"}, nil)
	tok := MustSign(t, jwt.SigningMethodHS256, []byte(testSecret), "", validClaims(jwt.MapClaims{
		"email": "other@example.com", "upn": "jane@example.com",
	}))
	c, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "jane@example.com" {
		t.Errorf("Email = %q; want the upn claim %q", c.Email, "jane@example.com")
	}
}

func TestVerifier_Verify_JWKS(t *testing.T) {
	t.Parallel()
	srv := MustJWKSServer(t, MustJWKS(t,
		testKey{"rsa-1", "RS256", &rsaKey1().PublicKey},
		testKey{"ec-1", "ES256", &ecKey1().PublicKey},
	))
	v := MustVerifier(t, jwksConfig(srv.URL), srv.Client())

	for _, tt := range []struct {
		name  string
		token string
	}{
		{"OKRS256", MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa-1", validClaims(nil))},
		{"OKES256", MustSign(t, jwt.SigningMethodES256, ecKey1(), "ec-1", validClaims(nil))},
		// Without a kid every key is tried, as providers with one key do.
		{"OKWithoutKeyID", MustSign(t, jwt.SigningMethodES256, ecKey1(), "", validClaims(nil))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != testSubject {
				t.Errorf("Subject = %q; want %q", c.Subject, testSubject)
			}
		})
	}

	pemKey, err := x509.MarshalPKIXPublicKey(&rsaKey1().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pemKey})
	for _, tt := range []struct {
		name  string
		token string
		want  string
	}{
		// The classic confusion: an HMAC token keyed with the published RSA key.
		{"ErrHMACWithPublicKey", MustSign(t, jwt.SigningMethodHS256, rsaPEM, "rsa-1", validClaims(nil)),
			`algorithm "HS256" is not accepted (accepted: RS256, ES256)`},
		{"ErrPS256NotAccepted", MustSign(t, jwt.SigningMethodPS256, rsaKey1(), "rsa-1", validClaims(nil)),
			`algorithm "PS256" is not accepted`},
		{"ErrKeyForOtherAlgorithm", MustSign(t, jwt.SigningMethodES256, ecKey1(), "rsa-1", validClaims(nil)),
			`key "rsa-1" cannot verify ES256 tokens`},
		{"ErrSignedByOtherKey", MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "rsa-1", validClaims(nil)),
			"the token signature is invalid"},
		{"ErrNoKeyMatches", MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "", validClaims(nil)),
			"the token signature is invalid"},
		{"ErrKeyIDNotString", rawToken(`{"alg":"RS256","kid":42}`, `{"sub":"x"}`), "key id (kid) is not a string"},
		{"ErrUnknownKeyID", MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "nope", validClaims(nil)), `unknown key id "nope"`},
		{"ErrLongKeyIDClipped", MustSign(t, jwt.SigningMethodRS256, rsaKey2(), strings.Repeat("k", 500), validClaims(nil)),
			`unknown key id "` + strings.Repeat("k", 64) + `…"`},
		{"ErrWrongIssuer", MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa-1",
			validClaims(jwt.MapClaims{"iss": "https://other.example.com/"})),
			`token issuer "https://other.example.com/" is not accepted`},
		{"ErrWrongAudience", MustSign(t, jwt.SigningMethodES256, ecKey1(), "ec-1",
			validClaims(jwt.MapClaims{"aud": "another-app"})),
			`token audience ["another-app"] is not accepted`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tt.token)
			wantUnauthenticated(t, err, tt.token, tt.want)
		})
	}
}

func TestVerifier_Verify_HMACVerifierRefusesRS256(t *testing.T) {
	t.Parallel()
	v := MustVerifier(t, auth.Config{Secret: testSecret}, nil)
	tok := MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa-1", validClaims(nil))
	_, err := v.Verify(t.Context(), tok)
	wantUnauthenticated(t, err, tok, `algorithm "RS256" is not accepted (accepted: HS256)`)
}

func TestVerifier_KeyRotation(t *testing.T) {
	t.Parallel()
	key1 := testKey{"key-1", "RS256", &rsaKey1().PublicKey}
	key2 := testKey{"key-2", "RS256", &rsaKey2().PublicKey}
	srv := MustJWKSServer(t, MustJWKS(t, key1))
	v := MustVerifier(t, jwksConfig(srv.URL), srv.Client())
	tok1 := MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "key-1", validClaims(nil))
	tok2 := MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "key-2", validClaims(nil))
	wantFetches := func(want int64) {
		t.Helper()
		if got := srv.fetches.Load(); got != want {
			t.Errorf("JWKS fetched %d times; want %d", got, want)
		}
	}

	if _, err := v.Verify(t.Context(), tok1); err != nil {
		t.Fatalf("key-1 before rotation: %v", err)
	}
	wantFetches(1)

	// The provider rotates: key-1 is gone, key-2 signs. Concurrent requests
	// with the new key share one reload.
	srv.Serve(MustJWKS(t, key2))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), tok2); err != nil {
				t.Errorf("key-2 after rotation: %v", err)
			}
		})
	}
	wg.Wait()
	wantFetches(2)

	_, err := v.Verify(t.Context(), tok1)
	wantUnauthenticated(t, err, tok1, `unknown key id "key-1"`)
	// Within a minute of the last unknown-kid reload, unknown ids cause no fetch.
	tokBogus := MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "bogus", validClaims(nil))
	_, err = v.Verify(t.Context(), tokBogus)
	wantUnauthenticated(t, err, tokBogus, `unknown key id "bogus"`)
	wantFetches(2)
}

func TestVerifier_JWKSRefreshInterval(t *testing.T) {
	t.Parallel()
	key1 := testKey{"key-1", "ES256", &ecKey1().PublicKey}
	key2 := testKey{"key-2", "RS256", &rsaKey2().PublicKey}
	srv := MustJWKSServer(t, MustJWKS(t, key1))
	var logs syncBuffer
	cfg := jwksConfig(srv.URL)
	cfg.JWKSRefresh, cfg.Logger = time.Second, newLogger(&logs)
	v := MustVerifier(t, cfg, srv.Client())

	// Use up the unknown-kid reload, so only the timer can load key-2.
	bogus := MustSign(t, jwt.SigningMethodES256, ecKey1(), "bogus", validClaims(nil))
	if _, err := v.Verify(t.Context(), bogus); err == nil {
		t.Fatal("a token with an unknown key id was accepted")
	}
	srv.Serve(MustJWKS(t, key2))
	tok2 := MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "key-2", validClaims(nil))
	deadline := time.Now().Add(10 * time.Second)
	for _, err := v.Verify(t.Context(), tok2); err != nil; _, err = v.Verify(t.Context(), tok2) {
		if time.Now().After(deadline) {
			t.Fatalf("key-2 still refused 10s after the JWKS changed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok1 := MustSign(t, jwt.SigningMethodES256, ecKey1(), "key-1", validClaims(nil))
	_, err := v.Verify(t.Context(), tok1)
	wantUnauthenticated(t, err, tok1, `unknown key id "key-1"`)

	// A broken document does not lose the keys already loaded.
	srv.Serve([]byte("{"))
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "keeping the previous keys") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed refresh logged within 10s; logs: %q", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := v.Verify(t.Context(), tok2); err != nil {
		t.Fatalf("key-2 after the JWKS broke: %v", err)
	}
}

func TestVerifier_JWKSFileRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jwks.json")
	MustWriteFile(t, path, MustJWKS(t, testKey{"key-1", "RS256", &rsaKey1().PublicKey}))
	v := MustVerifier(t, auth.Config{JWKSFile: path, Issuer: testIssuer, Audience: []string{testAudience}}, nil)
	tok1 := MustSign(t, jwt.SigningMethodRS256, rsaKey1(), "key-1", validClaims(nil))
	tok2 := MustSign(t, jwt.SigningMethodES256, ecKey1(), "key-2", validClaims(nil))

	if _, err := v.Verify(t.Context(), tok1); err != nil {
		t.Fatalf("key-1 before rotation: %v", err)
	}
	MustWriteFile(t, path, MustJWKS(t, testKey{"key-2", "ES256", &ecKey1().PublicKey}))
	if _, err := v.Verify(t.Context(), tok2); err != nil {
		t.Fatalf("key-2 after rotation: %v", err)
	}
	_, err := v.Verify(t.Context(), tok1)
	wantUnauthenticated(t, err, tok1, `unknown key id "key-1"`)
}

func TestVerifier_JWKSSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	// An encryption key and a symmetric key beside the signing key: the
	// first is ignored, the second logged and skipped, the set still loads.
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(MustJWKS(t, testKey{"ec-1", "ES256", &ecKey1().PublicKey}), &set); err != nil {
		t.Fatal(err)
	}
	var enc struct{ Keys []map[string]any }
	if err := json.Unmarshal(MustJWKS(t, testKey{"enc-1", "RSA-OAEP", &rsaKey2().PublicKey}), &enc); err != nil {
		t.Fatal(err)
	}
	enc.Keys[0]["use"] = "enc"
	encKey, err := json.Marshal(enc.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	set.Keys = append(set.Keys, encKey,
		json.RawMessage(`{"kty":"oct","kid":"hmac-1","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`),
	)
	doc, err := json.Marshal(map[string]any{"keys": set.Keys})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	MustWriteFile(t, path, doc)
	var logs syncBuffer
	cfg := auth.Config{
		JWKSFile: path, Issuer: testIssuer, Audience: []string{testAudience}, Logger: newLogger(&logs),
	}
	v := MustVerifier(t, cfg, nil)

	tok := MustSign(t, jwt.SigningMethodES256, ecKey1(), "ec-1", validClaims(nil))
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	encTok := MustSign(t, jwt.SigningMethodRS256, rsaKey2(), "enc-1", validClaims(nil))
	_, err = v.Verify(t.Context(), encTok)
	wantUnauthenticated(t, err, encTok, `unknown key id "enc-1"`)
	if got := logs.String(); !strings.Contains(got, "hmac-1") || strings.Contains(got, "enc-1") {
		t.Errorf("logs = %q; want the symmetric key reported and the encryption key not", got)
	}
}
