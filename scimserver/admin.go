package scimserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// registerAdmin adds the admin API. Every route requires an admin
// credential, and errors use the SCIM error body so that one client
// handles both APIs.
func (s *Server) registerAdmin(mux *http.ServeMux) {
	routes := []struct {
		pattern string
		handler handlerFunc
	}{
		{"POST /admin/v1/sandboxes", s.createSandbox},
		{"GET /admin/v1/sandboxes", s.listSandboxes},
		{"GET /admin/v1/sandboxes/{id}", s.getSandbox},
		{"DELETE /admin/v1/sandboxes/{id}", s.deleteSandbox},
		{"POST /admin/v1/sandboxes/{id}/invitations", s.invite},
		{"POST /admin/v1/credentials", s.issueCredential},
		{"GET /admin/v1/credentials", s.listCredentials},
		{"DELETE /admin/v1/credentials/{id}", s.revokeCredential},
	}
	for _, route := range routes {
		mux.Handle(route.pattern, s.handle(route.pattern, s.requireAdmin(route.handler)))
	}
}

// requireAdmin runs h only for a request with an admin credential.
func (s *Server) requireAdmin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, cred, err := s.authorize(r, "", true)
		if err != nil {
			setChallenge(w, r, err)
			return err
		}
		if info := infoFrom(r.Context()); info != nil {
			info.tenantID = storage.AdminTenant
			info.credentialID = cred.ID
		}
		return h(w, r)
	}
}

// sandboxJSON is a sandbox as the admin API shows it.
type sandboxJSON struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Created     time.Time `json:"created"`
	SCIMBaseURL string    `json:"scimBaseUrl"`
}

func (s *Server) sandboxJSON(r *http.Request, sb *storage.Sandbox) sandboxJSON {
	return sandboxJSON{
		ID:          sb.ID,
		DisplayName: sb.DisplayName,
		Created:     sb.Created.UTC(),
		SCIMBaseURL: s.serverURL(r) + "/sandboxes/" + sb.ID + "/scim/v2",
	}
}

func (s *Server) createSandbox(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if err := decodeAdminJSON(r, &req); err != nil {
		return err
	}
	sb, err := s.svc.CreateSandbox(r.Context(), req.ID, req.DisplayName)
	if err != nil {
		return fmt.Errorf("create sandbox %q: %w", req.ID, err)
	}
	w.Header().Set("Location", s.serverURL(r)+"/admin/v1/sandboxes/"+sb.ID)
	return writeAdminJSON(w, http.StatusCreated, s.sandboxJSON(r, sb))
}

func (s *Server) listSandboxes(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListSandboxes(r.Context())
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	out := make([]sandboxJSON, 0, len(list))
	for _, sb := range list {
		out = append(out, s.sandboxJSON(r, sb))
	}
	return writeAdminJSON(w, http.StatusOK, map[string]any{"sandboxes": out})
}

func (s *Server) getSandbox(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	sb, err := s.svc.GetSandbox(r.Context(), id)
	if err != nil {
		return fmt.Errorf("get sandbox %q: %w", id, err)
	}
	return writeAdminJSON(w, http.StatusOK, s.sandboxJSON(r, sb))
}

func (s *Server) deleteSandbox(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteSandbox(r.Context(), id); err != nil {
		return fmt.Errorf("delete sandbox %q: %w", id, err)
	}
	s.logger.Info("sandbox deleted", "sandbox", id, "request_id", requestIDFrom(r.Context()))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	sandboxID := r.PathValue("id")
	var req struct {
		UserName string   `json:"userName"`
		Groups   []string `json:"groups"`
	}
	if err := decodeAdminJSON(r, &req); err != nil {
		return err
	}
	if req.UserName == "" || len(req.Groups) == 0 {
		return &tenants.Error{
			Kind:     tenants.ErrInvalid,
			ScimType: "invalidValue",
			Detail:   "an invitation needs a userName and at least one group",
		}
	}
	inv, err := s.svc.Invite(r.Context(), sandboxID, req.UserName, req.Groups)
	if err != nil {
		return fmt.Errorf("invite %q to sandbox %q: %w", req.UserName, sandboxID, err)
	}
	if inv.GroupIDs == nil {
		inv.GroupIDs = []string{}
	}
	return writeAdminJSON(w, http.StatusOK, inv)
}

// credentialJSON is a credential as the admin API shows it. Token is set
// only in the response that issues the credential.
type credentialJSON struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Token       string    `json:"token,omitempty"`
}

func (s *Server) issueCredential(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Tenant      string `json:"tenant"`
		Description string `json:"description"`
	}
	if err := decodeAdminJSON(r, &req); err != nil {
		return err
	}
	if req.Tenant == "" {
		return &tenants.Error{
			Kind:     tenants.ErrInvalid,
			ScimType: "invalidValue",
			Detail:   `tenant is missing: use "main" or a sandbox id`,
		}
	}
	issued, err := s.svc.IssueCredential(r.Context(), req.Tenant, req.Description)
	if err != nil {
		return fmt.Errorf("issue credential for %q: %w", req.Tenant, err)
	}

	c := issued.Credential
	s.logger.Info("credential issued", "credential_id", c.ID, "tenant", issued.TenantID,
		"request_id", requestIDFrom(r.Context()))
	w.Header().Set("Location", s.serverURL(r)+"/admin/v1/credentials/"+c.ID)
	// The secret must not be kept by caches between the server and the
	// administrator.
	w.Header().Set("Cache-Control", "no-store")
	return writeAdminJSON(w, http.StatusCreated, credentialJSON{
		ID:          c.ID,
		Tenant:      issued.TenantID,
		Description: c.Description,
		Created:     c.Created.UTC(),
		Token:       issued.Token,
	})
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListCredentials(r.Context())
	if err != nil {
		return fmt.Errorf("list credentials: %w", err)
	}
	out := make([]credentialJSON, 0, len(list))
	for _, info := range list {
		out = append(out, credentialJSON{
			ID:          info.Credential.ID,
			Tenant:      info.TenantID,
			Description: info.Credential.Description,
			Created:     info.Credential.Created.UTC(),
		})
	}
	return writeAdminJSON(w, http.StatusOK, map[string]any{"credentials": out})
}

func (s *Server) revokeCredential(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.RevokeCredential(r.Context(), id); err != nil {
		return fmt.Errorf("revoke credential %q: %w", id, err)
	}
	s.logger.Info("credential revoked", "credential_id", id, "request_id", requestIDFrom(r.Context()))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeAdminJSON decodes a request body holding one JSON object into v.
// Unknown fields are rejected, so that a misspelt field name fails instead
// of being ignored.
func decodeAdminJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// writeError maps *http.MaxBytesError to 413.
		return fmt.Errorf("read request body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &tenants.Error{
			Kind:     tenants.ErrInvalid,
			ScimType: "invalidSyntax",
			Detail:   "request body is not a valid JSON object for this request: " + jsonErrorText(err),
		}
	}
	if dec.More() {
		return &tenants.Error{
			Kind:     tenants.ErrInvalid,
			ScimType: "invalidSyntax",
			Detail:   "request body has data after the JSON object",
		}
	}
	return nil
}

// jsonErrorText describes a decoding error without echoing the body.
func jsonErrorText(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return "the body must be a JSON object, not a JSON " + typ.Value
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind()))
	default:
		// The remaining decoder errors (unknown field, unexpected end)
		// name a field or position, never a value.
		return err.Error()
	}
}

// jsonKind names a Go kind as the JSON type that decodes into it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return "number"
	}
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return nil
}
