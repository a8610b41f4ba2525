package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// whoami answers with the principal the request runs as.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p := portal.PrincipalFromContext(r.Context())
	fmt.Fprintf(w, "%s %s", p.Kind, p.Ref)
})

// resolveTestUser maps subjects to principals, and some to failures.
func resolveTestUser(_ context.Context, c *auth.Claims) (*portal.Principal, error) {
	switch c.Subject {
	case "user:default/banned":
		return nil, portal.Errorf(portal.EFORBIDDEN, "user:default/banned may not sign in")
	case "user:default/ghost":
		return nil, portal.Errorf(portal.EUNAUTHENTICATED, "user:default/ghost is not in the catalog")
	case "user:default/broken":
		return nil, errors.New("store: query users: dial tcp 10.0.0.5:5432: connection refused")
	case "user:default/nobody":
		return nil, nil
	}
	return &portal.Principal{Kind: portal.PrincipalUser, Ref: c.Subject, Ownership: []string{c.Subject}}, nil
}

// graphQLError is the body of a refused request.
type graphQLError struct {
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	v := MustVerifier(t, auth.Config{
		Secret: testSecret, Issuer: testIssuer, Audience: []string{testAudience}, Logger: newLogger(&logs),
	}, nil)
	srv := httptest.NewServer(auth.Middleware(v, resolveTestUser, whoami))
	t.Cleanup(srv.Close)

	token := func(sub string) string {
		return MustSign(t, jwt.SigningMethodHS256, []byte(testSecret), "", validClaims(jwt.MapClaims{"sub": sub}))
	}
	expired := MustSign(t, jwt.SigningMethodHS256, []byte(testSecret), "", validClaims(jwt.MapClaims{
		"exp": time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Unix(),
	}))
	tests := []struct {
		name          string
		authorization []string
		wantStatus    int
		wantBody      string // the principal on success, the error message otherwise
		wantCode      string
		wantChallenge string
	}{
		{"Anonymous", nil, http.StatusOK, "anonymous ", "", ""},
		{"Bearer", []string{"Bearer " + token(testSubject)}, http.StatusOK, "user " + testSubject, "", ""},
		{"BearerAnyCase", []string{"bEaReR  " + token(testSubject)}, http.StatusOK, "user " + testSubject, "", ""},
		{"ErrBasic", []string{"Basic amFuZTpodW50ZXIy"}, http.StatusUnauthorized,
			"the Authorization header must use the Bearer scheme", portal.EUNAUTHENTICATED, `Bearer`},
		{"ErrEmptyHeader", []string{""}, http.StatusUnauthorized,
			"the Authorization header must use the Bearer scheme", portal.EUNAUTHENTICATED, `Bearer`},
		{"ErrTwoHeaders", []string{"Bearer " + token(testSubject), "Bearer " + token(testSubject)}, http.StatusUnauthorized,
			"send one Authorization header, not 2", portal.EUNAUTHENTICATED, `Bearer error="invalid_token"`},
		{"ErrEmptyToken", []string{"Bearer "}, http.StatusUnauthorized,
			"the token is empty", portal.EUNAUTHENTICATED, `Bearer error="invalid_token"`},
		{"ErrExpired", []string{"Bearer " + expired}, http.StatusUnauthorized,
			"the token expired at 2020-01-02T03:04:05Z", portal.EUNAUTHENTICATED, `Bearer error="invalid_token"`},
		{"ErrGarbage", []string{"Bearer not-a-jwt"}, http.StatusUnauthorized,
			"the token is malformed: a JWT has three dot-separated parts", portal.EUNAUTHENTICATED, `Bearer error="invalid_token"`},
		{"ErrResolveUnauthenticated", []string{"Bearer " + token("user:default/ghost")}, http.StatusUnauthorized,
			"user:default/ghost is not in the catalog", portal.EUNAUTHENTICATED, `Bearer error="invalid_token"`},
		{"ErrResolveForbidden", []string{"Bearer " + token("user:default/banned")}, http.StatusForbidden,
			"user:default/banned may not sign in", portal.EFORBIDDEN, ""},
		{"ErrResolveInternal", []string{"Bearer " + token("user:default/broken")}, http.StatusInternalServerError,
			"internal error", portal.EINTERNAL, ""},
		{"ErrResolveNoPrincipal", []string{"Bearer " + token("user:default/nobody")}, http.StatusInternalServerError,
			"internal error", portal.EINTERNAL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/graphql", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.authorization {
				req.Header.Add("Authorization", h)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d; want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tt.wantChallenge)
			}
			if tt.wantCode == "" {
				if string(body) != tt.wantBody {
					t.Errorf("body = %q; want %q", body, tt.wantBody)
				}
				return
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", got)
			}
			var got graphQLError
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			want := graphQLError{Errors: make([]struct {
				Message    string `json:"message"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			}, 1)}
			want.Errors[0].Message = tt.wantBody
			want.Errors[0].Extensions.Code = tt.wantCode
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// Internal failures are logged with their cause, which the client never sees.
	got := logs.String()
	if !strings.Contains(got, "connection refused") || !strings.Contains(got, "returned no principal") {
		t.Errorf("logs = %q; want both internal errors", got)
	}
}

func TestMiddleware_RawBody(t *testing.T) {
	t.Parallel()
	v := MustVerifier(t, auth.Config{Secret: testSecret}, nil)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer ")
	auth.Middleware(v, resolveTestUser, whoami).ServeHTTP(rec, req)

	const want = `{"errors":[{"message":"the token is empty","extensions":{"code":"UNAUTHENTICATED"}}]}` + "\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body = %s; want %s", got, want)
	}
}

func TestDevMiddleware(t *testing.T) {
	t.Parallel()
	guest := &portal.Principal{Kind: portal.PrincipalUser, Ref: portal.GuestRef, Ownership: []string{portal.GuestRef}}
	srv := httptest.NewServer(auth.DevMiddleware(guest, whoami))
	t.Cleanup(srv.Close)

	for _, authorization := range []string{"", "Bearer not-a-jwt"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != "user "+portal.GuestRef {
			t.Errorf("Authorization %q: got %d %q; want 200 %q", authorization, resp.StatusCode, body, "user "+portal.GuestRef)
		}
	}
}
