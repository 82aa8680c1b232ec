package scimserver

import (
	"net/http"
	"strings"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/tenants"
)

// registerSCIM registers the SCIM endpoints under prefix, which is
// "/scim/v2" for the main account or "/sandboxes/{sandbox}/scim/v2" for a
// sandbox. Both kinds serve the same endpoints; what a tenant may do is
// decided by tenants.Service. The mux wrapper of Handler writes the 404
// and 405 errors of unknown paths and wrong methods under the prefix.
func (s *Server) registerSCIM(mux *http.ServeMux, prefix string) {
	route := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		full := method + " " + prefix + path
		mux.Handle(full, s.scimHandler(full, h))
	}

	route("GET /Users", s.listUsers)
	route("POST /Users", s.createUser)
	route("POST /Users/.search", s.searchUsers)
	route("GET /Users/.search", searchNeedsPost)
	route("GET /Users/{id}", s.getUser)
	route("PUT /Users/{id}", s.replaceUser)
	route("PATCH /Users/{id}", s.patchUser)
	route("DELETE /Users/{id}", s.deleteUser)

	route("GET /Groups", s.listGroups)
	route("POST /Groups", s.createGroup)
	route("POST /Groups/.search", s.searchGroups)
	route("GET /Groups/.search", searchNeedsPost)
	route("GET /Groups/{id}", s.getGroup)
	route("PUT /Groups/{id}", s.replaceGroup)
	route("PATCH /Groups/{id}", s.patchGroup)
	route("DELETE /Groups/{id}", s.deleteGroup)

	route("GET /{$}", s.listRoot)
	route("POST /.search", s.searchRoot)
	route("GET /.search", searchNeedsPost)
	route("POST /Bulk", s.bulk)

	route("GET /ServiceProviderConfig", s.serviceProviderConfig)
	route("GET /ResourceTypes", s.listResourceTypes)
	route("GET /ResourceTypes/{name}", s.getResourceType)
	route("GET /Schemas", s.listSchemas)
	route("GET /Schemas/{id}", s.getSchema)
}

// searchNeedsPost rejects a GET of a /.search path, which would otherwise
// read as the resource with id ".search": RFC 7644 §3.4.3 defines the
// search endpoint for POST only.
func searchNeedsPost(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Allow", http.MethodPost)
	return errorf(http.StatusMethodNotAllowed, "", "%s is searched with POST; use GET on the resource endpoint for a query string", r.URL.Path)
}

// requestScope returns the tenant of the request and its projection of
// resource type rt, the two things every resource handler starts from.
func requestScope(r *http.Request, rt *schemas.ResourceType) (*tenants.Tenant, *schemas.Projection, error) {
	t, err := requestTenant(r)
	if err != nil {
		return nil, nil, err
	}
	proj, err := projectionFromURL(r, rt)
	if err != nil {
		return nil, nil, err
	}
	return t, proj, nil
}

// projectionFromURL parses the attributes and excludedAttributes query
// parameters, which RFC 7644 §3.9 allows on every request that returns a
// resource.
func projectionFromURL(r *http.Request, rt *schemas.ResourceType) (*schemas.Projection, error) {
	q := r.URL.Query()
	return rt.ParseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
}
