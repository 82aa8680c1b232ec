// Package schemas defines the SCIM resource types that scimd serves (User
// with the EnterpriseUser extension, and Group) and the operations that
// depend only on their schemas: attribute lookup, validation of request
// bodies, filter parsing and in-memory matching, PATCH application and
// attribute projection.
//
// The schema definitions come from github.com/elimity-com/scim/schema. This
// package reads them through their accessors into Attribute values that the
// rest of scimd uses, so that no other package depends on that library's
// types.
package schemas
