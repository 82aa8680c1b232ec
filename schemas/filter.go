package schemas

// Filter is a SCIM filter (RFC 7644 §3.4.2.2) whose attribute paths have
// been resolved against a resource type. Storage backends translate it
// into their own query language; Match evaluates it in memory.
type Filter interface{ filter() }

// Operator is a comparison operator of the filter grammar.
type Operator string

// Comparison operators.
const (
	Eq Operator = "eq"
	Ne Operator = "ne"
	Co Operator = "co"
	Sw Operator = "sw"
	Ew Operator = "ew"
	Gt Operator = "gt"
	Ge Operator = "ge"
	Lt Operator = "lt"
	Le Operator = "le"
	Pr Operator = "pr"
)

// And matches when both sides match.
type And struct{ Left, Right Filter }

// Or matches when either side matches.
type Or struct{ Left, Right Filter }

// Not matches when its operand does not.
type Not struct{ Filter Filter }

// Compare is an attribute expression such as `userName eq "bjensen"`.
//
// Path.Leaf() is never complex: a comparison on a multi-valued complex
// attribute without a sub-attribute (`emails co "@example.com"`) is
// resolved to its "value" sub-attribute. When Path.Attr is multi-valued the
// comparison matches if any value matches.
//
// Value has the Go type of the leaf attribute's SCIM type: string for
// string, reference and binary; bool for boolean; float64 for decimal;
// int64 for integer; time.Time for dateTime; nil for Pr. Strings are kept as
// the client sent them; whether to compare them case-insensitively is
// given by Path.Leaf().CaseExact.
//
// Ne matches when no value of the attribute equals Value, so it also
// matches a resource without the attribute; every other operator fails
// on an absent attribute.
type Compare struct {
	Path  Path
	Op    Operator
	Value any
}

// ValuePath is a complex attribute filter such as
// `emails[type eq "work" and value co "@example.com"]`: it matches when one
// value of the multi-valued attribute Path.Attr matches Filter. Inside
// Filter every Compare has Path.Attr equal to this Path.Attr and a non-nil
// Path.Sub, and is evaluated against that single value.
type ValuePath struct {
	Path   Path
	Filter Filter
}

func (And) filter()       {}
func (Or) filter()        {}
func (Not) filter()       {}
func (Compare) filter()   {}
func (ValuePath) filter() {}
