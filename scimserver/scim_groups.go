package scimserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// memberPageSize is how many members one ListMembers call reads while a
// group is written, which bounds the memory of a group of any size.
const memberPageSize = 500

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	return s.listResources(w, r, schemas.Group)
}

func (s *Server) searchGroups(w http.ResponseWriter, r *http.Request) error {
	return s.search(w, r, []*schemas.ResourceType{schemas.Group})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.Group)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	g, err := s.svc.CreateGroup(r.Context(), t, body)
	if err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	return s.writeGroup(w, r, t, http.StatusCreated, g, proj)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.Group)
	if err != nil {
		return err
	}
	g, err := s.svc.GetGroup(r.Context(), t, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get group: %w", err)
	}
	if tag := etag(g.Version); notModified(r, tag) {
		return writeNotModified(w, tag)
	}
	return s.writeGroup(w, r, t, http.StatusOK, g, proj)
}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.Group)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.groupTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	g, err := s.svc.ReplaceGroup(r.Context(), t, id, body, ifVersion)
	if err != nil {
		return fmt.Errorf("replace group: %w", err)
	}
	return s.writeGroup(w, r, t, http.StatusOK, g, proj)
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) error {
	t, proj, err := requestScope(r, schemas.Group)
	if err != nil {
		return err
	}
	ops, err := s.decodePatch(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.groupTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	g, err := s.svc.PatchGroup(r.Context(), t, id, ops, ifVersion)
	if err != nil {
		return fmt.Errorf("patch group: %w", err)
	}
	if !groupPatchWantsBody(r) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.writeGroup(w, r, t, http.StatusOK, g, proj)
}

// groupPatchWantsBody reports whether a successful group PATCH returns the
// group (200) rather than 204 No Content. RFC 7644 §3.5.2 lets the server
// choose. scimd returns 204 unless the client requests the resource with
// attributes, excludedAttributes or Prefer: return=representation
// (RFC 7240 §4.2), because the whole group of a large membership is
// megabytes that identity providers pushing membership in batches never
// read: Okta's and Entra ID's documented group PATCH exchanges expect 204.
func groupPatchWantsBody(r *http.Request) bool {
	q := r.URL.Query()
	if q.Has("attributes") || q.Has("excludedAttributes") {
		return !preferMinimal(r)
	}
	return preferReturn(r, "representation")
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	t, err := requestTenant(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ifVersion, err := ifMatchVersion(r, s.groupTag(r.Context(), t, id))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteGroup(r.Context(), t, id, ifVersion); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeGroup writes one group with its ETag, and with Location when
// status is 201.
func (s *Server) writeGroup(w http.ResponseWriter, r *http.Request, t *tenants.Tenant, status int, g *storage.Group, proj *schemas.Projection) error {
	base := baseURL(r)
	w.Header().Set("ETag", etag(g.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", base+"/Groups/"+g.ID)
	}
	out := newBufferedResponse(w, status)
	if err := s.writeGroupJSON(r.Context(), out, t, base, g, proj); err != nil {
		return out.fail(err)
	}
	out.Write([]byte{'\n'})
	return out.finish()
}

// memberFields is the set of member sub-attributes a projection returns.
type memberFields struct{ value, display, ref, typ bool }

func selectMemberFields(proj *schemas.Projection) (memberFields, bool) {
	f := memberFields{
		value:   proj.Includes("members.value"),
		display: proj.Includes("members.display"),
		ref:     proj.Includes("members.$ref"),
		typ:     proj.Includes("members.type"),
	}
	return f, f.value || f.display || f.ref || f.typ
}

// writeGroupJSON writes a group document. The members are read with
// ListMembers memberPageSize at a time and written as they arrive, after
// the rest of the document. A projection without members reads none.
//
// The pieces are separate reads, so a membership change while a large
// group is written may show in the later pieces but not the earlier ones.
func (s *Server) writeGroupJSON(ctx context.Context, out io.Writer, t *tenants.Tenant, base string, g *storage.Group, proj *schemas.Projection) error {
	body, err := json.Marshal(proj.Apply(groupDocument(base, g)))
	if err != nil {
		return fmt.Errorf("encode group: %w", err)
	}
	fields, withMembers := selectMemberFields(proj)
	if !withMembers {
		_, err := out.Write(body)
		return err
	}

	// body is a JSON object; reopen it to append the members.
	out.Write(body[:len(body)-1])
	if len(body) > 2 {
		out.Write([]byte{','})
	}
	out.Write([]byte(`"members":[`))
	after, first := "", true
	for {
		members, err := s.svc.ListMembers(ctx, t, g.ID, after, memberPageSize)
		if err != nil {
			return fmt.Errorf("list members of group %s: %w", g.ID, err)
		}
		for _, m := range members {
			if !first {
				out.Write([]byte{','})
			}
			first = false
			if err := writeMember(out, base, m, fields); err != nil {
				return err
			}
		}
		if len(members) < memberPageSize {
			break
		}
		after = members[len(members)-1].UserID
	}
	_, err = out.Write([]byte("]}"))
	return err
}

func writeMember(out io.Writer, base string, m storage.Member, f memberFields) error {
	doc := make(map[string]any, 4)
	if f.value {
		doc["value"] = m.UserID
	}
	if f.display && m.Display != "" {
		doc["display"] = m.Display
	}
	if f.ref {
		doc["$ref"] = base + "/Users/" + m.UserID
	}
	if f.typ {
		doc["type"] = "User"
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode member: %w", err)
	}
	_, err = out.Write(body)
	return err
}
