package sqlite

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimd/scimd/schemas"
)

// builder translates a schemas.Filter into an SQL condition on the id of
// a user or group. Every comparison becomes an IN or EXISTS subquery on
// attr_values (or on memberships for users' groups and groups' members),
// so an index serves each one.
//
// Parameters are numbered (?1, ?2, …) so that parts of a statement can be
// built in any order.
type builder struct {
	kind   int
	tenant string
	args   []any
	alias  int
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("?%d", len(b.args))
}

func (b *builder) newAlias() string {
	b.alias++
	return fmt.Sprintf("a%d", b.alias)
}

// invalidFilter returns the error for a filter the store cannot evaluate.
func invalidFilter(format string, args ...any) error {
	return schemas.Errorf("invalidFilter", format, args...)
}

// attrPath returns the attr_values path of p.
func attrPath(p schemas.Path) string {
	return strings.ToLower(strings.Join(p.Keys(), "."))
}

// filter returns a condition that holds for the resources, whose id is
// the SQL expression id, that match f.
func (b *builder) filter(f schemas.Filter, id string) (string, error) {
	switch f := f.(type) {
	case schemas.And:
		return b.binary(f.Left, f.Right, "AND", id)
	case *schemas.And:
		return b.binary(f.Left, f.Right, "AND", id)
	case schemas.Or:
		return b.binary(f.Left, f.Right, "OR", id)
	case *schemas.Or:
		return b.binary(f.Left, f.Right, "OR", id)
	case schemas.Not:
		return b.not(f.Filter, id)
	case *schemas.Not:
		return b.not(f.Filter, id)
	case schemas.Compare:
		return b.compare(f, id)
	case *schemas.Compare:
		return b.compare(*f, id)
	case schemas.ValuePath:
		return b.valuePath(f, id)
	case *schemas.ValuePath:
		return b.valuePath(*f, id)
	case nil:
		return "", invalidFilter("empty filter")
	default:
		return "", invalidFilter("unsupported filter expression %T", f)
	}
}

func (b *builder) binary(left, right schemas.Filter, op, id string) (string, error) {
	l, err := b.filter(left, id)
	if err != nil {
		return "", err
	}
	r, err := b.filter(right, id)
	if err != nil {
		return "", err
	}
	return "(" + l + " " + op + " " + r + ")", nil
}

func (b *builder) not(f schemas.Filter, id string) (string, error) {
	c, err := b.filter(f, id)
	if err != nil {
		return "", err
	}
	return "NOT " + c, nil
}

// negated reports whether c is evaluated as the negation of a positive
// comparison: ne is "not eq", and eq null is "not pr".
func negated(c schemas.Compare) (schemas.Compare, bool) {
	switch {
	case c.Op == schemas.Ne && c.Value == nil:
		c.Op = schemas.Pr
		return c, false
	case c.Op == schemas.Ne:
		c.Op = schemas.Eq
		return c, true
	case c.Op == schemas.Eq && c.Value == nil:
		c.Op = schemas.Pr
		return c, true
	}
	return c, false
}

func (b *builder) compare(c schemas.Compare, id string) (string, error) {
	c, neg := negated(c)
	cond, err := b.positiveCompare(c, id)
	if err != nil {
		return "", err
	}
	if neg {
		return "NOT " + cond, nil
	}
	return cond, nil
}

// positiveCompare translates a comparison other than ne and eq null.
func (b *builder) positiveCompare(c schemas.Compare, id string) (string, error) {
	if c.Path.Attr == nil {
		return "", invalidFilter("comparison without an attribute")
	}
	if m, ok := b.membershipAttr(c.Path); ok {
		cond, err := b.membershipCompare(c, "m")
		if err != nil {
			return "", err
		}
		if m == "groups" {
			return fmt.Sprintf("%s IN (SELECT m.user_id FROM memberships m WHERE m.tenant = %s AND %s)",
				id, b.arg(b.tenant), cond), nil
		}
		return fmt.Sprintf("%s IN (SELECT m.group_id FROM memberships m WHERE %s)", id, cond), nil
	}
	a := b.newAlias()
	cond, err := b.valueCond(c, a)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s IN (SELECT %s.id FROM attr_values %s WHERE %s.kind = %d AND %s)",
		id, a, a, a, b.kind, cond), nil
}

// membershipAttr reports whether p is derived from memberships: the
// groups of a user or the members of a group.
func (b *builder) membershipAttr(p schemas.Path) (string, bool) {
	if p.Extension() != "" {
		return "", false
	}
	switch {
	case b.kind == kindUser && strings.EqualFold(p.Attr.Name, "groups"):
		return "groups", true
	case b.kind == kindGroup && strings.EqualFold(p.Attr.Name, "members"):
		return "members", true
	}
	return "", false
}

// valueCond returns the condition on the attr_values row alias a for a
// positive comparison: the path and the value.
func (b *builder) valueCond(c schemas.Compare, a string) (string, error) {
	path := attrPath(c.Path)
	if c.Path.Leaf().Type == schemas.Complex {
		// Only pr reaches here for a complex attribute: any of its
		// sub-attributes has a value.
		if c.Op != schemas.Pr {
			return "", invalidFilter("operator %s needs a sub-attribute of %s", c.Op, c.Path)
		}
		return fmt.Sprintf("%s.path > %s AND %s.path < %s AND %s.lv <> ''",
			a, b.arg(path+"."), a, b.arg(path+"/"), a), nil
	}
	cond, err := b.scalarCond(c, a+".v", a+".lv", a+".t")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s.path = %s AND %s", a, b.arg(path), cond), nil
}

// scalarCond compares one value, given as the SQL expressions of its exact
// form v, its lower-cased form lv and its time t, with c.Value.
func (b *builder) scalarCond(c schemas.Compare, v, lv, t string) (string, error) {
	leaf := c.Path.Leaf()
	switch val := c.Value.(type) {
	case nil:
		if c.Op != schemas.Pr {
			return "", invalidFilter("operator %s on %s needs a value", c.Op, c.Path)
		}
		return lv + " <> ''", nil
	case time.Time:
		op, err := sqlOperator(c.Op, c.Path)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s IS NOT NULL AND %s %s %s", t, t, op, b.arg(val.UnixNano())), nil
	case bool:
		op, err := sqlOperator(c.Op, c.Path)
		if err != nil {
			return "", err
		}
		n := 0
		if val {
			n = 1
		}
		return fmt.Sprintf("%s %s %s AND typeof(%s) = 'integer'", lv, op, b.arg(n), lv), nil
	case int64, float64, int:
		// lv holds numbers unchanged.
		op, err := sqlOperator(c.Op, c.Path)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s %s AND typeof(%s) IN ('integer', 'real')", lv, op, b.arg(val), lv), nil
	case string:
		if leaf.CaseExact {
			return b.exactStringCond(c, v, lv, val)
		}
		return b.stringCond(c, lv, strings.ToLower(val))
	default:
		return "", invalidFilter("unsupported value %v for %s", c.Value, c.Path)
	}
}

// stringCond compares the string column col with val.
func (b *builder) stringCond(c schemas.Compare, col, val string) (string, error) {
	text := fmt.Sprintf("typeof(%s) = 'text'", col)
	switch c.Op {
	case schemas.Sw:
		if val == "" {
			return text, nil
		}
		return fmt.Sprintf("%s >= %s AND %s < %s", col, b.arg(val), col, b.arg(prefixEnd(val))), nil
	case schemas.Co:
		if val == "" {
			return text, nil
		}
		return fmt.Sprintf("%s AND instr(%s, %s) > 0", text, col, b.arg(val)), nil
	case schemas.Ew:
		if val == "" {
			return text, nil
		}
		return fmt.Sprintf("%s AND substr(%s, %s) = %s", text, col,
			b.arg(-utf8.RuneCountInString(val)), b.arg(val)), nil
	}
	op, err := sqlOperator(c.Op, c.Path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s %s AND %s", col, op, b.arg(val), text), nil
}

// exactStringCond compares case-sensitively. Where it can, it first
// narrows by the indexed lower-cased column lv, which every exact match
// also matches, and then checks the exact column v.
func (b *builder) exactStringCond(c schemas.Compare, v, lv, val string) (string, error) {
	lower := strings.ToLower(val)
	switch {
	case c.Op == schemas.Eq:
		return fmt.Sprintf("%s = %s AND %s = %s", lv, b.arg(lower), v, b.arg(val)), nil
	case c.Op == schemas.Sw && val != "":
		return fmt.Sprintf("%s >= %s AND %s < %s AND substr(%s, 1, %s) = %s", lv, b.arg(lower), lv,
			b.arg(prefixEnd(lower)), v, b.arg(utf8.RuneCountInString(val)), b.arg(val)), nil
	}
	return b.stringCond(c, v, val)
}

// prefixEnd returns the upper bound of the range of strings that start
// with prefix. U+10FFFF is the greatest code point, so every such string
// sorts below it unless that code point follows the prefix.
func prefixEnd(prefix string) string {
	return prefix + "\U0010FFFF"
}

func sqlOperator(op schemas.Operator, p schemas.Path) (string, error) {
	switch op {
	case schemas.Eq:
		return "=", nil
	case schemas.Gt:
		return ">", nil
	case schemas.Ge:
		return ">=", nil
	case schemas.Lt:
		return "<", nil
	case schemas.Le:
		return "<=", nil
	}
	return "", invalidFilter("operator %s is not valid for %s", op, p)
}

// membershipCompare returns a condition on the memberships row alias m
// for a positive comparison on a user's groups or a group's members.
func (b *builder) membershipCompare(c schemas.Compare, m string) (string, error) {
	sub := ""
	if c.Path.Sub != nil {
		sub = strings.ToLower(c.Path.Sub.Name)
	}
	if b.kind == kindUser {
		return b.groupsCompare(c, sub, m)
	}
	return b.membersCompare(c, sub, m)
}

func (b *builder) groupsCompare(c schemas.Compare, sub, m string) (string, error) {
	switch sub {
	case "":
		if c.Op != schemas.Pr {
			return "", invalidFilter("operator %s needs a sub-attribute of groups", c.Op)
		}
		return "1", nil
	case "type":
		return b.scalarCond(c, "'direct'", "'direct'", "NULL")
	case "value", "display":
		path := "id"
		if sub == "display" {
			path = "displayname"
		}
		a := b.newAlias()
		cond, err := b.scalarCond(c, a+".v", a+".lv", a+".t")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s.group_id IN (SELECT %s.id FROM attr_values %s WHERE %s.kind = %d AND %s.path = %s AND %s)",
			m, a, a, a, kindGroup, a, b.arg(path), cond), nil
	}
	return "", invalidFilter("filtering on %s is not supported", c.Path)
}

func (b *builder) membersCompare(c schemas.Compare, sub, m string) (string, error) {
	switch sub {
	case "":
		if c.Op != schemas.Pr {
			return "", invalidFilter("operator %s needs a sub-attribute of members", c.Op)
		}
		return "1", nil
	case "type":
		return b.scalarCond(c, "'User'", "'user'", "NULL")
	case "value":
		a := b.newAlias()
		cond, err := b.scalarCond(c, a+".v", a+".lv", a+".t")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s.user_id IN (SELECT %s.id FROM attr_values %s WHERE %s.kind = %d AND %s.path = 'id' AND %s)",
			m, a, a, a, kindUser, a, cond), nil
	case "display":
		// A member's display is the user's displayName, or its userName
		// when it has no displayName (as ListMembers returns it).
		a, d, n := b.newAlias(), b.newAlias(), b.newAlias()
		displayCond, err := b.scalarCond(c, a+".v", a+".lv", a+".t")
		if err != nil {
			return "", err
		}
		nameCond, err := b.scalarCond(c, n+".v", n+".lv", n+".t")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf(`%[1]s.user_id IN (
			SELECT %[2]s.id FROM attr_values %[2]s WHERE %[2]s.kind = 0 AND %[2]s.path = 'displayname' AND %[2]s.lv <> '' AND %[4]s
			UNION ALL
			SELECT %[3]s.id FROM attr_values %[3]s WHERE %[3]s.kind = 0 AND %[3]s.path = 'username' AND %[5]s
				AND NOT EXISTS (SELECT 1 FROM attr_values %[6]s WHERE %[6]s.kind = 0 AND %[6]s.id = %[3]s.id
					AND %[6]s.path = 'displayname' AND %[6]s.lv <> ''))`,
			m, a, n, displayCond, nameCond, d), nil
	}
	return "", invalidFilter("filtering on %s is not supported", c.Path)
}

// valuePath translates a complex attribute filter such as
// emails[type eq "work" and value co "@example.com"]: the inner filter
// must hold for the sub-attributes of one value, which share a position
// in attr_values (or one membership row for groups and members).
func (b *builder) valuePath(vp schemas.ValuePath, id string) (string, error) {
	if vp.Path.Attr == nil {
		return "", invalidFilter("complex attribute filter without an attribute")
	}
	if m, ok := b.membershipAttr(vp.Path); ok {
		return b.membershipValuePath(vp, m, id)
	}

	// The query starts from the value rows x of the leftmost positive
	// comparison that the inner filter requires, so that an index finds
	// them. Without one it starts from every value of the attribute.
	x := b.newAlias()
	var anchor string
	if c, ok := anchorCompare(vp.Filter); ok {
		cond, err := b.valueCond(c, x)
		if err != nil {
			return "", err
		}
		anchor = cond
	} else {
		path := attrPath(schemas.Path{Attr: vp.Path.Attr})
		anchor = fmt.Sprintf("%s.path > %s AND %s.path < %s", x, b.arg(path+"."), x, b.arg(path+"/"))
	}
	inner, err := b.innerFilter(vp.Filter, x)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s IN (SELECT %s.id FROM attr_values %s WHERE %s.kind = %d AND %s AND %s)",
		id, x, x, x, b.kind, anchor, inner), nil
}

// anchorCompare returns the leftmost comparison that every match of f
// satisfies and that an index can serve.
func anchorCompare(f schemas.Filter) (schemas.Compare, bool) {
	switch f := f.(type) {
	case schemas.And:
		if c, ok := anchorCompare(f.Left); ok {
			return c, true
		}
		return anchorCompare(f.Right)
	case *schemas.And:
		return anchorCompare(*f)
	case schemas.Compare:
		if _, neg := negated(f); neg || f.Op == schemas.Ne {
			return schemas.Compare{}, false
		}
		c, _ := negated(f)
		return c, true
	case *schemas.Compare:
		return anchorCompare(*f)
	}
	return schemas.Compare{}, false
}

// innerFilter translates the filter inside brackets into a condition on
// the value at the position of the attr_values row alias x.
func (b *builder) innerFilter(f schemas.Filter, x string) (string, error) {
	switch f := f.(type) {
	case schemas.And:
		return b.innerBinary(f.Left, f.Right, "AND", x)
	case *schemas.And:
		return b.innerBinary(f.Left, f.Right, "AND", x)
	case schemas.Or:
		return b.innerBinary(f.Left, f.Right, "OR", x)
	case *schemas.Or:
		return b.innerBinary(f.Left, f.Right, "OR", x)
	case schemas.Not:
		c, err := b.innerFilter(f.Filter, x)
		return "NOT " + c, err
	case *schemas.Not:
		c, err := b.innerFilter(f.Filter, x)
		return "NOT " + c, err
	case schemas.Compare:
		c, neg := negated(f)
		y := b.newAlias()
		cond, err := b.valueCond(c, y)
		if err != nil {
			return "", err
		}
		s := fmt.Sprintf("EXISTS (SELECT 1 FROM attr_values %s WHERE %s.kind = %d AND %s.id = %s.id AND %s.pos = %s.pos AND %s)",
			y, y, b.kind, y, x, y, x, cond)
		if neg {
			s = "NOT " + s
		}
		return s, nil
	case *schemas.Compare:
		return b.innerFilter(*f, x)
	}
	return "", invalidFilter("unsupported expression %T inside a complex attribute filter", f)
}

func (b *builder) innerBinary(left, right schemas.Filter, op, x string) (string, error) {
	l, err := b.innerFilter(left, x)
	if err != nil {
		return "", err
	}
	r, err := b.innerFilter(right, x)
	if err != nil {
		return "", err
	}
	return "(" + l + " " + op + " " + r + ")", nil
}

// membershipValuePath translates groups[…] of a user or members[…] of a
// group: the inner filter must hold for one membership row.
func (b *builder) membershipValuePath(vp schemas.ValuePath, kind, id string) (string, error) {
	m := b.newAlias()
	inner, err := b.membershipInner(vp.Filter, m)
	if err != nil {
		return "", err
	}
	if kind == "groups" {
		return fmt.Sprintf("%s IN (SELECT %s.user_id FROM memberships %s WHERE %s.tenant = %s AND %s)",
			id, m, m, m, b.arg(b.tenant), inner), nil
	}
	return fmt.Sprintf("EXISTS (SELECT 1 FROM memberships %s WHERE %s.group_id = %s AND %s)", m, m, id, inner), nil
}

func (b *builder) membershipInner(f schemas.Filter, m string) (string, error) {
	switch f := f.(type) {
	case schemas.And, *schemas.And, schemas.Or, *schemas.Or:
		left, right, op := splitBinary(f)
		l, err := b.membershipInner(left, m)
		if err != nil {
			return "", err
		}
		r, err := b.membershipInner(right, m)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + op + " " + r + ")", nil
	case schemas.Not:
		c, err := b.membershipInner(f.Filter, m)
		return "NOT " + c, err
	case *schemas.Not:
		c, err := b.membershipInner(f.Filter, m)
		return "NOT " + c, err
	case schemas.Compare:
		c, neg := negated(f)
		cond, err := b.membershipCompare(c, m)
		if err != nil {
			return "", err
		}
		if neg {
			cond = "NOT (" + cond + ")"
		}
		return cond, nil
	case *schemas.Compare:
		return b.membershipInner(*f, m)
	}
	return "", invalidFilter("unsupported expression %T inside a complex attribute filter", f)
}

func splitBinary(f schemas.Filter) (left, right schemas.Filter, op string) {
	switch f := f.(type) {
	case schemas.And:
		return f.Left, f.Right, "AND"
	case *schemas.And:
		return f.Left, f.Right, "AND"
	case schemas.Or:
		return f.Left, f.Right, "OR"
	case *schemas.Or:
		return f.Left, f.Right, "OR"
	}
	return nil, nil, ""
}

// sortColumn returns the attr_values column and path that sorting by p
// orders by: lv (strings lower-cased unless the attribute is case-exact,
// and numbers), v for case-exact strings, or t for dateTime attributes.
func (b *builder) sortColumn(p schemas.Path) (column, path string, err error) {
	if p.Attr == nil {
		return "", "", invalidFilter("sortBy without an attribute")
	}
	if _, ok := b.membershipAttr(p); ok || p.Leaf().Type == schemas.Complex {
		return "", "", invalidFilter("cannot sort by %s", p)
	}
	switch {
	case p.Leaf().Type == schemas.DateTime:
		return "t", attrPath(p), nil
	case p.Leaf().CaseExact:
		return "v", attrPath(p), nil
	}
	return "lv", attrPath(p), nil
}
