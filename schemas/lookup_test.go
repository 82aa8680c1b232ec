package schemas

import (
	"errors"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		rt       *ResourceType
		path     string
		want     string // Path.String()
		wantKeys int
	}{
		{User, "userName", "userName", 1},
		{User, "USERNAME", "userName", 1},
		{User, "name.givenName", "name.givenName", 2},
		{User, "Name.GivenName", "name.givenName", 2},
		{User, UserURN + ":userName", "userName", 1},
		{User, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:emails.value", "emails.value", 2},
		{User, EnterpriseUserURN + ":manager.value", EnterpriseUserURN + ":manager.value", 3},
		{User, "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:User:department", EnterpriseUserURN + ":department", 2},
		{User, "id", "id", 1},
		{User, UserURN + ":id", "id", 1},
		{User, "externalId", "externalId", 1},
		{User, "meta.lastModified", "meta.lastModified", 2},
		{User, "groups.display", "groups.display", 2},
		{Group, "members.value", "members.value", 2},
		{Group, GroupURN + ":displayName", "displayName", 1},
		{Group, "meta.created", "meta.created", 2},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.path, func(t *testing.T) {
			p, err := tt.rt.Lookup(tt.path)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := len(p.Keys()); got != tt.wantKeys {
				t.Errorf("len(Keys()) = %d, want %d", got, tt.wantKeys)
			}
		})
	}
}

func TestLookupInvalid(t *testing.T) {
	tests := []struct {
		rt   *ResourceType
		path string
	}{
		{User, "nope"},
		{User, "name.nope"},
		{User, "userName.value"},
		{User, "name."},
		{User, ""},
		{User, "department"}, // extension attributes need their URN
		{User, EnterpriseUserURN},
		{User, EnterpriseUserURN + ":nope"},
		{User, "urn:example:unknown:attr"},
		{User, GroupURN + ":displayName"},
		{User, "members"},
		{Group, "userName"},
		{Group, EnterpriseUserURN + ":department"},
		{User, "name.givenName.extra"},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.path, func(t *testing.T) {
			_, err := tt.rt.Lookup(tt.path)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Lookup error = %v, want *Error", err)
			}
			if se.ScimType != "invalidPath" {
				t.Errorf("scimType = %q, want invalidPath", se.ScimType)
			}
			if se.Detail == "" {
				t.Errorf("empty detail")
			}
		})
	}
}
