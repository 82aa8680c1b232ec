package schemas

// Limits on the values Normalize and ApplyPatch accept, which bound the
// size of a stored resource and of the responses and indexes built from it.
const (
	// MaxStringValueBytes is the maximum length in bytes of one string,
	// reference or binary value. No attribute of RFC 7643 needs more: the
	// longest realistic values are base64 X.509 certificates (a few KiB)
	// and addresses.formatted. 64 KiB leaves room for unusual values and
	// still caps a request that has many such values.
	MaxStringValueBytes = 64 << 10
	// MaxNameValueBytes is the maximum length in bytes of userName and
	// displayName. Both are shown in lists, used in filters and indexed
	// for uniqueness, and names of real accounts and groups are far
	// shorter.
	MaxNameValueBytes = 1 << 10
	// MaxMultiValuedCount is the maximum number of values of one
	// multi-valued attribute, such as emails or x509Certificates. Group
	// members are exempt: they are stored apart from the attributes, and a
	// group may have tens of thousands of them.
	MaxMultiValuedCount = 1000
)

// checkStringLength returns an invalidValue error when s is longer than
// the limit for attribute a.
func checkStringLength(a *Attribute, s string) error {
	limit := MaxStringValueBytes
	if a.Parent == nil && (a.Name == "userName" || a.Name == "displayName") {
		limit = MaxNameValueBytes
	}
	if len(s) > limit {
		return Errorf("invalidValue", "attribute %s is %d bytes long, more than the maximum of %d", attrName(a), len(s), limit)
	}
	return nil
}

// checkValueCount returns an invalidValue error when a multi-valued
// attribute other than group members has more than MaxMultiValuedCount
// values.
func checkValueCount(a *Attribute, n int) error {
	if n <= MaxMultiValuedCount || isGroupMembers(a) {
		return nil
	}
	return Errorf("invalidValue", "attribute %s has %d values, more than the maximum of %d", attrName(a), n, MaxMultiValuedCount)
}

func isGroupMembers(a *Attribute) bool {
	return a.Parent == nil && a.SchemaURN == GroupURN && a.Name == "members"
}

// checkValueCounts applies checkValueCount to every multi-valued attribute
// of a stored attribute document, because a sequence of PATCH adds can
// grow a list that no single operation made too long.
func (rt *ResourceType) checkValueCounts(doc map[string]any) error {
	attrs := rt.attributes()
	for _, ext := range rt.Extensions {
		attrs = append(attrs, ext.Attributes...)
	}
	for _, a := range attrs {
		if !a.MultiValued {
			continue
		}
		list, _ := valueAt(doc, Path{Attr: a}).([]any)
		if err := checkValueCount(a, len(list)); err != nil {
			return err
		}
	}
	return nil
}
