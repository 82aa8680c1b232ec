package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchOpURN    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimJSON      = "application/scim+json"
)

// client sends requests to one base URL with one bearer credential.
type client struct {
	http  *http.Client
	base  string // for example http://127.0.0.1:8080/scim/v2
	token string
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        128,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// statusError is a response with an unexpected status code.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.path, e.status, e.body)
}

// do sends a request and decodes a JSON response into out (when out is
// not nil and the response has a body). Any status other than want is
// returned as a *statusError.
func (c *client) do(ctx context.Context, method, path string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}

	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", scimJSON)
	if body != nil {
		req.Header.Set("Content-Type", scimJSON)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{method, path, resp.StatusCode, strings.TrimSpace(string(b))}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		// Drain so that the connection is reused.
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// patch sends a PATCH and accepts 200 (resource returned) or 204, both
// allowed by RFC 7644 §3.5.2. The response body is read and discarded, as
// a provisioning client does.
func (c *client) patch(ctx context.Context, path string, ops ...map[string]any) error {
	body := map[string]any{"schemas": []string{patchOpURN}, "Operations": ops}
	err := c.do(ctx, http.MethodPatch, path, body, nil, http.StatusOK)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNoContent {
		return nil
	}
	return err
}

// listResponse is the part of a SCIM ListResponse that the benchmark
// reads. Resources stay raw: decoding them fully would measure the client.
type listResponse struct {
	TotalResults int               `json:"totalResults"`
	ItemsPerPage int               `json:"itemsPerPage"`
	StartIndex   int               `json:"startIndex"`
	NextCursor   string            `json:"nextCursor"`
	Resources    []json.RawMessage `json:"Resources"`
}

func (c *client) list(ctx context.Context, path string, params url.Values) (*listResponse, error) {
	var lr listResponse
	if err := c.do(ctx, http.MethodGet, path+"?"+params.Encode(), nil, &lr, http.StatusOK); err != nil {
		return nil, err
	}
	return &lr, nil
}

// filterEq returns the query parameters of `attr eq "value"`.
func filterEq(attr, value string) url.Values {
	v, _ := json.Marshal(value)
	return url.Values{"filter": {attr + " eq " + string(v)}}
}

// lookupOne runs an eq filter and fails unless exactly want resources
// match, so that a wrong result never counts as a fast one.
func (c *client) lookupOne(ctx context.Context, path, attr, value string, want int) error {
	lr, err := c.list(ctx, path, filterEq(attr, value))
	if err != nil {
		return err
	}
	if lr.TotalResults != want {
		return fmt.Errorf("filter %s eq %q on %s: got %d results, want %d", attr, value, path, lr.TotalResults, want)
	}
	return nil
}

// adminClient calls the admin API.
type adminClient struct{ c *client }

func (a adminClient) createSandbox(ctx context.Context, id, name string) error {
	body := map[string]string{"id": id, "displayName": name}
	return a.c.do(ctx, http.MethodPost, "/sandboxes", body, nil, http.StatusCreated)
}

// issueCredential returns the secret of a new credential for the tenant.
func (a adminClient) issueCredential(ctx context.Context, tenant string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]string{"tenant": tenant, "description": "scimbench"}
	if err := a.c.do(ctx, http.MethodPost, "/credentials", body, &out, http.StatusCreated); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("issue credential for %s: response has no token", tenant)
	}
	return out.Token, nil
}
