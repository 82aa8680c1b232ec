package schemas

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSortBy(t *testing.T) {
	tests := []struct {
		rt   *ResourceType
		path string
		want string
	}{
		{User, "userName", "userName"},
		{User, " USERNAME ", "userName"},
		{User, "name.familyName", "name.familyName"},
		{User, "meta.created", "meta.created"},
		{User, "meta.lastModified", "meta.lastModified"},
		{User, "id", "id"},
		{User, "externalId", "externalId"},
		{User, "urn:ietf:params:scim:schemas:core:2.0:User:title", "title"},
		{User, EnterpriseUserURN + ":department", EnterpriseUserURN + ":department"},
		{User, EnterpriseUserURN + ":manager.value", EnterpriseUserURN + ":manager.value"},
		{Group, "displayName", "displayName"},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+" "+tt.path, func(t *testing.T) {
			got, err := tt.rt.ParseSortBy(tt.path)
			if err != nil {
				t.Fatalf("ParseSortBy: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.String()); diff != "" {
				t.Errorf("path (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSortByInvalid(t *testing.T) {
	tests := []struct {
		rt     *ResourceType
		path   string
		detail string
	}{
		{User, "password", "never returned"},
		{User, "PASSWORD", "never returned"},
		{User, "urn:ietf:params:scim:schemas:core:2.0:User:password", "never returned"},
		{User, "nope", `unknown attribute "nope"`},
		{User, "name.nope", `unknown sub-attribute "nope"`},
		{User, "", "sortBy"},
		{User, "name", "complex attribute name; name one of its sub-attributes, such as name.formatted"},
		{User, "emails", "multi-valued attribute emails"},
		{User, "emails.value", "multi-valued attribute emails"},
		{User, "groups.display", "multi-valued attribute groups"},
		{Group, "members.value", "multi-valued attribute members"},
		{User, "meta", "complex attribute meta"},
		{User, "meta.version", "meta.version, which scimd computes"},
		{Group, "meta.location", "meta.location, which scimd computes"},
		{User, "meta.resourceType", "same for every User"},
		{Group, "userName", `unknown attribute "userName"`},
		{User, `emails[type eq "work"].value`, "sortBy"},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+" "+tt.path, func(t *testing.T) {
			_, err := tt.rt.ParseSortBy(tt.path)
			wantError(t, err, "invalidValue", tt.detail)
		})
	}
}
