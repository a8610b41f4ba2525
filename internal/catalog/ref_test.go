package catalog_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

func TestParseRef(t *testing.T) {
	const (
		notOnForm   = "was not on the form [<kind>:][<namespace>/]<name>"
		missingKind = "had missing or empty kind"
	)
	tests := []struct {
		name     string
		in       string
		defaults catalog.RefDefaults
		want     catalog.Ref
		wantErr  string // substring of the error; "" expects success
	}{
		{name: "Full", in: "component:default/artist-web", want: catalog.Ref{Kind: "component", Namespace: "default", Name: "artist-web"}},
		{name: "FullKeepsCase", in: "Component:Team-A/Artist_Web.v2", want: catalog.Ref{Kind: "Component", Namespace: "Team-A", Name: "Artist_Web.v2"}},
		{name: "FullIgnoresDefaults", in: "user:ns/jdoe", defaults: catalog.RefDefaults{Kind: "Group", Namespace: "other"}, want: catalog.Ref{Kind: "user", Namespace: "ns", Name: "jdoe"}},
		{name: "KindAndNameDefaultNamespace", in: "group:team-a", want: catalog.Ref{Kind: "group", Namespace: "default", Name: "team-a"}},
		{name: "KindAndNameGivenNamespace", in: "group:team-a", defaults: catalog.RefDefaults{Namespace: "ops"}, want: catalog.Ref{Kind: "group", Namespace: "ops", Name: "team-a"}},
		{name: "NameOnlyDefaultKind", in: "team-a", defaults: catalog.RefDefaults{Kind: "Group"}, want: catalog.Ref{Kind: "Group", Namespace: "default", Name: "team-a"}},
		{name: "NameOnlyBothDefaults", in: "team-a", defaults: catalog.RefDefaults{Kind: "Group", Namespace: "ops"}, want: catalog.Ref{Kind: "Group", Namespace: "ops", Name: "team-a"}},
		{name: "NamespaceAndNameDefaultKind", in: "ops/team-a", defaults: catalog.RefDefaults{Kind: "Group", Namespace: "other"}, want: catalog.Ref{Kind: "Group", Namespace: "ops", Name: "team-a"}},
		{name: "NameWithAt", in: "john@example.com", defaults: catalog.RefDefaults{Kind: "Group"}, want: catalog.Ref{Kind: "Group", Namespace: "default", Name: "john@example.com"}},
		{name: "NameOnlyNoDefaultKind", in: "artists-db", wantErr: missingKind},
		{name: "NamespaceAndNameNoDefaultKind", in: "default/artists-db", wantErr: missingKind},
		{name: "NoDefaultKindOnlyNamespaceDefault", in: "artists-db", defaults: catalog.RefDefaults{Namespace: "ops"}, wantErr: missingKind},

		// Quirks of Backstage's parseRefString (backstage-spec.md §1.4).
		{name: "SlashBeforeColonDisablesKind", in: "a/b:c", defaults: catalog.RefDefaults{Kind: "Component"}, want: catalog.Ref{Kind: "Component", Namespace: "a", Name: "b:c"}},
		{name: "SlashBeforeColonNoDefaultKind", in: "a/b:c", wantErr: missingKind},
		{name: "NameContainsSlash", in: "component:default/x/y", want: catalog.Ref{Kind: "component", Namespace: "default", Name: "x/y"}},
		{name: "NameContainsSlashNoKind", in: "ns/x/y", defaults: catalog.RefDefaults{Kind: "Component"}, want: catalog.Ref{Kind: "Component", Namespace: "ns", Name: "x/y"}},
		{name: "NameContainsColon", in: "a:b:c", want: catalog.Ref{Kind: "a", Namespace: "default", Name: "b:c"}},
		{name: "NamespaceThenNameWithColon", in: "component:a/b:c", want: catalog.Ref{Kind: "component", Namespace: "a", Name: "b:c"}},
		{name: "NameContainsColonAndSlash", in: "resource:ns/a:b/c", want: catalog.Ref{Kind: "resource", Namespace: "ns", Name: "a:b/c"}},

		// A part that is present but empty is an error, whatever the defaults.
		{name: "Empty", in: "", defaults: catalog.RefDefaults{Kind: "Group"}, wantErr: notOnForm},
		{name: "EmptyKind", in: ":x", defaults: catalog.RefDefaults{Kind: "Group"}, wantErr: notOnForm},
		{name: "EmptyNamespace", in: "component:/x", wantErr: notOnForm},
		{name: "EmptyNamespaceNoKind", in: "/x", defaults: catalog.RefDefaults{Kind: "Group"}, wantErr: notOnForm},
		{name: "EmptyName", in: "ns/", defaults: catalog.RefDefaults{Kind: "Group"}, wantErr: notOnForm},
		{name: "EmptyNameAfterKind", in: "component:", wantErr: notOnForm},
		{name: "EmptyNameAfterNamespace", in: "component:ns/", wantErr: notOnForm},
		{name: "EmptyKindAndNamespace", in: ":/x", wantErr: notOnForm},
		{name: "SlashFirstThenColon", in: "/:x", defaults: catalog.RefDefaults{Kind: "Group"}, wantErr: notOnForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := catalog.ParseRef(tt.in, tt.defaults)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseRef(%q, %+v) = %+v, nil; want error containing %q", tt.in, tt.defaults, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseRef(%q) error = %q; want it to contain %q", tt.in, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `"`+tt.in+`"`) {
					t.Errorf("ParseRef(%q) error = %q; want it to quote the reference", tt.in, err)
				}
				if got != (catalog.Ref{}) {
					t.Errorf("ParseRef(%q) ref = %+v on error; want the zero Ref", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRef(%q, %+v) error = %v; want nil", tt.in, tt.defaults, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRef(%q, %+v) mismatch (-want +got):\n%s", tt.in, tt.defaults, diff)
			}
		})
	}
}

func TestRef_String(t *testing.T) {
	tests := []struct {
		name string
		ref  catalog.Ref
		want string
	}{
		{name: "Lowercase", ref: catalog.Ref{Kind: "component", Namespace: "default", Name: "artist-web"}, want: "component:default/artist-web"},
		{name: "LowercasesAllParts", ref: catalog.Ref{Kind: "Component", Namespace: "Team-A", Name: "Artist_Web.V2"}, want: "component:team-a/artist_web.v2"},
		{name: "UppercaseKind", ref: catalog.Ref{Kind: "API", Namespace: "default", Name: "Petstore"}, want: "api:default/petstore"},
		{name: "EmptyNamespaceIsDefault", ref: catalog.Ref{Kind: "Group", Name: "Team-A"}, want: "group:default/team-a"},
		{name: "NameWithSlashAndColon", ref: catalog.Ref{Kind: "Resource", Namespace: "ns", Name: "A:B/C"}, want: "resource:ns/a:b/c"},
		{name: "NameWithAt", ref: catalog.Ref{Kind: "Group", Namespace: "default", Name: "John@Example.com"}, want: "group:default/john@example.com"},
		{name: "NonASCII", ref: catalog.Ref{Kind: "Group", Namespace: "default", Name: "ÄRZTE"}, want: "group:default/ärzte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.String(); got != tt.want {
				t.Errorf("%+v.String() = %q; want %q", tt.ref, got, tt.want)
			}
		})
	}
}

// TestParseRef_RoundTrip checks that a parsed reference stringifies to the
// lower-cased canonical form, so refs differing only in case compare equal.
func TestParseRef_RoundTrip(t *testing.T) {
	tests := []struct {
		in       string
		defaults catalog.RefDefaults
		want     string
	}{
		{in: "Component:Default/Artist-Web", want: "component:default/artist-web"},
		{in: "component:default/artist-web", want: "component:default/artist-web"},
		{in: "Team-A", defaults: catalog.RefDefaults{Kind: "Group"}, want: "group:default/team-a"},
		{in: "Team-A", defaults: catalog.RefDefaults{Kind: "Group", Namespace: "Ops"}, want: "group:ops/team-a"},
		{in: "a/b:c", defaults: catalog.RefDefaults{Kind: "Component"}, want: "component:a/b:c"},
		{in: "component:default/x/y", want: "component:default/x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := catalog.ParseRef(tt.in, tt.defaults)
			if err != nil {
				t.Fatalf("ParseRef(%q) error = %v; want nil", tt.in, err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("ParseRef(%q).String() = %q; want %q", tt.in, got, tt.want)
			}
			again, err := catalog.ParseRef(r.String(), catalog.RefDefaults{})
			if err != nil {
				t.Fatalf("ParseRef(%q) error = %v; want nil", r.String(), err)
			}
			if got := again.String(); got != tt.want {
				t.Errorf("ParseRef(%q).String() = %q; want %q", r.String(), got, tt.want)
			}
		})
	}
}

func TestMustParseRef(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		want := catalog.Ref{Kind: "Component", Namespace: "default", Name: "x/y"}
		if got := catalog.MustParseRef("Component:default/x/y"); got != want {
			t.Errorf("MustParseRef = %+v; want %+v", got, want)
		}
	})
	t.Run("PanicsWithoutKind", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("MustParseRef(\"artists-db\") did not panic; want a panic")
			}
		}()
		catalog.MustParseRef("artists-db")
	})
}
