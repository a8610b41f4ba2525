package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/auth"
)

func TestMintDevToken(t *testing.T) {
	t.Parallel()
	v := MustVerifier(t, auth.Config{Secret: testSecret, Issuer: testIssuer, Audience: []string{testAudience}}, nil)

	t.Run("OK", func(t *testing.T) {
		now := time.Now().Truncate(time.Second)
		tok, err := auth.MintDevToken(testSecret, auth.MintOptions{
			Subject: testSubject, Email: "jane@example.com", Issuer: testIssuer,
			Audience: []string{testAudience}, TTL: 5 * time.Minute, Now: now,
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		want := &auth.Claims{
			Subject: testSubject, Email: "jane@example.com", Issuer: testIssuer,
			Audience: []string{testAudience}, ExpiresAt: now.Add(5 * time.Minute), IssuedAt: now,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claims mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("DefaultTTL", func(t *testing.T) {
		tok, err := auth.MintDevToken(testSecret, auth.MintOptions{
			Subject: testSubject, Issuer: testIssuer, Audience: []string{testAudience},
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ExpiresAt.Sub(c.IssuedAt); got != auth.DefaultTokenTTL {
			t.Errorf("lifetime = %s; want %s", got, auth.DefaultTokenTTL)
		}
	})
	t.Run("ErrOtherSecret", func(t *testing.T) {
		tok, err := auth.MintDevToken(strings.Repeat("s", 32), auth.MintOptions{
			Subject: testSubject, Issuer: testIssuer, Audience: []string{testAudience},
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(t.Context(), tok)
		wantUnauthenticated(t, err, tok, "the token signature is invalid")
	})

	for _, tt := range []struct {
		name   string
		secret string
		opts   auth.MintOptions
		want   string
	}{
		{"ErrShortSecret", "short", auth.MintOptions{Subject: testSubject}, "the secret is 5 bytes; HS256 needs at least 32"},
		{"ErrNoSubject", testSecret, auth.MintOptions{}, "needs a subject"},
		{"ErrNegativeTTL", testSecret, auth.MintOptions{Subject: testSubject, TTL: -time.Minute}, "TTL is negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := auth.MintDevToken(tt.secret, tt.opts)
			if err == nil {
				t.Fatalf("MintDevToken = %q, nil; want an error containing %q", tok, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q; want it to contain %q", err, tt.want)
			}
		})
	}
}
