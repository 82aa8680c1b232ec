package schemas

import (
	"fmt"
	"strings"
)

// Schema URNs used by scimd.
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseURN   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpURN        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestURN  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	BulkRequestURN    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	ErrorURN          = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Type is an attribute's data type (RFC 7643 §2.3).
type Type string

// Attribute data types.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Attribute is one attribute definition of a schema, with its
// characteristics from RFC 7643 §7. Sub-attributes point back at their
// parent.
type Attribute struct {
	Name            string
	Description     string
	Type            Type
	MultiValued     bool
	Required        bool
	CaseExact       bool
	Mutability      string // readOnly, readWrite, immutable or writeOnly
	Returned        string // always, never, default or request
	Uniqueness      string // none, server or global
	CanonicalValues []string
	ReferenceTypes  []string
	SubAttributes   []*Attribute
	Parent          *Attribute

	// SchemaURN is the schema that defines the attribute: the core schema
	// of the resource type, or an extension URN.
	SchemaURN string
}

// Sub returns the sub-attribute with the given name, compared
// case-insensitively, or nil.
func (a *Attribute) Sub(name string) *Attribute {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Path is an attribute reference resolved against a resource type: an
// attribute and, for complex attributes, optionally one of its
// sub-attributes.
type Path struct {
	Attr *Attribute
	Sub  *Attribute // nil when the path names the whole attribute
}

// Leaf returns the attribute the path ends at.
func (p Path) Leaf() *Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// Extension reports whether the attribute belongs to an extension schema,
// whose values are stored under the extension URN key of a resource.
func (p Path) Extension() string {
	if p.Attr.SchemaURN == UserURN || p.Attr.SchemaURN == GroupURN || p.Attr.SchemaURN == "" {
		return ""
	}
	return p.Attr.SchemaURN
}

// Keys returns the keys that lead to the value in a stored resource
// document, for example ["name", "givenName"] or
// ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value"].
func (p Path) Keys() []string {
	var keys []string
	if ext := p.Extension(); ext != "" {
		keys = append(keys, ext)
	}
	keys = append(keys, p.Attr.Name)
	if p.Sub != nil {
		keys = append(keys, p.Sub.Name)
	}
	return keys
}

// String returns the path in SCIM notation, with the URN prefix for
// extension attributes.
func (p Path) String() string {
	s := p.Attr.Name
	if ext := p.Extension(); ext != "" {
		s = ext + ":" + s
	}
	if p.Sub != nil {
		s += "." + p.Sub.Name
	}
	return s
}

// Error is a client error that RFC 7644 §3.12 gives a scimType for. Its
// Detail is safe to show to the client.
type Error struct {
	ScimType string // invalidFilter, invalidPath, noTarget, invalidValue, mutability, invalidSyntax, uniqueness, tooMany, invalidVers, sensitive
	Detail   string
}

func (e *Error) Error() string { return e.ScimType + ": " + e.Detail }

// Errorf returns an *Error with the given scimType and formatted detail.
func Errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}
