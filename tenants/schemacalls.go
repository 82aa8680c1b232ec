package tenants

import (
	"fmt"
	"maps"

	"github.com/scimd/scimd/schemas"
)

// This file holds every call into package schemas, so that the rest of
// the package reads in domain terms.

func userResource() *schemas.ResourceType  { return schemas.User }
func groupResource() *schemas.ResourceType { return schemas.Group }

// normalizeUser validates a User request body and returns its attributes
// in canonical form.
func normalizeUser(body map[string]any) (map[string]any, error) {
	attrs, err := userResource().Normalize(body)
	if err != nil {
		return nil, clientError(err)
	}
	return attrs, nil
}

// normalizeGroup validates a Group request body and returns its
// attributes without members, and the member user ids apart (nil when the
// body has no members attribute).
func normalizeGroup(body map[string]any) (map[string]any, []string, error) {
	rest := maps.Clone(body)
	members, err := schemas.TakeMembers(rest)
	if err != nil {
		return nil, nil, clientError(err)
	}
	attrs, err := groupResource().Normalize(rest)
	if err != nil {
		return nil, nil, clientError(err)
	}
	return attrs, members, nil
}

func checkImmutableUser(old, updated map[string]any) error {
	return clientError(userResource().CheckImmutable(old, updated))
}

func checkImmutableGroup(old, updated map[string]any) error {
	return clientError(groupResource().CheckImmutable(old, updated))
}

func patchUser(attrs map[string]any, ops []schemas.PatchOp, hashes *schemas.PasswordHashes) (*schemas.PatchResult, error) {
	result, err := userResource().ApplyPatchHashed(attrs, ops, hashes)
	if err != nil {
		return nil, clientError(err)
	}
	return result, nil
}

func patchGroup(attrs map[string]any, ops []schemas.PatchOp) (*schemas.PatchResult, error) {
	result, err := groupResource().ApplyPatch(attrs, ops)
	if err != nil {
		return nil, clientError(err)
	}
	return result, nil
}

// equalsFilter returns the filter `attr eq "value"` for a core attribute
// of the resource type. The attribute's caseExact decides how the store
// compares.
func equalsFilter(rt *schemas.ResourceType, attr, value string) (schemas.Filter, error) {
	a := rt.Schema.Attribute(attr)
	if a == nil {
		return nil, fmt.Errorf("resource type %s has no attribute %q", rt.Name, attr)
	}
	return schemas.Compare{Path: schemas.Path{Attr: a}, Op: schemas.Eq, Value: value}, nil
}
