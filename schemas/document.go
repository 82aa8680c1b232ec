package schemas

// Document renders the schema in the representation of RFC 7643 §7, as
// served by the /Schemas endpoint; location becomes meta.location.
func (s *Schema) Document(location string) map[string]any {
	attrs := make([]any, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		attrs = append(attrs, attributeDocument(a))
	}
	return map[string]any{
		"schemas":     []any{SchemaURN},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrs,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     location,
		},
	}
}

// ResourceTypeURN is the URN of the schema that describes resource types
// (RFC 7643 §6).
const ResourceTypeURN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"

// Document renders the resource type in the representation of RFC 7643
// §6, as served by the /ResourceTypes endpoint; location becomes
// meta.location.
func (rt *ResourceType) Document(location string) map[string]any {
	extensions := make([]any, 0, len(rt.Extensions))
	for _, ext := range rt.Extensions {
		extensions = append(extensions, map[string]any{"schema": ext.ID, "required": false})
	}
	return map[string]any{
		"schemas":          []any{ResourceTypeURN},
		"id":               rt.Name,
		"name":             rt.Name,
		"endpoint":         rt.Endpoint,
		"description":      rt.Description,
		"schema":           rt.Schema.ID,
		"schemaExtensions": extensions,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     location,
		},
	}
}

func attributeDocument(a *Attribute) map[string]any {
	doc := map[string]any{
		"name":        a.Name,
		"type":        string(a.Type),
		"multiValued": a.MultiValued,
		"description": a.Description,
		"required":    a.Required,
		"mutability":  a.Mutability,
		"returned":    a.Returned,
		"uniqueness":  a.Uniqueness,
	}
	// caseExact describes how values compare, which a complex attribute
	// leaves to its sub-attributes.
	if a.Type != Complex {
		doc["caseExact"] = a.CaseExact
	}
	if len(a.CanonicalValues) > 0 {
		doc["canonicalValues"] = toAnySlice(a.CanonicalValues)
	}
	if a.Type == Reference {
		doc["referenceTypes"] = toAnySlice(a.ReferenceTypes)
	}
	if a.Type == Complex {
		subs := make([]any, 0, len(a.SubAttributes))
		for _, s := range a.SubAttributes {
			subs = append(subs, attributeDocument(s))
		}
		doc["subAttributes"] = subs
	}
	return doc
}

func toAnySlice(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
