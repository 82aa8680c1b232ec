package mongodb

import (
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The search copy "s" of a user or group mirrors its attributes so that
// every filter is an index lookup on the wildcard index over "s":
//
//   - a string at key k is stored lower-cased at k (case-insensitive
//     comparisons and sorting), as given at k+caseExactSuffix (case-exact
//     ones) and, when it is an RFC 3339 date-time, as a BSON date at
//     k+dateSuffix (chronological comparisons);
//   - numbers and booleans are stored as they are;
//   - documents and arrays keep their shape, so that a complex value
//     filter is an $elemMatch on the mirrored array.
const (
	caseExactSuffix = "~cs"
	dateSuffix      = "~dt"
)

// encodeKey makes an attribute name usable as a field name. Extension
// URNs contain dots, which MongoDB reads as path separators, so dots
// become U+FF0E (fullwidth full stop). A leading "$" becomes U+FF04.
// Neither character is valid in a SCIM attribute name or schema URN.
func encodeKey(k string) string {
	k = strings.ReplaceAll(k, ".", "\uff0e")
	if strings.HasPrefix(k, "$") {
		k = "\uff04" + k[1:]
	}
	return k
}

// decodeKey reverses encodeKey.
func decodeKey(k string) string {
	if rest, ok := strings.CutPrefix(k, "\uff04"); ok {
		k = "$" + rest
	}
	return strings.ReplaceAll(k, "\uff0e", ".")
}

// fieldPath returns the dotted field path of the attribute at keys.
func fieldPath(keys []string) string {
	encoded := make([]string, len(keys))
	for i, k := range keys {
		encoded[i] = encodeKey(k)
	}
	return strings.Join(encoded, ".")
}

// storedAttributes returns attrs with every key encoded.
func storedAttributes(attrs map[string]any) map[string]any {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		out[encodeKey(k)] = storedValue(v)
	}
	return out
}

func storedValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return storedAttributes(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = storedValue(e)
		}
		return out
	default:
		return v
	}
}

// fold returns the normalised form of a string for case-insensitive
// comparison and uniqueness.
func fold(s string) string { return strings.ToLower(s) }

// searchCopy returns the search copy of attrs.
func searchCopy(attrs map[string]any) bson.M {
	out := bson.M{}
	for k, v := range attrs {
		mirror(out, encodeKey(k), v)
	}
	return out
}

// mirror stores the search form of v at key k in out.
func mirror(out bson.M, k string, v any) {
	switch v := v.(type) {
	case string:
		out[k] = fold(v)
		out[k+caseExactSuffix] = v
		if t, ok := parseDateTime(v); ok {
			out[k+dateSuffix] = t
		}
	case map[string]any:
		out[k] = searchCopy(v)
	case []any:
		mirrorArray(out, k, v)
	default:
		out[k] = v
	}
}

// mirrorArray stores the search form of a multi-valued attribute. Arrays
// of strings get their lower-cased, case-exact and date arrays side by
// side; arrays of documents get one mirrored document per element.
func mirrorArray(out bson.M, k string, vs []any) {
	var folded, exact, dates bson.A
	elems := bson.A{}
	for _, v := range vs {
		switch v := v.(type) {
		case string:
			folded = append(folded, fold(v))
			exact = append(exact, v)
			if t, ok := parseDateTime(v); ok {
				dates = append(dates, t)
			}
		case map[string]any:
			elems = append(elems, searchCopy(v))
		default:
			elems = append(elems, v)
		}
	}
	elems = append(elems, folded...)
	out[k] = elems
	if exact != nil {
		out[k+caseExactSuffix] = exact
	}
	if dates != nil {
		out[k+dateSuffix] = dates
	}
}

// parseDateTime parses an xsd:dateTime with a time zone, as SCIM sends
// them.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// attributesOf converts a stored attribute document back into the Go
// types that package schemas uses: map[string]any, []any, string, bool,
// int64, float64 and time.Time.
func attributesOf(d bson.D) (map[string]any, error) {
	out := make(map[string]any, len(d))
	for _, e := range d {
		v, err := plain(e.Value)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", e.Key, err)
		}
		out[decodeKey(e.Key)] = v
	}
	return out, nil
}

func plain(v any) (any, error) {
	switch v := v.(type) {
	case bson.D:
		return attributesOf(v)
	case bson.A:
		out := make([]any, len(v))
		for i, e := range v {
			p, err := plain(e)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case int32:
		return int64(v), nil
	case bson.DateTime:
		return v.Time().UTC(), nil
	case nil, string, bool, int64, float64:
		return v, nil
	default:
		return nil, fmt.Errorf("unexpected BSON value of type %T", v)
	}
}
