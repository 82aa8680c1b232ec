package scimserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimd/scimd/scimserver"
)

// idpFixture is a provisioning sequence as an identity provider sends it,
// replayed against a live scimd with a main account and sandboxes. The
// request shapes follow the provider's public SCIM documentation.
type idpFixture struct {
	Description string `json:"description"`
	// Sandboxes are created through the admin API before the steps run,
	// each with a credential of its own.
	Sandboxes []string  `json:"sandboxes"`
	Steps     []idpStep `json:"steps"`
	// Final is the state every tenant must show after the steps, keyed by
	// "main" or the sandbox id.
	Final map[string]idpTenantState `json:"final"`
}

type idpStep struct {
	Name string `json:"name"`
	// Tenant is "main" or a sandbox id. The step uses that tenant's SCIM
	// base URL and credential.
	Tenant string          `json:"tenant"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
	Expect idpExpect       `json:"expect"`
	// Capture stores response values as variables: variable name to
	// property path (see jsonProperty). Later steps use them as {{name}}.
	Capture map[string]string `json:"capture"`
}

type idpExpect struct {
	Status int        `json:"status"`
	JSON   []idpCheck `json:"json"`
}

// idpCheck checks one property of the response body. Exactly one of
// Equals, Absent and Length is set.
type idpCheck struct {
	Path   string          `json:"path"`
	Equals json.RawMessage `json:"equals"`
	Absent bool            `json:"absent"`
	Length *int            `json:"length"`
}

// idpTenantState is what one tenant shows: its users by userName with
// selected attributes, and its groups by displayName with the userNames of
// their members.
type idpTenantState struct {
	Users  map[string]map[string]json.RawMessage `json:"users"`
	Groups map[string][]string                   `json:"groups"`
}

// TestIdPProvisioningOkta replays Okta's provisioning requests: lookup by
// userName, create, profile push with PUT, deactivation with a path-less
// replace of active, group push with membership batches and a rename that
// carries the group id.
func TestIdPProvisioningOkta(t *testing.T) {
	runIdPFixture(t, "okta.json")
}

// TestIdPProvisioningEntra replays Microsoft Entra ID's provisioning
// requests: capitalised ops, "True"/"False" strings, path-less dotted keys,
// member removal by path "members" plus a value list, and membership
// replacement with an empty list.
func TestIdPProvisioningEntra(t *testing.T) {
	runIdPFixture(t, "entra.json")
}

func runIdPFixture(t *testing.T, name string) {
	fx := readIdPFixture(t, filepath.Join("testdata", "idp", name))
	if len(fx.Steps) == 0 || len(fx.Final) == 0 {
		t.Fatalf("fixture %s has no steps or no final state", name)
	}

	srv := startTestServer(t, scimserver.Config{})
	tokens := map[string]string{"main": srv.mainToken}
	for _, id := range fx.Sandboxes {
		tokens[id] = createSandboxThroughAdminAPI(t, srv, id)
	}

	vars := map[string]string{}
	for i, step := range fx.Steps {
		ok := t.Run(fmt.Sprintf("%02d %s", i+1, step.Name), func(t *testing.T) {
			runIdPStep(t, srv, tokens, step, vars)
		})
		if !ok {
			// Later steps depend on the state and variables this one sets.
			t.Fatalf("step %d failed; later steps skipped", i+1)
		}
	}

	for _, tenant := range sortedKeys(fx.Final) {
		t.Run("final state "+tenant, func(t *testing.T) {
			checkTenantState(t, srv, tokens, tenant, fx.Final[tenant])
		})
	}
}

// readIdPFixture decodes a fixture and rejects unknown fields, so that a
// misspelled check fails instead of being ignored.
func readIdPFixture(t *testing.T, path string) idpFixture {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var fx idpFixture
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		t.Fatalf("decode fixture %s: %v", path, err)
	}
	return fx
}

func runIdPStep(t *testing.T, srv *testServer, tokens map[string]string, step idpStep, vars map[string]string) {
	token, ok := tokens[step.Tenant]
	if !ok {
		t.Fatalf("unknown tenant %q", step.Tenant)
	}
	path, err := substituteVariables(step.Path, vars)
	if err != nil {
		t.Fatalf("path: %v", err)
	}
	body, err := substituteVariables(string(step.Body), vars)
	if err != nil {
		t.Fatalf("body: %v", err)
	}

	r := srv.send(t, token, step.Method, scimPrefix(step.Tenant)+escapeQuery(path), body)
	resp := r.body
	if r.status != step.Expect.Status {
		t.Fatalf("%s %s: got status %d, want %d; body %s", step.Method, path, r.status,
			step.Expect.Status, truncate(resp, 600))
	}

	var doc any
	if len(step.Expect.JSON) > 0 || len(step.Capture) > 0 {
		if err := json.Unmarshal(resp, &doc); err != nil {
			t.Fatalf("decode response %q: %v", truncate(resp, 200), err)
		}
	}
	for _, c := range step.Expect.JSON {
		checkIdPProperty(t, doc, c, vars)
	}
	for name, property := range step.Capture {
		v, ok := jsonProperty(doc, property)
		if !ok {
			t.Fatalf("capture %s: property %s not in the response %s", name, property, truncate(resp, 300))
		}
		vars[name] = radarText(v)
	}
}

func checkIdPProperty(t *testing.T, doc any, c idpCheck, vars map[string]string) {
	t.Helper()

	got, present := jsonProperty(doc, c.Path)
	switch {
	case c.Absent:
		if present {
			t.Errorf("%s: got %s, want it absent", c.Path, radarText(got))
		}
	case c.Length != nil:
		arr, _ := got.([]any)
		if !present || len(arr) != *c.Length {
			t.Errorf("%s: got %s, want an array of length %d", c.Path, radarText(got), *c.Length)
		}
	case len(c.Equals) > 0:
		raw, err := substituteVariables(string(c.Equals), vars)
		if err != nil {
			t.Fatalf("%s: %v", c.Path, err)
		}
		var want any
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: invalid expected value %s: %v", c.Path, raw, err)
		}
		if !present {
			t.Errorf("%s: missing, want %s", c.Path, raw)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", c.Path, diff)
		}
	default:
		t.Fatalf("check of %s sets none of equals, absent, length", c.Path)
	}
}

// checkTenantState lists the tenant's users and groups and compares them
// with the fixture's final state. It also checks that each user's groups
// attribute names exactly the tenant's groups that list the user as a
// member.
func checkTenantState(t *testing.T, srv *testServer, tokens map[string]string, tenant string, want idpTenantState) {
	token := tokens[tenant]
	users := listAll(t, srv, token, scimPrefix(tenant)+"/Users")
	groups := listAll(t, srv, token, scimPrefix(tenant)+"/Groups")

	userNames := map[string]string{} // by id
	byName := map[string]map[string]any{}
	for _, u := range users {
		id, _ := u["id"].(string)
		name, _ := u["userName"].(string)
		userNames[id] = name
		byName[name] = u
	}
	if diff := cmp.Diff(sortedKeys(want.Users), sortedKeys(byName), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	for name, attrs := range want.Users {
		u, ok := byName[name]
		if !ok {
			continue
		}
		for path, value := range attrs {
			checkIdPProperty(t, u, idpCheck{Path: path, Equals: value}, nil)
		}
	}

	gotGroups := map[string][]string{}
	memberOf := map[string][]string{} // userName to group displayNames
	for _, g := range groups {
		display, _ := g["displayName"].(string)
		id, _ := g["id"].(string)
		members := groupMemberNames(t, srv, token, tenant, id, userNames)
		gotGroups[display] = members
		for _, m := range members {
			memberOf[m] = append(memberOf[m], display)
		}
	}
	if diff := cmp.Diff(want.Groups, gotGroups, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("groups and members (-want +got):\n%s", diff)
	}

	for name, u := range byName {
		var listed []string
		refs, _ := u["groups"].([]any)
		for _, r := range refs {
			ref, _ := r.(map[string]any)
			display, _ := ref["display"].(string)
			listed = append(listed, display)
		}
		sort.Strings(listed)
		sort.Strings(memberOf[name])
		if diff := cmp.Diff(memberOf[name], listed, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("user %s: groups attribute (-members of +listed):\n%s", name, diff)
		}
	}
}

// groupMemberNames reads a group and returns its members' userNames,
// sorted. A member outside the tenant's user list is reported by id.
func groupMemberNames(t *testing.T, srv *testServer, token, tenant, id string, userNames map[string]string) []string {
	t.Helper()

	r := srv.send(t, token, http.MethodGet, scimPrefix(tenant)+"/Groups/"+url.PathEscape(id), "")
	body := r.body
	if r.status != http.StatusOK {
		t.Fatalf("get group %s: got status %d, want 200; body %s", id, r.status, truncate(body, 300))
	}
	var g struct {
		Members []struct {
			Value string `json:"value"`
		} `json:"members"`
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatalf("decode group %s: %v; body %s", id, err, truncate(body, 300))
	}

	names := []string{}
	for _, m := range g.Members {
		name, ok := userNames[m.Value]
		if !ok {
			name = "id " + m.Value + " (not a user of the tenant)"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// listAll pages through a list endpoint with startIndex and count.
func listAll(t *testing.T, srv *testServer, token, path string) []map[string]any {
	t.Helper()

	var all []map[string]any
	for start := 1; ; {
		r := srv.send(t, token, http.MethodGet, fmt.Sprintf("%s?startIndex=%d&count=100", path, start), "")
		body := r.body
		if r.status != http.StatusOK {
			t.Fatalf("list %s: got status %d, want 200; body %s", path, r.status, truncate(body, 300))
		}
		var page struct {
			TotalResults int              `json:"totalResults"`
			Resources    []map[string]any `json:"Resources"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode list %s: %v", path, err)
		}
		all = append(all, page.Resources...)
		if len(page.Resources) == 0 || len(all) >= page.TotalResults {
			return all
		}
		start += len(page.Resources)
	}
}

func scimPrefix(tenant string) string {
	if tenant == "main" {
		return "/scim/v2"
	}
	return "/sandboxes/" + url.PathEscape(tenant) + "/scim/v2"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
