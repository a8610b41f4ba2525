package gqltype

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// A cursor is an opaque position in a list, with a digest of the query
// that made the list (its filter and order), so that a cursor reused with
// another query is refused instead of yielding a wrong page.
type cursor[P any] struct {
	Position P      `json:"p"`
	Query    string `json:"q"`
}

// QueryDigest returns a short digest of a list's query: any values that
// decide its content and order.
func QueryDigest(parts ...any) string {
	b, _ := json.Marshal(parts) // plain values only
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// EncodeCursor returns the opaque cursor of position p in the list made by
// the query with this digest.
func EncodeCursor[P any](p P, digest string) string {
	b, _ := json.Marshal(cursor[P]{Position: p, Query: digest})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by [EncodeCursor] for the query with this
// digest. Returns EINVALID when it is malformed or was made by another query.
func DecodeCursor[P any](s, digest string) (P, error) {
	var c cursor[P]
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c.Position, portal.Errorf(portal.EINVALID, "invalid cursor %q: pass a cursor from a previous page", s)
	}
	if c.Query != digest {
		return c.Position, portal.Errorf(portal.EINVALID, "cursor %q was made for another filter or order; start again without it", s)
	}
	return c.Position, nil
}
