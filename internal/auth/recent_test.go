package auth

import (
	"context"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// TestVerifier_RecentTokens checks that a token verified lately is trusted
// again from memory, but not past its expiry, and that a changed token is
// always verified.
func TestVerifier_RecentTokens(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	ctx := context.Background()
	v, err := NewVerifier(ctx, Config{Secret: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := MintDevToken(secret, MintOptions{Subject: "user:default/jane", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := v.Verify(ctx, tok); err != nil || again != first {
		t.Errorf("second verification: %p, %v; want the first's claims %p, from memory", again, err, first)
	}
	// Once the remembered deadline has passed (the clock of the cache is
	// moved; jwt keeps the real one), the token is verified afresh.
	v.now = func() time.Time { return first.ExpiresAt.Add(time.Millisecond) }
	fresh, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == first {
		t.Error("a token past its expiry was trusted from memory")
	}
	if _, err := v.Verify(ctx, tok[:len(tok)-2]+"xx"); portal.ErrorCode(err) != portal.EUNAUTHENTICATED {
		t.Errorf("tampered token: %v; want UNAUTHENTICATED", err)
	}
}
