package schemas

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The tests in this file replay PATCH operations in the forms Microsoft
// Entra ID and Okta send, including where those forms deviate from
// RFC 7644.

func TestPatchEntraCapitalizedOps(t *testing.T) {
	runPatchCases(t, []patchCase{{
		name: "Replace Add Remove",
		ops: `[{"op":"Replace","path":"title","value":"Lead"},
			{"op":"Add","path":"nickName","value":"Babs"},
			{"op":"REMOVE","path":"name.givenName"}]`,
		edit: func(m map[string]any) {
			m["title"] = "Lead"
			m["nickName"] = "Babs"
			delete(m["name"].(map[string]any), "givenName")
		},
	}})
}

func TestPatchEntraStringBooleans(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "active False",
			ops:  `[{"op":"Replace","path":"active","value":"False"}]`,
			edit: func(m map[string]any) { m["active"] = false },
		},
		{
			name: "primary True on filtered value",
			ops:  `[{"op":"Replace","path":"emails[type eq \"home\"].primary","value":"True"}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"].([]any)[1].(map[string]any)["primary"] = true
			},
		},
		{
			name: "path-less active true",
			ops:  `[{"op":"Replace","value":{"active":"true"}}]`,
			edit: func(m map[string]any) { m["active"] = true },
		},
	})
}

func TestPatchEntraDottedPathlessKeys(t *testing.T) {
	runPatchCases(t, []patchCase{{
		name: "name.givenName and name.familyName",
		ops:  `[{"op":"Replace","value":{"name.givenName":"Babs","name.familyName":"Jensen-Smith","displayName":"Babs J"}}]`,
		edit: func(m map[string]any) {
			m["name"] = map[string]any{"givenName": "Babs", "familyName": "Jensen-Smith"}
			m["displayName"] = "Babs J"
		},
	}})
}

func TestPatchEntraURNQualifiedPathlessKeys(t *testing.T) {
	runPatchCases(t, []patchCase{{
		name: "department and manager",
		ops: `[{"op":"Add","value":{
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"701984",
			"urn:ietf:params:scim:schemas:core:2.0:User:title":"Lead"}}]`,
		edit: func(m map[string]any) {
			ext := m[EnterpriseUserURN].(map[string]any)
			ext["department"] = "Sales"
			ext["employeeNumber"] = "701984"
			m["title"] = "Lead"
		},
	}})
}

func TestPatchEntraManagerBareString(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "path",
			ops:  `[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m9"}]`,
			edit: func(m map[string]any) {
				m[EnterpriseUserURN].(map[string]any)["manager"] = map[string]any{"value": "m9"}
			},
		},
		{
			name: "path-less",
			ops:  `[{"op":"Add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m8"}}]`,
			edit: func(m map[string]any) {
				m[EnterpriseUserURN].(map[string]any)["manager"] = map[string]any{"value": "m8"}
			},
		},
		{
			name: "remove",
			ops:  `[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			edit: func(m map[string]any) { delete(m[EnterpriseUserURN].(map[string]any), "manager") },
		},
	})
}

func TestPatchEntraFilteredReplaceAddsValue(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "work email",
			attrs: map[string]any{
				"schemas": []any{UserURN}, "userName": "b",
				"emails": []any{map[string]any{"value": "b@home.example", "type": "home"}},
			},
			ops: `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"b@work.example"}]`,
			edit: func(m map[string]any) {
				m["emails"] = append(m["emails"].([]any), map[string]any{"type": "work", "value": "b@work.example"})
			},
		},
		{
			name:  "work address without addresses",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b"},
			ops: `[{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"},
				{"op":"Replace","path":"addresses[type eq \"work\"].locality","value":"Utrecht"}]`,
			edit: func(m map[string]any) {
				m["addresses"] = []any{map[string]any{"type": "work", "streetAddress": "1 Main St", "locality": "Utrecht"}}
			},
		},
		{
			name:  "mobile phone with primary",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b"},
			ops:   `[{"op":"Replace","path":"phoneNumbers[type eq \"mobile\" and primary eq true].value","value":"+31 6 1234"}]`,
			edit: func(m map[string]any) {
				m["phoneNumbers"] = []any{map[string]any{"type": "mobile", "primary": true, "value": "+31 6 1234"}}
			},
		},
	})
}

func TestPatchEntraGroupMembers(t *testing.T) {
	tests := []struct {
		name string
		ops  string
		want *MemberPatch
	}{
		{"remove listed members", `[{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]`,
			&MemberPatch{Remove: []string{"u1", "u2"}}},
		{"add members", `[{"op":"Add","path":"members","value":[{"value":"u3"}]}]`,
			&MemberPatch{Add: []string{"u3"}}},
		{"rename and add", `[{"op":"Replace","path":"displayName","value":"Ops"},{"op":"Add","path":"members","value":[{"value":"u3"}]}]`,
			&MemberPatch{Add: []string{"u3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Group.ApplyPatch(storedGroup(), ops(t, tt.ops))
			if err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchOktaDeactivate(t *testing.T) {
	runPatchCases(t, []patchCase{{
		name: "path-less replace of active",
		ops:  `[{"op":"replace","value":{"active":false}}]`,
		edit: func(m map[string]any) { m["active"] = false },
	}})
}

func TestPatchOktaGroupRename(t *testing.T) {
	runPatchCases(t, []patchCase{{
		name:  "value with id and schemas",
		rt:    Group,
		attrs: storedGroup(),
		ops: `[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Test SCIMv2",
			"urn:ietf:params:scim:schemas:core:2.0:Group:id":"abf4dd94",
			"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"meta":{"resourceType":"Group"}}}]`,
		edit: func(m map[string]any) { m["displayName"] = "Test SCIMv2" },
	}})
}

func TestPatchOktaMembershipBatch(t *testing.T) {
	got, err := Group.ApplyPatch(storedGroup(), ops(t, `[
		{"op":"remove","path":"members[value eq \"u1\"]"},
		{"op":"add","path":"members","value":[{"value":"u2","display":"two@example.com"},{"value":"u3","display":"three@example.com"}]},
		{"op":"remove","path":"members[value eq \"u3\"]"}]`))
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	want := &MemberPatch{Add: []string{"u2"}, Remove: []string{"u1", "u3"}}
	if diff := cmp.Diff(want, got.Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(storedGroup(), got.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

func TestNormalizeEntraCreateUser(t *testing.T) {
	// The body of a user creation as Entra ID sends it, with booleans as
	// strings and the manager as an id.
	body := map[string]any{
		"schemas":     []any{UserURN, EnterpriseUserURN},
		"externalId":  "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":    "Test_User_ab6490ee@contoso.com",
		"active":      "True",
		"displayName": "Test User",
		"emails": []any{map[string]any{
			"primary": "true", "type": "work", "value": "Test_User_fd0ea19b@contoso.com",
		}},
		"meta":            map[string]any{"resourceType": "User"},
		"name":            map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		EnterpriseUserURN: map[string]any{"department": "Dep", "manager": "mgr-id"},
	}
	got, err := User.Normalize(body)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := map[string]any{
		"schemas":     []any{UserURN, EnterpriseUserURN},
		"externalId":  "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":    "Test_User_ab6490ee@contoso.com",
		"active":      true,
		"displayName": "Test User",
		"emails": []any{map[string]any{
			"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com",
		}},
		"name":            map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		EnterpriseUserURN: map[string]any{"department": "Dep", "manager": map[string]any{"value": "mgr-id"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
}

func TestPatchOktaPasswordChange(t *testing.T) {
	got, err := User.ApplyPatch(storedUser(), ops(t, `[{"op":"replace","value":{"password":"N3w-passw0rd"}}]`))
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	hash, _ := got.Attributes["password"].(string)
	if !VerifyPassword(hash, "N3w-passw0rd") {
		t.Errorf("password = %q, want a hash of the new password", hash)
	}
}

// TestPatchEntraPathlessFilterKeys covers path-less add and replace values
// whose keys are paths with a value filter, as Entra ID sends them.
func TestPatchEntraPathlessFilterKeys(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "replace matched value",
			ops:  `[{"op":"replace","value":{"emails[type eq \"work\"].value":"q@x.com","displayName":"Babs"}}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["value"] = "q@x.com"
				m["displayName"] = "Babs"
			},
		},
		{
			name: "replace matching nothing adds a value",
			ops:  `[{"op":"Replace","value":{"phoneNumbers[type eq \"mobile\"].value":"+31 6 1234"}}]`,
			edit: func(m map[string]any) {
				m["phoneNumbers"] = []any{map[string]any{"type": "mobile", "value": "+31 6 1234"}}
			},
		},
		{
			name: "add to a new address",
			ops: `[{"op":"Add","value":{
				"addresses[type eq \"work\"].streetAddress":"1 Main St",
				"addresses[type eq \"work\"].locality":"Utrecht"}}]`,
			edit: func(m map[string]any) {
				// Keys apply in sorted order: locality creates the value,
				// streetAddress then matches it.
				m["addresses"] = []any{map[string]any{"type": "work", "locality": "Utrecht", "streetAddress": "1 Main St"}}
			},
		},
		{
			name: "URN-qualified key",
			ops:  `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"home\"].value":"h@x.com"}}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[1].(map[string]any)["value"] = "h@x.com"
			},
		},
		{
			name: "whole matched value",
			ops:  `[{"op":"replace","value":{"emails[type eq \"home\"]":{"value":"h@x.com","type":"other"}}}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[1] = map[string]any{"value": "h@x.com", "type": "other"}
			},
		},
		{
			name: "primary through a filter key",
			ops:  `[{"op":"replace","value":{"emails[type eq \"home\"].primary":true}}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"].([]any)[1].(map[string]any)["primary"] = true
			},
		},
		{
			name: "unknown attribute with a filter ignored",
			ops:  `[{"op":"replace","value":{"nope[type eq \"work\"].value":"x","title":"Boss"}}]`,
			edit: func(m map[string]any) { m["title"] = "Boss" },
		},
	})
}

func TestPatchPathlessFilterKeyErrors(t *testing.T) {
	tests := []struct {
		name     string
		rt       *ResourceType
		ops      string
		scimType string
		detail   string
	}{
		{"invalid filter", User, `[{"op":"replace","value":{"emails[type xx \"work\"].value":"x"}}]`, "invalidPath", "invalid filter syntax"},
		{"unclosed bracket", User, `[{"op":"replace","value":{"emails[type eq \"work\".value":"x"}}]`, "invalidPath", "[ without ]"},
		{"filter on a simple attribute", User, `[{"op":"replace","value":{"title[value eq \"x\"]":"x"}}]`, "invalidPath", "not a multi-valued complex attribute"},
		{"unknown sub-attribute after filter", User, `[{"op":"replace","value":{"emails[type eq \"work\"].nope":"x"}}]`, "invalidPath", `unknown sub-attribute "nope"`},
		{"in an extension object", User, `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager[value eq \"x\"]":"y"}}}]`, "invalidPath", "not a multi-valued complex attribute"},
		{"readOnly attribute", User, `[{"op":"add","value":{"groups[value eq \"g1\"].display":"x"}}]`, "mutability", "groups.display is readOnly"},
		{"wrong value type", User, `[{"op":"replace","value":{"emails[type eq \"work\"].primary":"maybe"}}]`, "invalidValue", "emails.primary must be true or false"},
		{"group members add with filter", Group, `[{"op":"add","value":{"members[value eq \"x\"]":{"value":"x"}}}]`, "invalidPath", "without a filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := storedUser()
			if tt.rt == Group {
				attrs = storedGroup()
			}
			before := deepCopyMap(attrs)
			_, err := tt.rt.ApplyPatch(attrs, ops(t, tt.ops))
			wantError(t, err, tt.scimType, tt.detail)
			if diff := cmp.Diff(before, attrs); diff != "" {
				t.Errorf("input changed (-before +after):\n%s", diff)
			}
		})
	}
}
