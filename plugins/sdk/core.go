package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Core calls the core's GraphQL API as the caller of the request in hand:
// the caller's own token is forwarded, so the core's read policy and
// permission decisions apply to the plugin's reads exactly as to the
// caller's.
type Core struct {
	URL  string
	HTTP *http.Client // nil: a client with a 10 s timeout
}

// maxCoreResponse bounds what the plugin reads of one answer.
const maxCoreResponse = 16 << 20

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Query runs query with vars and decodes its data into out. An error the
// core answers keeps its code (FORBIDDEN, INVALID, …); the core not
// answering is UNAVAILABLE.
func (c Core) Query(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h := authorization(ctx); h != "" {
		req.Header.Set("Authorization", h)
	}
	client := c.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return portal.Errorf(portal.EUNAVAILABLE, "the catalog does not answer")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCoreResponse))
	if err != nil {
		return portal.Errorf(portal.EUNAVAILABLE, "the catalog's answer was cut off")
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("the core answered %s with no GraphQL response: %w", resp.Status, err)
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		if e.Extensions.Code == "" || e.Extensions.Code == portal.EINTERNAL {
			return fmt.Errorf("the core: %s", e.Message) // logged, shown as internal error
		}
		return portal.Errorf(e.Extensions.Code, "%s", e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// Viewer returns the caller as the core knows it: its ref, resolved from the
// token as the core's settings say (with auth.subject: email, the User
// whose profile has the token's e-mail; [Caller] has the token's subject
// only), and the refs it owns through (its groups).
func (c Core) Viewer(ctx context.Context) (ref string, ownership []string, err error) {
	var out struct {
		Viewer struct {
			Ref           string   `json:"ref"`
			OwnershipRefs []string `json:"ownershipRefs"`
		} `json:"viewer"`
	}
	err = c.Query(ctx, `{ viewer { ref ownershipRefs } }`, nil, &out)
	return out.Viewer.Ref, out.Viewer.OwnershipRefs, err
}

// Decision is the core's answer to whether the caller may use a permission.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
}

// Allowed asks the core whether the caller may use permission, on the
// entity resource when it is not "" (for catalog.entity.* permissions).
func (c Core) Allowed(ctx context.Context, permission, resource string) (Decision, error) {
	var out struct{ Explain Decision }
	vars := map[string]any{"p": permission}
	if resource != "" {
		vars["r"] = resource
	}
	err := c.Query(ctx, `query($p: String!, $r: String) { explain(permission: $p, resource: $r) { allowed rule reason } }`, vars, &out)
	return out.Explain, err
}

// Require returns FORBIDDEN, with the core's reason, unless the caller may
// use permission.
func (c Core) Require(ctx context.Context, permission, resource string) error {
	d, err := c.Allowed(ctx, permission, resource)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return portal.Errorf(portal.EFORBIDDEN, "%s", d.Reason)
	}
	return nil
}
