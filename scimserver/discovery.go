package scimserver

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scimd/scimd/schemas"
)

// Schema URNs of the discovery resources (RFC 7643 §5, §6).
const (
	serviceProviderConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	resourceTypeURN          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
)

// rejectFilter rejects a discovery request that carries a filter with
// 403, as RFC 7644 §4 recommends, so that a client does not take the
// unfiltered result for a filtered one.
func rejectFilter(r *http.Request) error {
	if r.URL.Query().Has("filter") {
		return errorf(http.StatusForbidden, "", "the discovery endpoints do not support filter")
	}
	return nil
}

// serviceProviderConfig states what this server supports (RFC 7643 §5),
// including the pagination block of RFC 9865 §4.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	if err := rejectFilter(r); err != nil {
		return err
	}
	base := baseURL(r)
	doc := map[string]any{
		"schemas":          []string{serviceProviderConfigURN},
		"documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
		"patch":            map[string]any{"supported": true},
		"bulk": map[string]any{
			"supported":      true,
			"maxOperations":  s.cfg.MaxBulkOperations,
			"maxPayloadSize": s.cfg.MaxBulkPayloadBytes,
		},
		"filter": map[string]any{
			"supported":  true,
			"maxResults": s.cfg.MaxPageSize,
		},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "A credential issued by the scimd admin API, sent as Authorization: Bearer <token>.",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
			"primary":     true,
		}},
		"pagination": map[string]any{
			"cursor":                  true,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         s.cfg.MaxPageSize,
			"maxPageSize":             s.cfg.MaxPageSize,
			"cursorTimeout":           int64(s.cfg.CursorTTL.Seconds()),
		},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     base + "/ServiceProviderConfig",
		},
	}
	return writeJSON(w, http.StatusOK, doc)
}

func resourceTypeDocument(base string, rt *schemas.ResourceType) map[string]any {
	extensions := make([]any, 0, len(rt.Extensions))
	for _, ext := range rt.Extensions {
		extensions = append(extensions, map[string]any{"schema": ext.ID, "required": false})
	}
	return map[string]any{
		"schemas":          []string{resourceTypeURN},
		"id":               rt.Name,
		"name":             rt.Name,
		"endpoint":         rt.Endpoint,
		"description":      rt.Description,
		"schema":           rt.Schema.ID,
		"schemaExtensions": extensions,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     base + "/ResourceTypes/" + rt.Name,
		},
	}
}

func (s *Server) listResourceTypes(w http.ResponseWriter, r *http.Request) error {
	if err := rejectFilter(r); err != nil {
		return err
	}
	base := baseURL(r)
	var docs []any
	for _, rt := range schemas.ResourceTypes() {
		docs = append(docs, resourceTypeDocument(base, rt))
	}
	return writeJSON(w, http.StatusOK, discoveryList(docs))
}

func (s *Server) getResourceType(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	for _, rt := range schemas.ResourceTypes() {
		if strings.EqualFold(rt.Name, name) {
			return writeJSON(w, http.StatusOK, resourceTypeDocument(baseURL(r), rt))
		}
	}
	return errorf(http.StatusNotFound, "", "no resource type %q", name)
}

func schemaLocation(base string, sc *schemas.Schema) string {
	return base + "/Schemas/" + url.PathEscape(sc.ID)
}

func (s *Server) listSchemas(w http.ResponseWriter, r *http.Request) error {
	if err := rejectFilter(r); err != nil {
		return err
	}
	base := baseURL(r)
	var docs []any
	for _, sc := range schemas.AllSchemas() {
		docs = append(docs, sc.Document(schemaLocation(base, sc)))
	}
	return writeJSON(w, http.StatusOK, discoveryList(docs))
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	for _, sc := range schemas.AllSchemas() {
		if strings.EqualFold(sc.ID, id) {
			return writeJSON(w, http.StatusOK, sc.Document(schemaLocation(baseURL(r), sc)))
		}
	}
	return errorf(http.StatusNotFound, "", "no schema %q", id)
}

// discoveryList wraps discovery resources in a ListResponse, which RFC
// 7644 §4 uses for /ResourceTypes and /Schemas.
func discoveryList(docs []any) map[string]any {
	return map[string]any{
		"schemas":      []string{schemas.ListResponseURN},
		"totalResults": len(docs),
		"itemsPerPage": len(docs),
		"startIndex":   1,
		"Resources":    docs,
	}
}
