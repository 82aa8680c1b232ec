package schemas

import (
	"slices"
	"strings"
)

// MaxProjectionLength is the maximum length in bytes of an attributes or
// excludedAttributes parameter.
const MaxProjectionLength = 8 << 10

// Projection is a parsed attributes/excludedAttributes pair (RFC 7644
// §3.4.2.5, §3.9). A nil *Projection selects the attributes returned by
// default.
type Projection struct {
	rt         *ResourceType
	attributes []Path
	excluded   []Path

	// attributeSchemas and excludedSchemas hold extension URNs given on
	// their own, which name all attributes of the extension.
	attributeSchemas []string
	excludedSchemas  []string
}

// ParseProjection parses the comma-separated attribute lists of the
// attributes and excludedAttributes query parameters. Names that match no
// attribute are ignored, as RFC 7644 §3.4.2.5 allows, and a value filter in
// brackets after a name is dropped (see withoutValueFilter). It returns nil when
// both lists are empty and an *Error with scimType invalidValue when a list
// is longer than MaxProjectionLength. When both lists are given, the
// excluded attributes are removed from the requested ones.
func (rt *ResourceType) ParseProjection(attributes, excludedAttributes string) (*Projection, error) {
	if len(attributes) > MaxProjectionLength || len(excludedAttributes) > MaxProjectionLength {
		return nil, Errorf("invalidValue", "attributes and excludedAttributes may be at most %d bytes long", MaxProjectionLength)
	}
	p := &Projection{rt: rt}
	p.attributes, p.attributeSchemas = rt.parseAttributeList(attributes)
	p.excluded, p.excludedSchemas = rt.parseAttributeList(excludedAttributes)
	if len(p.attributes)+len(p.attributeSchemas)+len(p.excluded)+len(p.excludedSchemas) == 0 {
		return nil, nil
	}
	return p, nil
}

func (rt *ResourceType) parseAttributeList(list string) ([]Path, []string) {
	var paths []Path
	var urns []string
	for _, name := range splitAttributeList(list) {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if ext := rt.Extension(name); ext != nil {
			urns = append(urns, ext.ID)
			continue
		}
		name, ok := withoutValueFilter(name)
		if !ok {
			continue
		}
		if p, err := rt.resolvePath(name); err == nil {
			paths = append(paths, p)
		}
	}
	return paths, urns
}

// splitAttributeList splits an attributes parameter at the commas that
// are outside brackets and quoted strings, so that a value filter that
// contains a comma stays in one piece.
func splitAttributeList(list string) []string {
	var names []string
	depth, start, inString := 0, 0, false
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ',' && depth <= 0:
			names = append(names, list[start:i])
			start = i + 1
		}
	}
	return append(names, list[start:])
}

// withoutValueFilter removes a value filter in brackets from an attribute
// name: `emails[type eq "work"]` becomes "emails" and
// `emails[type eq "work"].value` becomes "emails.value". It returns false
// when the brackets do not close.
//
// NOTE: RFC 7644 §3.9 allows only attribute names in attributes and
// excludedAttributes. Microsoft's Postman collection for Entra ID
// provisioning nevertheless requests attributes=emails[type eq "work"] and
// expects 200 with the user's emails, so the filter is dropped and the
// projection applies to the whole attribute, with every one of its values.
func withoutValueFilter(name string) (string, bool) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return name, true
	}
	inString := false
	for i := open + 1; i < len(name); i++ {
		switch c := name[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == ']':
			return name[:open] + name[i+1:], true
		}
	}
	return "", false
}

// Apply returns a copy of a rendered resource document with only the
// attributes the projection selects. Attributes returned "always" (id)
// and "schemas" are always kept, attributes returned "never" (password)
// never, and attributes returned on "request" only when the attributes
// parameter names them.
func (p *Projection) Apply(doc map[string]any) map[string]any {
	rt := p.resourceType(doc)
	out := make(map[string]any, len(doc))
	for key, v := range doc {
		if strings.EqualFold(key, "schemas") {
			out[key] = deepCopy(v)
			continue
		}
		if ext := rt.Extension(key); ext != nil {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			selected := map[string]any{}
			for name, ev := range m {
				if a := ext.Attribute(name); a != nil {
					p.keep(selected, a, name, ev)
				}
			}
			if len(selected) > 0 {
				out[key] = selected
			}
			continue
		}
		a := rt.topLevel(key)
		if a == nil {
			if !p.requestsSome() {
				out[key] = deepCopy(v)
			}
			continue
		}
		p.keep(out, a, key, v)
	}
	return out
}

// keep copies the value v of attribute a under key into out if the
// projection selects it, with only the selected sub-attributes.
func (p *Projection) keep(out map[string]any, a *Attribute, key string, v any) {
	if !p.selects(a, nil) {
		return
	}
	if a.Type != Complex {
		out[key] = deepCopy(v)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if m := p.keepSubs(a, v); len(m) > 0 {
			out[key] = m
		}
	case []any:
		var list []any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if selected := p.keepSubs(a, m); len(selected) > 0 {
					list = append(list, selected)
				}
			}
		}
		if len(list) > 0 {
			out[key] = list
		}
	}
}

func (p *Projection) keepSubs(a *Attribute, m map[string]any) map[string]any {
	out := map[string]any{}
	for name, v := range m {
		sub := a.Sub(name)
		if sub == nil || p.selects(a, sub) {
			out[name] = deepCopy(v)
		}
	}
	return out
}

// selects reports whether the projection returns attribute a, or its
// sub-attribute sub when sub is not nil.
func (p *Projection) selects(a, sub *Attribute) bool {
	leaf := a
	if sub != nil {
		leaf = sub
	}
	switch {
	case leaf.Returned == "never" || a.Returned == "never":
		return false
	case leaf.Returned == "always":
		return true
	}

	if p.requestsSome() {
		return p.requested(a, sub)
	}
	if leaf.Returned == "request" {
		return false
	}
	return p == nil || !p.isExcluded(a, sub)
}

// requestsSome reports whether the attributes parameter names any
// attribute.
func (p *Projection) requestsSome() bool {
	return p != nil && len(p.attributes)+len(p.attributeSchemas) > 0
}

// requested reports whether the attributes parameter selects a (with sub
// nil: any part of it) or its sub-attribute sub.
func (p *Projection) requested(a, sub *Attribute) bool {
	if p.isExcluded(a, sub) {
		return false
	}
	if slices.Contains(p.attributeSchemas, a.SchemaURN) {
		return true
	}
	for _, r := range p.attributes {
		if r.Attr != a {
			continue
		}
		// Naming an attribute selects its sub-attributes except those
		// returned only on request; naming a sub-attribute selects it.
		if sub == nil || r.Sub == sub || (r.Sub == nil && sub.Returned != "request") {
			return true
		}
	}
	return false
}

func (p *Projection) isExcluded(a, sub *Attribute) bool {
	if p == nil {
		return false
	}
	if slices.Contains(p.excludedSchemas, a.SchemaURN) {
		return true
	}
	for _, x := range p.excluded {
		if x.Attr == a && (x.Sub == nil || x.Sub == sub) {
			return true
		}
	}
	return false
}

// Includes reports whether the projection returns at least part of the
// attribute named attrName, such as "members" or "groups", so that callers
// can skip loading values that would not be returned. An unknown name
// returns false.
func (p *Projection) Includes(attrName string) bool {
	var candidates []*ResourceType
	if p != nil {
		candidates = []*ResourceType{p.rt}
	} else {
		candidates = ResourceTypes()
	}
	for _, rt := range candidates {
		if path, err := rt.resolvePath(attrName); err == nil {
			return p.selects(path.Attr, path.Sub)
		}
	}
	return false
}

// resourceType returns the resource type of the projection, or for a nil
// projection the one whose core schema the document lists.
func (p *Projection) resourceType(doc map[string]any) *ResourceType {
	if p != nil {
		return p.rt
	}
	schemas, _ := lookupKey(doc, "schemas")
	for _, s := range flatten(schemas) {
		if urn, ok := s.(string); ok && strings.EqualFold(urn, GroupURN) {
			return Group
		}
	}
	return User
}
