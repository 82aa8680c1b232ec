package schemas

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	// Hashing with the production iteration count would make every test
	// that sets a password take a noticeable fraction of a second.
	passwordIterations = 1000
	m.Run()
}

func wantError(t *testing.T, err error, scimType, detail string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *Error with scimType %s", err, scimType)
	}
	if se.ScimType != scimType {
		t.Errorf("scimType = %q, want %q (detail %q)", se.ScimType, scimType, se.Detail)
	}
	if !strings.Contains(se.Detail, detail) {
		t.Errorf("detail = %q, want it to contain %q", se.Detail, detail)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		rt   *ResourceType
		body map[string]any
		want map[string]any
	}{
		{
			name: "canonical names and schemas",
			rt:   User,
			body: map[string]any{
				"schemas":  []any{UserURN},
				"USERNAME": "bjensen",
				"Name":     map[string]any{"GIVENNAME": "Barbara", "nope": "x"},
				"emails":   []any{map[string]any{"Value": "b@example.com", "TYPE": "work", "primary": true}},
			},
			want: map[string]any{
				"schemas":  []any{UserURN},
				"userName": "bjensen",
				"name":     map[string]any{"givenName": "Barbara"},
				"emails":   []any{map[string]any{"value": "b@example.com", "type": "work", "primary": true}},
			},
		},
		{
			name: "server and readOnly and unknown attributes dropped",
			rt:   User,
			body: map[string]any{
				"id":                          "client-chosen",
				"meta":                        map[string]any{"created": "2020-01-01T00:00:00Z"},
				"userName":                    "bjensen",
				"groups":                      []any{map[string]any{"value": "g1"}},
				"nope":                        "x",
				"urn:example:custom:2.0:User": map[string]any{"x": "y"},
				EnterpriseUserURN: map[string]any{
					"manager": map[string]any{"value": "m1", "displayName": "Boss"},
				},
			},
			want: map[string]any{
				"schemas":         []any{UserURN, EnterpriseUserURN},
				"userName":        "bjensen",
				EnterpriseUserURN: map[string]any{"manager": map[string]any{"value": "m1"}},
			},
		},
		{
			name: "Entra string booleans and extension URN in other case",
			rt:   User,
			body: map[string]any{
				"userName": "bjensen",
				"active":   "False",
				"emails":   []any{map[string]any{"value": "b@example.com", "primary": "TRUE"}},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": map[string]any{
					"Department": "Ops",
					"manager":    "m1",
				},
			},
			want: map[string]any{
				"schemas":  []any{UserURN, EnterpriseUserURN},
				"userName": "bjensen",
				"active":   false,
				"emails":   []any{map[string]any{"value": "b@example.com", "primary": true}},
				EnterpriseUserURN: map[string]any{
					"department": "Ops",
					"manager":    map[string]any{"value": "m1"},
				},
			},
		},
		{
			name: "dotted and URN-qualified keys",
			rt:   User,
			body: map[string]any{
				"userName":                        "bjensen",
				"name.familyName":                 "Jensen",
				UserURN + ":title":                "Tour Guide",
				EnterpriseUserURN + ":costCenter": "4130",
			},
			want: map[string]any{
				"schemas":         []any{UserURN, EnterpriseUserURN},
				"userName":        "bjensen",
				"name":            map[string]any{"familyName": "Jensen"},
				"title":           "Tour Guide",
				EnterpriseUserURN: map[string]any{"costCenter": "4130"},
			},
		},
		{
			name: "empty values dropped",
			rt:   User,
			body: map[string]any{
				"userName":        "bjensen",
				"title":           "",
				"nickName":        nil,
				"emails":          []any{},
				"name":            map[string]any{"givenName": ""},
				EnterpriseUserURN: map[string]any{"manager": ""},
			},
			want: map[string]any{
				"schemas":  []any{UserURN},
				"userName": "bjensen",
			},
		},
		{
			name: "single value for multi-valued attribute and duplicates",
			rt:   User,
			body: map[string]any{
				"userName": "bjensen",
				"emails":   map[string]any{"value": "b@example.com"},
				"roles":    []any{map[string]any{"value": "a"}, map[string]any{"value": "a"}},
			},
			want: map[string]any{
				"schemas":  []any{UserURN},
				"userName": "bjensen",
				"emails":   []any{map[string]any{"value": "b@example.com"}},
				"roles":    []any{map[string]any{"value": "a"}},
			},
		},
		{
			name: "group keeps members for TakeMembers",
			rt:   Group,
			body: map[string]any{
				"schemas":     []any{GroupURN},
				"displayName": "Admins",
				"externalId":  "e1",
				"members":     []any{map[string]any{"value": "u1", "display": "One"}, "u2"},
			},
			want: map[string]any{
				"schemas":     []any{GroupURN},
				"displayName": "Admins",
				"externalId":  "e1",
				"members":     []any{map[string]any{"value": "u1", "display": "One"}, map[string]any{"value": "u2"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rt.Normalize(tt.body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeInvalid(t *testing.T) {
	tests := []struct {
		name     string
		rt       *ResourceType
		body     map[string]any
		scimType string
		detail   string
	}{
		{"missing userName", User, map[string]any{"name": map[string]any{"givenName": "B"}}, "invalidValue", "userName is required"},
		{"blank userName", User, map[string]any{"userName": "  "}, "invalidValue", "userName is required"},
		{"missing group displayName", Group, map[string]any{"members": []any{}}, "invalidValue", "displayName is required"},
		{"userName not a string", User, map[string]any{"userName": 5.0}, "invalidValue", "userName must be a string"},
		{"active not a boolean", User, map[string]any{"userName": "b", "active": "yes"}, "invalidValue", "active must be true or false"},
		{"active a number", User, map[string]any{"userName": "b", "active": 1.0}, "invalidValue", "active must be true or false"},
		{"two primary emails", User, map[string]any{"userName": "b", "emails": []any{
			map[string]any{"value": "a@x", "primary": true},
			map[string]any{"value": "b@x", "primary": "True"},
		}}, "invalidValue", "emails has more than one value with primary true"},
		{"name not an object", User, map[string]any{"userName": "b", "name": 3.0}, "invalidValue", "name must be an object"},
		{"email value not a string", User, map[string]any{"userName": "b", "emails": []any{map[string]any{"value": true}}}, "invalidValue", "emails.value must be a string"},
		{"certificate not base64", User, map[string]any{"userName": "b", "x509Certificates": []any{map[string]any{"value": "%%%"}}}, "invalidValue", "x509Certificates.value must be base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.rt.Normalize(tt.body)
			wantError(t, err, tt.scimType, tt.detail)
		})
	}
}

func TestNormalizePassword(t *testing.T) {
	got, err := User.Normalize(map[string]any{"userName": "b", "password": "t1meMa$heen"})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	hash, ok := got["password"].(string)
	if !ok {
		t.Fatalf("password = %#v, want a hash string", got["password"])
	}
	if strings.Contains(hash, "t1meMa$heen") || !strings.HasPrefix(hash, "$pbkdf2-sha256$i=1000$") {
		t.Errorf("password = %q, want a PBKDF2-SHA256 hash", hash)
	}
	if !VerifyPassword(hash, "t1meMa$heen") {
		t.Errorf("VerifyPassword(hash, right password) = false")
	}
	if VerifyPassword(hash, "t1meMa$heem") {
		t.Errorf("VerifyPassword(hash, wrong password) = true")
	}
	again, err := User.Normalize(map[string]any{"userName": "b", "password": "t1meMa$heen"})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if again["password"] == hash {
		t.Errorf("two hashes of one password are equal, want a random salt")
	}
	for _, bad := range []string{"", "plain", "$pbkdf2-sha256$i=x$a$b", "$pbkdf2-sha256$i=10$!!$b"} {
		if VerifyPassword(bad, "") {
			t.Errorf("VerifyPassword(%q) = true", bad)
		}
	}
}

func TestTakeMembers(t *testing.T) {
	attrs := map[string]any{
		"displayName": "Admins",
		"members": []any{
			map[string]any{"value": "u1"},
			map[string]any{"value": "u2", "display": "Two"},
			map[string]any{"value": "u1"},
		},
	}
	ids, err := TakeMembers(attrs)
	if err != nil {
		t.Fatalf("TakeMembers: %v", err)
	}
	if diff := cmp.Diff([]string{"u1", "u2"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if _, ok := attrs["members"]; ok {
		t.Errorf("members still in attrs")
	}

	ids, err = TakeMembers(map[string]any{"displayName": "x"})
	if err != nil || len(ids) != 0 {
		t.Errorf("TakeMembers without members = %v, %v; want none", ids, err)
	}

	_, err = TakeMembers(map[string]any{"members": []any{map[string]any{"display": "no value"}}})
	wantError(t, err, "invalidValue", "every member needs a non-empty value")
}

func TestCheckImmutable(t *testing.T) {
	// scimd's schemas have no singular immutable attribute, so this test
	// uses a resource type with one.
	code := &Attribute{Name: "code", Type: String, Mutability: "immutable"}
	rt := &ResourceType{Name: "Test", Schema: &Schema{ID: "urn:test", Attributes: []*Attribute{code}}}

	tests := []struct {
		name     string
		old, new map[string]any
		wantErr  bool
	}{
		{"set for the first time", map[string]any{}, map[string]any{"code": "a"}, false},
		{"unchanged", map[string]any{"code": "a"}, map[string]any{"code": "a"}, false},
		{"left out", map[string]any{"code": "a"}, map[string]any{}, false},
		{"changed", map[string]any{"code": "a"}, map[string]any{"code": "b"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rt.CheckImmutable(tt.old, tt.new)
			if !tt.wantErr {
				if err != nil {
					t.Errorf("CheckImmutable: %v", err)
				}
				return
			}
			wantError(t, err, "mutability", "code is immutable")
		})
	}

	// Group members are multi-valued: new values are additions.
	old := map[string]any{"displayName": "a", "members": []any{map[string]any{"value": "u1"}}}
	new := map[string]any{"displayName": "b", "members": []any{map[string]any{"value": "u2"}}}
	if err := Group.CheckImmutable(old, new); err != nil {
		t.Errorf("Group.CheckImmutable: %v", err)
	}
}

// typedResource is a resource type with one attribute of each type that
// scimd's own schemas do not use, to test conversion.
func typedResource() *ResourceType {
	attrs := []*Attribute{
		{Name: "count", Type: Integer, Mutability: "readWrite", Returned: "default"},
		{Name: "ratio", Type: Decimal, Mutability: "readWrite", Returned: "default"},
		{Name: "since", Type: DateTime, Mutability: "readWrite", Returned: "default"},
		{Name: "code", Type: String, Mutability: "immutable", Returned: "default"},
	}
	return &ResourceType{Name: "Typed", Schema: &Schema{ID: "urn:typed", Attributes: attrs}}
}

func TestNormalizeTypes(t *testing.T) {
	rt := typedResource()
	tests := []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"integer from number", map[string]any{"count": 42.0}, map[string]any{"count": int64(42)}},
		{"integer from string", map[string]any{"count": " 42"}, map[string]any{"count": int64(42)}},
		{"decimal from string", map[string]any{"ratio": "1.5"}, map[string]any{"ratio": 1.5}},
		{"decimal from number", map[string]any{"ratio": 2.0}, map[string]any{"ratio": 2.0}},
		{"dateTime in UTC", map[string]any{"since": "2026-01-02T04:04:05+01:00"}, map[string]any{"since": "2026-01-02T03:04:05Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rt.Normalize(tt.body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			tt.want["schemas"] = []any{"urn:typed"}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
		})
	}

	invalid := []struct {
		name   string
		body   map[string]any
		detail string
	}{
		{"fractional integer", map[string]any{"count": 1.5}, "count must be an integer"},
		{"integer from words", map[string]any{"count": "many"}, "count must be an integer"},
		{"decimal from boolean", map[string]any{"ratio": true}, "ratio must be a number"},
		{"dateTime without zone", map[string]any{"since": "2026-01-02T03:04:05"}, "since must be an RFC 3339 dateTime"},
		{"dateTime as number", map[string]any{"since": 5.0}, "since must be a dateTime string"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Normalize(tt.body)
			wantError(t, err, "invalidValue", tt.detail)
		})
	}
}

func TestPatchImmutable(t *testing.T) {
	rt := typedResource()
	tests := []struct {
		name    string
		attrs   map[string]any
		ops     string
		wantErr bool
	}{
		{"set when absent", map[string]any{}, `[{"op":"add","path":"code","value":"a"}]`, false},
		{"same value", map[string]any{"code": "a"}, `[{"op":"replace","path":"code","value":"a"}]`, false},
		{"changed", map[string]any{"code": "a"}, `[{"op":"replace","path":"code","value":"b"}]`, true},
		{"removed", map[string]any{"code": "a"}, `[{"op":"remove","path":"code"}]`, true},
		{"changed path-less", map[string]any{"code": "a"}, `[{"op":"replace","value":{"code":"b"}}]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.ApplyPatch(tt.attrs, ops(t, tt.ops))
			if !tt.wantErr {
				if err != nil {
					t.Errorf("ApplyPatch: %v", err)
				}
				return
			}
			wantError(t, err, "mutability", "code is immutable")
		})
	}
}

func TestLargeGroupMembers(t *testing.T) {
	const n = 20000
	members := make([]any, n)
	for i := range members {
		members[i] = map[string]any{"value": fmt.Sprintf("user-%05d", i)}
	}

	start := time.Now()
	attrs, err := Group.Normalize(map[string]any{"displayName": "All", "members": members})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	ids, err := TakeMembers(attrs)
	if err != nil {
		t.Fatalf("TakeMembers: %v", err)
	}
	if len(ids) != n {
		t.Errorf("TakeMembers returned %d ids, want %d", len(ids), n)
	}
	got, err := Group.ApplyPatch(attrs, []PatchOp{
		{Op: "add", Path: "members", Value: members},
		{Op: "remove", Path: "members", Value: members[:n/2]},
	})
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	if len(got.Members.Add) != n/2 || len(got.Members.Remove) != n/2 {
		t.Errorf("members patch adds %d and removes %d, want %d each", len(got.Members.Add), len(got.Members.Remove), n/2)
	}
	// The bound catches quadratic work, which takes minutes at this size.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d members took %v", n, d)
	}
}
