package schemas

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLookup(t *testing.T, rt *ResourceType, path string) *Attribute {
	t.Helper()
	p, err := rt.Lookup(path)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", path, err)
	}
	return p.Leaf()
}

func TestDefinitionsFollowRFC(t *testing.T) {
	type characteristics struct {
		Type        Type
		MultiValued bool
		Required    bool
		CaseExact   bool
		Mutability  string
		Returned    string
		Uniqueness  string
	}
	tests := []struct {
		rt   *ResourceType
		path string
		want characteristics
	}{
		{User, "id", characteristics{String, false, true, true, "readOnly", "always", "server"}},
		{Group, "id", characteristics{String, false, true, true, "readOnly", "always", "server"}},
		{User, "externalId", characteristics{String, false, false, true, "readWrite", "default", "none"}},
		{User, "userName", characteristics{String, false, true, false, "readWrite", "default", "server"}},
		{User, "password", characteristics{String, false, false, false, "writeOnly", "never", "none"}},
		{User, "groups", characteristics{Complex, true, false, false, "readOnly", "default", "none"}},
		{User, "groups.value", characteristics{String, false, false, false, "readOnly", "default", "none"}},
		{User, "meta", characteristics{Complex, false, false, false, "readOnly", "default", "none"}},
		{User, "meta.created", characteristics{DateTime, false, false, false, "readOnly", "default", "none"}},
		{User, "meta.lastModified", characteristics{DateTime, false, false, false, "readOnly", "default", "none"}},
		{User, "meta.version", characteristics{String, false, false, true, "readOnly", "default", "none"}},
		{User, "meta.location", characteristics{Reference, false, false, true, "readOnly", "default", "none"}},
		{User, "meta.resourceType", characteristics{String, false, false, true, "readOnly", "default", "none"}},
		{User, "active", characteristics{Boolean, false, false, false, "readWrite", "default", "none"}},
		{User, "emails", characteristics{Complex, true, false, false, "readWrite", "default", "none"}},
		{User, EnterpriseUserURN + ":manager.displayName", characteristics{String, false, false, false, "readOnly", "default", "none"}},
		{Group, "displayName", characteristics{String, false, true, false, "readWrite", "default", "none"}},
		{Group, "members.value", characteristics{String, false, false, false, "immutable", "default", "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.path, func(t *testing.T) {
			a := mustLookup(t, tt.rt, tt.path)
			got := characteristics{a.Type, a.MultiValued, a.Required, a.CaseExact, a.Mutability, a.Returned, a.Uniqueness}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("characteristics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefinitionsTree(t *testing.T) {
	check := func(rt *ResourceType, attrs []*Attribute, urn string) {
		t.Helper()
		var walk func(a, parent *Attribute)
		walk = func(a, parent *Attribute) {
			if a.Parent != parent {
				t.Errorf("%s %q: Parent = %v, want %v", rt.Name, a.Name, a.Parent, parent)
			}
			if a.SchemaURN != urn {
				t.Errorf("%s %q: SchemaURN = %q, want %q", rt.Name, a.Name, a.SchemaURN, urn)
			}
			if (a.Type == Complex) != (len(a.SubAttributes) > 0) {
				t.Errorf("%s %q: type %s with %d sub-attributes", rt.Name, a.Name, a.Type, len(a.SubAttributes))
			}
			for _, s := range a.SubAttributes {
				walk(s, a)
			}
		}
		for _, a := range attrs {
			walk(a, nil)
		}
	}
	check(User, User.Schema.Attributes, UserURN)
	check(User, User.common, UserURN)
	check(User, EnterpriseUser.Attributes, EnterpriseUserURN)
	check(Group, Group.Schema.Attributes, GroupURN)
	check(Group, Group.common, GroupURN)

	if User.Schema.ID != UserURN || Group.Schema.ID != GroupURN || EnterpriseUser.ID != EnterpriseUserURN {
		t.Errorf("schema ids = %q, %q, %q", User.Schema.ID, Group.Schema.ID, EnterpriseUser.ID)
	}
	if len(User.Extensions) != 1 || User.Extensions[0] != EnterpriseUser {
		t.Errorf("User.Extensions = %v, want [EnterpriseUser]", User.Extensions)
	}
	if len(Group.Extensions) != 0 {
		t.Errorf("Group.Extensions = %v, want none", Group.Extensions)
	}
	if got := len(AllSchemas()); got != 3 {
		t.Errorf("len(AllSchemas()) = %d, want 3", got)
	}
}

func TestSchemaDocument(t *testing.T) {
	doc := User.Schema.Document("https://example.com/scim/v2/Schemas/" + UserURN)
	if doc["id"] != UserURN {
		t.Errorf("id = %v, want %s", doc["id"], UserURN)
	}
	if diff := cmp.Diff([]any{SchemaURN}, doc["schemas"]); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
	meta := doc["meta"].(map[string]any)
	if meta["resourceType"] != "Schema" || meta["location"] != "https://example.com/scim/v2/Schemas/"+UserURN {
		t.Errorf("meta = %v", meta)
	}

	attrs := doc["attributes"].([]any)
	byName := map[string]map[string]any{}
	for _, a := range attrs {
		m := a.(map[string]any)
		byName[m["name"].(string)] = m
	}
	if _, ok := byName["id"]; ok {
		t.Errorf("common attribute id is listed in the User schema")
	}
	wantPassword := map[string]any{
		"name": "password", "type": "string", "multiValued": false, "required": false,
		"caseExact": false, "mutability": "writeOnly", "returned": "never", "uniqueness": "none",
		"description": byName["password"]["description"],
	}
	if diff := cmp.Diff(wantPassword, byName["password"]); diff != "" {
		t.Errorf("password (-want +got):\n%s", diff)
	}
	if byName["password"]["description"] == "" {
		t.Errorf("password has no description")
	}

	emails := byName["emails"]
	if _, ok := emails["caseExact"]; ok {
		t.Errorf("complex attribute emails has caseExact")
	}
	subs := emails["subAttributes"].([]any)
	if len(subs) != 4 {
		t.Fatalf("emails has %d sub-attributes, want 4", len(subs))
	}
	typ := subs[2].(map[string]any)
	if diff := cmp.Diff([]any{"work", "home", "other"}, typ["canonicalValues"]); diff != "" {
		t.Errorf("emails.type canonicalValues (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"external"}, byName["profileUrl"]["referenceTypes"]); diff != "" {
		t.Errorf("profileUrl referenceTypes (-want +got):\n%s", diff)
	}
}

func TestResourceTypeDocument(t *testing.T) {
	got := User.Document("https://example.com/scim/v2/ResourceTypes/User")
	want := map[string]any{
		"schemas":          []any{ResourceTypeURN},
		"id":               "User",
		"name":             "User",
		"endpoint":         "/Users",
		"description":      "User Account",
		"schema":           UserURN,
		"schemaExtensions": []any{map[string]any{"schema": EnterpriseUserURN, "required": false}},
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     "https://example.com/scim/v2/ResourceTypes/User",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User document (-want +got):\n%s", diff)
	}
	group := Group.Document("")
	if diff := cmp.Diff([]any{}, group["schemaExtensions"]); diff != "" {
		t.Errorf("Group schemaExtensions (-want +got):\n%s", diff)
	}
}
