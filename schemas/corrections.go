package schemas

import "strings"

// rfcCharacteristic is a characteristic that RFC 7643 fixes for one
// attribute, written as the attribute path ("meta.created") and a function
// that sets it.
type rfcCharacteristic struct {
	path string
	set  func(a *Attribute)
}

// rfcCharacteristics are applied to the attribute trees after they are read
// from github.com/elimity-com/scim/schema, so that the definitions follow
// RFC 7643 §3.1, §4 and §8.7 even where the library does not.
//
// NOTE: elimity-com/scim v0.0.0-20260728105928-2641426a1539 already agrees
// with every entry below, so applying them changes nothing with that
// version. They stay because scimd relies on each one (for example
// password never being returned), and TestDefinitionsFollowRFC fails if a
// library upgrade changes what the library defines.
var rfcCharacteristics = []rfcCharacteristic{
	{"id", func(a *Attribute) {
		a.Mutability, a.Returned, a.CaseExact, a.Uniqueness = "readOnly", "always", true, "server"
	}},
	{"externalId", func(a *Attribute) { a.CaseExact, a.Mutability = true, "readWrite" }},
	{"meta", func(a *Attribute) { a.Mutability = "readOnly" }},
	{"meta.created", func(a *Attribute) { a.Type, a.Mutability = DateTime, "readOnly" }},
	{"meta.lastModified", func(a *Attribute) { a.Type, a.Mutability = DateTime, "readOnly" }},
	{"meta.version", func(a *Attribute) { a.Type, a.Mutability, a.CaseExact = String, "readOnly", true }},
	{"meta.location", func(a *Attribute) { a.Type, a.Mutability, a.CaseExact = Reference, "readOnly", true }},
	{"meta.resourceType", func(a *Attribute) { a.Type, a.Mutability, a.CaseExact = String, "readOnly", true }},
	{"userName", func(a *Attribute) { a.Required, a.CaseExact, a.Uniqueness = true, false, "server" }},
	{"password", func(a *Attribute) { a.Mutability, a.Returned = "writeOnly", "never" }},
	{"groups", func(a *Attribute) { setMutabilityTree(a, "readOnly") }},
	{"members.value", func(a *Attribute) { a.Mutability = "immutable" }},
	{"manager.displayName", func(a *Attribute) { a.Mutability = "readOnly" }},
}

// correct applies rfcCharacteristics to the attributes found in attrs.
func correct(attrs []*Attribute) {
	for _, c := range rfcCharacteristics {
		name, sub, _ := strings.Cut(c.path, ".")
		for _, a := range attrs {
			if !strings.EqualFold(a.Name, name) {
				continue
			}
			if sub == "" {
				c.set(a)
			} else if s := a.Sub(sub); s != nil {
				c.set(s)
			}
		}
	}
}

func setMutabilityTree(a *Attribute, m string) {
	a.Mutability = m
	for _, s := range a.SubAttributes {
		setMutabilityTree(s, m)
	}
}
