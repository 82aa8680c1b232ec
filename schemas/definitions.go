package schemas

import (
	"strings"

	"github.com/elimity-com/scim/schema"
)

// ResourceType is a SCIM resource type (RFC 7643 §6): User or Group.
type ResourceType struct {
	Name        string // "User" or "Group"
	Endpoint    string // "/Users" or "/Groups"
	Description string
	Schema      *Schema
	Extensions  []*Schema // schema extensions; EnterpriseUser for User, none required

	// common holds this resource type's copies of the common attributes
	// id, externalId and meta (RFC 7643 §3.1), which belong to no schema.
	common []*Attribute
}

// Schema is one schema (RFC 7643 §7) with its attributes.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// SchemaURN is the URN of the schema that describes schemas (RFC 7643 §7).
const SchemaURN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

// The schemas and resource types that scimd serves, read from
// github.com/elimity-com/scim/schema and corrected to RFC 7643.
var (
	EnterpriseUser = convertSchema(schema.ExtensionEnterpriseUser())

	User = &ResourceType{
		Name:        "User",
		Endpoint:    "/Users",
		Description: "User Account",
		Schema:      convertSchema(schema.CoreUserSchema()),
		Extensions:  []*Schema{EnterpriseUser},
		common:      convertCommon(UserURN),
	}

	Group = &ResourceType{
		Name:        "Group",
		Endpoint:    "/Groups",
		Description: "Group",
		Schema:      convertSchema(schema.CoreGroupSchema()),
		common:      convertCommon(GroupURN),
	}
)

func init() {
	for _, rt := range []*ResourceType{User, Group} {
		correct(rt.Schema.Attributes)
		correct(rt.common)
	}
	correct(EnterpriseUser.Attributes)
}

// AllSchemas returns every schema scimd serves, in the order of the
// /Schemas endpoint.
func AllSchemas() []*Schema {
	return []*Schema{User.Schema, EnterpriseUser, Group.Schema}
}

// ResourceTypes returns the resource types scimd serves.
func ResourceTypes() []*ResourceType {
	return []*ResourceType{User, Group}
}

// Attribute returns the top-level attribute of the given schema with the
// given name, compared case-insensitively, or nil.
func (s *Schema) Attribute(name string) *Attribute {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension returns the extension schema with the given URN, compared
// case-insensitively, or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, s := range rt.Extensions {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// attributes returns the core attributes followed by the common ones.
func (rt *ResourceType) attributes() []*Attribute {
	all := make([]*Attribute, 0, len(rt.Schema.Attributes)+len(rt.common))
	all = append(all, rt.Schema.Attributes...)
	return append(all, rt.common...)
}

// topLevel returns the core or common attribute with the given name, or nil.
func (rt *ResourceType) topLevel(name string) *Attribute {
	for _, a := range rt.attributes() {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func convertSchema(s schema.Schema) *Schema {
	out := &Schema{
		ID:          s.ID,
		Name:        s.Name.Value(),
		Description: s.Description.Value(),
	}
	for _, a := range s.Attributes {
		out.Attributes = append(out.Attributes, convertAttribute(a, nil, s.ID))
	}
	return out
}

// convertCommon converts id, externalId and meta, leaving out "schemas",
// which this package handles apart from the attribute trees.
func convertCommon(urn string) []*Attribute {
	var out []*Attribute
	for _, a := range schema.CommonAttributes() {
		if a.Name() == "schemas" {
			continue
		}
		out = append(out, convertAttribute(a, nil, urn))
	}
	return out
}

func convertAttribute(a schema.CoreAttribute, parent *Attribute, urn string) *Attribute {
	out := &Attribute{
		Name:            a.Name(),
		Description:     a.Description(),
		Type:            Type(a.AttributeType()),
		MultiValued:     a.MultiValued(),
		Required:        a.Required(),
		CaseExact:       a.CaseExact(),
		Mutability:      a.Mutability(),
		Returned:        a.Returned(),
		Uniqueness:      a.Uniqueness(),
		CanonicalValues: a.CanonicalValues(),
		Parent:          parent,
		SchemaURN:       urn,
	}
	for _, r := range a.ReferenceTypes() {
		out.ReferenceTypes = append(out.ReferenceTypes, string(r))
	}
	for _, sub := range a.SubAttributes() {
		out.SubAttributes = append(out.SubAttributes, convertAttribute(sub, out, urn))
	}
	return out
}
