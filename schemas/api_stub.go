package schemas

// This file declares the API of package schemas that other packages build
// against. Each declaration moves to its real file when implemented.

// ResourceType is a SCIM resource type (RFC 7643 §6): User or Group.
type ResourceType struct {
	Name        string // "User" or "Group"
	Endpoint    string // "/Users" or "/Groups"
	Description string
	Schema      *Schema
	Extensions  []*Schema // schema extensions; EnterpriseUser for User, none required
}

// Schema is one schema (RFC 7643 §7) with its attributes.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// PatchOp is one PATCH operation as decoded from the request body. Op is
// compared case-insensitively (Entra ID sends "Replace").
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// PatchResult is the outcome of ApplyPatch.
type PatchResult struct {
	// Attributes is the new attribute document (the input is not
	// modified).
	Attributes map[string]any
	// Members is the change to a group's members, nil when the operations
	// do not touch members. Member operations never appear in Attributes.
	Members *MemberPatch
}

// MemberPatch is the net effect of a PATCH request's operations on a
// group's members. With Replace the members become exactly Set;
// otherwise Add and Remove are applied to the stored members.
type MemberPatch struct {
	Replace bool
	Set     []string
	Add     []string
	Remove  []string
}

// Projection is a parsed attributes/excludedAttributes pair (RFC 7644
// §3.4.2.5, §3.9).
type Projection struct {
	attributes []Path
	excluded   []Path
}

// Empty reports whether the change does nothing.
func (c *MemberPatch) Empty() bool {
	return c == nil || (!c.Replace && len(c.Add) == 0 && len(c.Remove) == 0)
}
