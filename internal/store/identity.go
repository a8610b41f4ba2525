package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// grants is the condition on the entities row alias that lets a User or
// Group entity grant identity, membership or ownership: it is still emitted
// by its location (not an orphan) and it validated (valid; a document that
// stopped validating keeps its last good version, which still grants, as
// it is what the catalog serves). An orphan is what is left of an entity
// its location no longer emits, such as a user who left; an entity stored
// with errors and no good version was never accepted.
func grants(alias string) string {
	return alias + ".valid AND NOT " + alias + ".orphan"
}

// MaxGroupDepth caps how many parent groups [DB.Ownership] climbs above a
// group the user is a member of directly. It is deeper than any real org
// chart; what it bounds is the work a cycle of parents makes.
const MaxGroupDepth = 20

// Ownership returns the refs a user owns through: the user's own ref, then,
// sorted, every group it is a member of (memberOf relations, whichever side
// declared them) and every group above those (childOf relations, followed
// up to [MaxGroupDepth] parents). Refs are canonical and appear once. Only
// group refs are followed, as Backstage counts only group memberships
// toward ownership.
//
// Only entities that grant (see [grants]) count: the user must be one for
// found to be true, and a group that is not one is left out and not climbed
// through, so a removed team no longer links its members to the groups
// above it. When the user is not found, refs is its own ref alone: the
// groups that still name a removed user grant it nothing.
//
// It is one query: the recursion keeps (group, depth) rows, so a cycle of
// parents adds one row per depth and stops at the cap.
func (db *DB) Ownership(ctx context.Context, userRef string) (refs []string, found bool, err error) {
	userRef = strings.ToLower(userRef)
	var rows []struct {
		Ref    string `db:"ref"`
		IsUser int    `db:"is_user"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		WITH RECURSIVE member_of (ref, depth) AS (
			SELECT r.target_ref, 1
			FROM relations r JOIN entities g ON g.ref = r.target_ref AND `+grants("g")+`
			WHERE r.source_ref = ? AND r.type = ? AND r.target_ref LIKE 'group:%'
			UNION
			SELECT r.target_ref, m.depth + 1
			FROM member_of m JOIN relations r ON r.source_ref = m.ref
			JOIN entities g ON g.ref = r.target_ref AND `+grants("g")+`
			WHERE m.depth <= ? AND r.type = ? AND r.target_ref LIKE 'group:%'
		)
		SELECT ref, 0 AS is_user FROM member_of
		UNION
		SELECT ref, 1 AS is_user FROM entities e WHERE ref = ? AND `+grants("e")+`
		ORDER BY is_user DESC, ref`),
		userRef, catalog.RelationMemberOf, MaxGroupDepth, catalog.RelationChildOf, userRef); err != nil {
		return nil, false, fmt.Errorf("store: ownership of %s: %w", userRef, formatError(err))
	}
	refs = make([]string, 0, len(rows)+1)
	refs = append(refs, userRef)
	for _, r := range rows {
		if r.IsUser == 1 {
			found = true
		} else {
			refs = append(refs, r.Ref)
		}
	}
	if !found {
		refs = refs[:1]
	}
	return refs, found, nil
}

// plusAddress splits an e-mail address into the local part before any
// "+tag", the tag, and the domain, as Backstage's sign-in resolver does:
// "joe+work@acme.com" is "joe", "+work", "@acme.com".
var plusAddress = regexp.MustCompile(`^([^@+]+)(\+[^@]+)?(@.*)$`)

// UserByEmail returns the ref of the User entity whose spec.profile.email
// is email, compared case-insensitively, among the users that grant (see
// [grants]): an orphaned user's address names nobody. As Backstage does, when no user
// has the address it tries again without the "+tag" of the local part, so
// jane+ci@example.com finds jane@example.com. Returns ENOTFOUND when no
// user matches and ECONFLICT when several users have the address.
//
// Both addresses are looked up in one query; a match on the address as
// given wins over a match on the address without its tag.
func (db *DB) UserByEmail(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", portal.Errorf(portal.EINVALID, "email is empty")
	}
	untagged := email
	if m := plusAddress.FindStringSubmatch(email); m != nil {
		untagged = m[1] + m[3]
	}
	expr := `lower(` + db.d.jsonText("data", "spec", "profile", "email") + `)`
	var rows []struct {
		Ref   string `db:"ref"`
		Email string `db:"email"`
	}
	// lower(kind) is the first column of an index, so only users are read.
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT ref, `+expr+` AS email FROM entities e
		WHERE lower(kind) = 'user' AND `+expr+` IN (?, ?) AND `+grants("e")+`
		ORDER BY ref`), email, untagged); err != nil {
		return "", fmt.Errorf("store: user by email: %w", formatError(err))
	}
	for _, want := range []string{email, untagged} {
		var refs []string
		for _, r := range rows {
			if r.Email == want {
				refs = append(refs, r.Ref)
			}
		}
		switch {
		case len(refs) == 1:
			return refs[0], nil
		case len(refs) > 1:
			return "", portal.Errorf(portal.ECONFLICT, "several users have email %s: %s", want, strings.Join(refs, ", "))
		}
	}
	return "", portal.Errorf(portal.ENOTFOUND, "no user with email %s", email)
}
