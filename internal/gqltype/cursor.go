package gqltype

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Cursor is the opaque position of an edge in an entity connection. It
// carries the filter it was made under, so that a cursor reused with
// another filter is refused instead of yielding a wrong page.
type Cursor struct {
	After string   `json:"a"` // the ref of the edge
	Kinds []string `json:"k,omitempty"`
}

// Encode returns the cursor's opaque string form.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // strings only
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by [Cursor.Encode] and checks that it
// was made for the same kinds. Returns EINVALID otherwise.
func DecodeCursor(s string, kinds []string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.After == "" {
		return Cursor{}, portal.Errorf(portal.EINVALID, "invalid cursor %q: pass the endCursor of a previous page", s)
	}
	if !slices.Equal(normalizeKinds(c.Kinds), normalizeKinds(kinds)) {
		return Cursor{}, portal.Errorf(portal.EINVALID, "cursor %q was made for another filter; start again without after", s)
	}
	return c, nil
}

// NewCursor returns the cursor of the entity with ref, listed under kinds.
func NewCursor(ref string, kinds []string) Cursor {
	return Cursor{After: ref, Kinds: normalizeKinds(kinds)}
}

func normalizeKinds(kinds []string) []string {
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, strings.ToLower(k))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
