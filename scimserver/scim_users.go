package scimserver

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	return s.listResources(w, r, schemas.User)
}

func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) error {
	return s.search(w, r, []*schemas.ResourceType{schemas.User})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.User)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	u, err := s.svc.CreateUser(r.Context(), t, body)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return s.writeUser(w, r, t, http.StatusCreated, u, proj)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.User)
	if err != nil {
		return err
	}
	u, err := s.svc.GetUser(r.Context(), t, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	groups, err := s.userGroups(r, t, u.ID)
	if err != nil {
		return err
	}
	if tag := userETag(u, groups); notModified(r, tag) {
		return writeNotModified(w, tag)
	}
	return s.writeUserWithGroups(w, r, http.StatusOK, u, groups, proj)
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.User)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.userTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	u, err := s.svc.ReplaceUser(r.Context(), t, id, body, ifVersion)
	if err != nil {
		return fmt.Errorf("replace user: %w", err)
	}
	return s.writeUser(w, r, t, http.StatusOK, u, proj)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.User)
	if err != nil {
		return err
	}
	ops, err := s.decodePatch(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.userTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	u, err := s.svc.PatchUser(r.Context(), t, id, ops, ifVersion)
	if err != nil {
		return fmt.Errorf("patch user: %w", err)
	}
	if preferMinimal(r) {
		groups, err := s.userGroups(r, t, u.ID)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", userETag(u, groups))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.writeUser(w, r, t, http.StatusOK, u, proj)
}

// deleteUser deletes the user on the main account. On a sandbox,
// tenants.Service removes the user from the sandbox's groups instead.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	t, err := requestTenant(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.userTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteUser(r.Context(), t, id, ifVersion); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userGroups returns the tenant's groups of one user.
func (s *Server) userGroups(r *http.Request, t *tenants.Tenant, id string) ([]storage.GroupRef, error) {
	byUser, err := s.svc.UserGroups(r.Context(), t, []string{id})
	if err != nil {
		return nil, fmt.Errorf("read groups of user: %w", err)
	}
	return byUser[id], nil
}

// writeUser writes the tenant's view of one user with its ETag, and with
// Location when status is 201. A user just created is in no group.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, t *tenants.Tenant, status int, u *storage.User, proj *schemas.Projection) error {
	var groups []storage.GroupRef
	if status != http.StatusCreated {
		var err error
		if groups, err = s.userGroups(r, t, u.ID); err != nil {
			return err
		}
	}
	return s.writeUserWithGroups(w, r, status, u, groups, proj)
}

// writeUserWithGroups is writeUser with the user's groups already read.
func (s *Server) writeUserWithGroups(w http.ResponseWriter, r *http.Request, status int, u *storage.User, groups []storage.GroupRef, proj *schemas.Projection) error {
	base := baseURL(r)
	doc := userDocument(base, u, groups, proj.Includes("groups"))
	// The tag is hashed once, for meta.version, and reused for the header.
	w.Header().Set("ETag", doc["meta"].(map[string]any)["version"].(string))
	if status == http.StatusCreated {
		w.Header().Set("Location", base+"/Users/"+u.ID)
	}
	return writeJSON(w, status, proj.Apply(doc))
}

// patchRequest is a PATCH body (RFC 7644 §3.5.2).
type patchRequest struct {
	Schemas    []string          `json:"schemas"`
	Operations []schemas.PatchOp `json:"Operations"`
}

// decodePatch reads a PATCH body and returns its operations.
func (s *Server) decodePatch(w http.ResponseWriter, r *http.Request) ([]schemas.PatchOp, error) {
	var req patchRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return nil, err
	}
	return checkPatch(&req)
}

func checkPatch(req *patchRequest) ([]schemas.PatchOp, error) {
	if len(req.Schemas) > 0 && !slices.Contains(req.Schemas, schemas.PatchOpURN) {
		return nil, schemas.Errorf("invalidSyntax", "schemas must contain %s", schemas.PatchOpURN)
	}
	if len(req.Operations) == 0 {
		return nil, schemas.Errorf("invalidSyntax", "the PATCH request has no Operations")
	}
	return req.Operations, nil
}
