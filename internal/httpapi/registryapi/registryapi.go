package registryapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// ContentType is the schema registry's media type.
const ContentType = "application/vnd.schemaregistry.v1+json"

// maxBody caps a request body: schemas are documents, not data.
const maxBody = 4 << 20

// Options configure a Handler.
type Options struct {
	// Registry is the registry served. Required.
	Registry *registry.Registry
	// Logger logs store failures (50001). Default slog.Default().
	Logger *slog.Logger
	// Audit receives one event per change: schema.register,
	// schema.delete, schema.state, registry.config, registry.mode, with
	// the actor from the request's httpapi.Principal. Default none.
	Audit audit.Log
}

// Handler serves the API. Paths are relative to where it is mounted.
type Handler struct {
	reg   *registry.Registry
	log   *slog.Logger
	mux   *http.ServeMux
	audit audit.Log
}

var _ http.Handler = (*Handler)(nil)

// New returns the API handler.
func New(opts Options) (*Handler, error) {
	if opts.Registry == nil {
		return nil, errors.New("registryapi: Options.Registry is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{reg: opts.Registry, log: opts.Logger, mux: http.NewServeMux(), audit: opts.Audit}
	h.mux.HandleFunc("GET /schemas/types", h.types)
	h.mux.HandleFunc("GET /schemas/ids/{id}", h.schemaByID)
	h.mux.HandleFunc("GET /schemas/ids/{id}/schema", h.schemaTextByID)
	h.mux.HandleFunc("GET /schemas/ids/{id}/subjects", h.subjectsByID)
	h.mux.HandleFunc("GET /schemas/ids/{id}/versions", h.versionsByID)
	h.mux.HandleFunc("GET /schemas/guids/{guid}", h.schemaByGUID)
	h.mux.HandleFunc("GET /subjects", h.subjects)
	h.mux.HandleFunc("POST /subjects/{subject}", h.lookup)
	h.mux.HandleFunc("DELETE /subjects/{subject}", h.deleteSubject)
	h.mux.HandleFunc("GET /subjects/{subject}/versions", h.versions)
	h.mux.HandleFunc("POST /subjects/{subject}/versions", h.register)
	h.mux.HandleFunc("GET /subjects/{subject}/versions/{version}", h.version)
	h.mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", h.versionSchema)
	h.mux.HandleFunc("DELETE /subjects/{subject}/versions/{version}", h.deleteVersion)
	h.mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", h.check)
	h.mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", h.check)
	h.mux.HandleFunc("GET /config", h.getConfig)
	h.mux.HandleFunc("PUT /config", h.putConfig)
	h.mux.HandleFunc("DELETE /config", h.deleteConfig)
	h.mux.HandleFunc("GET /config/{subject}", h.getConfig)
	h.mux.HandleFunc("PUT /config/{subject}", h.putConfig)
	h.mux.HandleFunc("DELETE /config/{subject}", h.deleteConfig)
	h.mux.HandleFunc("GET /mode", h.getMode)
	h.mux.HandleFunc("PUT /mode", h.putMode)
	h.mux.HandleFunc("DELETE /mode", h.deleteMode)
	h.mux.HandleFunc("GET /mode/{subject}", h.getMode)
	h.mux.HandleFunc("PUT /mode/{subject}", h.putMode)
	h.mux.HandleFunc("DELETE /mode/{subject}", h.deleteMode)
	h.mux.HandleFunc("GET /{$}", h.root)
	h.mux.HandleFunc("GET /schemas", h.all)
	h.mux.HandleFunc("GET /contexts", h.contexts)
	h.mux.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", h.referencedBy)
	h.mux.HandleFunc("GET /subjects/{subject}/metadata", h.latestWithMetadata)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || (mt != ContentType && mt != "application/json" && mt != "application/octet-stream") {
				w.Header().Set("Content-Type", ContentType)
				h.failCode(w, codeUnsupportedMediaType, fmt.Sprintf("unsupported content type %q: want %s or application/json", ct, ContentType))
				return
			}
		}
	}
	// Unknown paths and methods answer in Confluent's error shape too.
	if _, pattern := h.mux.Handler(r); pattern == "" {
		if h.otherMethod(r) {
			h.failCode(w, codeMethodNotAllowed, "HTTP 405 Method Not Allowed")
			return
		}
		h.failCode(w, codeNotFound, "HTTP 404 Not Found")
		return
	}
	h.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

// decode reads the request body into v.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(b) > maxBody {
		return fmt.Errorf("request body over %d bytes", maxBody)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}

func flag(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

// version parses a version path segment: a positive number, "latest" or -1.
func parseVersion(s string) (int, error) {
	if s == "latest" {
		return registry.Latest, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v == 0 || v < registry.Latest {
		return 0, fmt.Errorf("%w: the specified version '%s' is not a valid version id; allowed values are between [1, 2^31-1] and the string \"latest\"", registry.ErrInvalidVersion, s)
	}
	return v, nil
}

func (h *Handler) root(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct{}{})
}

// schemaJSON is a schema in Confluent's shape (Confluent Platform 8's, with
// its guid); schemaType is omitted for AVRO, as Confluent does.
type schemaJSON struct {
	Subject    string `json:"subject,omitempty"`
	Version    int    `json:"version,omitempty"`
	ID         int    `json:"id,omitempty"`
	GUID       string `json:"guid,omitempty"`
	SchemaType string `json:"schemaType,omitempty"`
	Schema     string `json:"schema"`
	// Metadata and RuleSet are the schema's data contract, stored as
	// canonical JSON; absent when none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	RuleSet  json.RawMessage `json:"ruleSet,omitempty"`
}

func typeOf(f schema.Format) string {
	if f == schema.FormatAvro {
		return ""
	}
	return string(f)
}

// schemaBody answers s (with its id and GUID) in the format r asks for.
func (h *Handler) schemaBody(w http.ResponseWriter, r *http.Request, s registry.Schema) (schemaJSON, bool) {
	text, ok := h.formatted(w, r, s)
	return schemaJSON{
		ID: s.ID, GUID: s.GUID, SchemaType: typeOf(s.Format), Schema: text,
		Metadata: rawJSON(s.Metadata), RuleSet: rawJSON(s.RuleSet),
	}, ok
}

// subjectSchema answers a version with its schema in the format r asks
// for.
func (h *Handler) subjectSchema(w http.ResponseWriter, r *http.Request, s registry.SubjectSchema) (schemaJSON, bool) {
	out, ok := h.schemaBody(w, r, s.Schema)
	out.Subject, out.Version = s.Subject, s.Version.Version
	return out, ok
}

// formatted returns s's text in the ?format= of r, as Confluent's
// formattedString does: "serialized" is a Protobuf schema as a base64
// binary FileDescriptorProto (what Confluent's Protobuf deserializers ask
// for); every other format, and every format of the other types, is the
// text as stored ("resolved" inlines schema references, which the
// registry does not have), unknown ones included, for forward
// compatibility.
func (h *Handler) formatted(w http.ResponseWriter, r *http.Request, s registry.Schema) (string, bool) {
	if s.Format != schema.FormatProtobuf || !strings.EqualFold(r.URL.Query().Get("format"), "serialized") {
		return s.Text, true
	}
	b, err := protobuf.Serialized(s.Text)
	if err != nil {
		// A stored schema always compiled: this is a schema stored by
		// another build of the gateway.
		h.fail(w, r, fmt.Errorf("%w: schema %d does not compile any more: %w", registry.ErrInvalidSchema, s.ID, err))
		return "", false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// rawJSON is stored canonical JSON as the API returns it: nil, omitted,
// when there is none.
func rawJSON(stored string) json.RawMessage {
	if stored == "" {
		return nil
	}
	return json.RawMessage(stored)
}

func (h *Handler) types(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{string(schema.FormatJSON), string(schema.FormatAvro), string(schema.FormatProtobuf)})
}

func (h *Handler) schemaID(w http.ResponseWriter, r *http.Request) (registry.Schema, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		h.failCode(w, codeSchemaNotFound, "Schema "+r.PathValue("id")+" not found")
		return registry.Schema{}, false
	}
	s, err := h.reg.SchemaByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return registry.Schema{}, false
	}
	return s, true
}

func (h *Handler) schemaByID(w http.ResponseWriter, r *http.Request) {
	s, ok := h.schemaID(w, r)
	if !ok {
		return
	}
	if out, ok := h.schemaBody(w, r, s); ok {
		out.ID = 0 // Confluent answers the id asked for without it
		writeJSON(w, http.StatusOK, out)
	}
}

// schemaByGUID answers the schema a GUID names (Confluent's wire format
// 0x01): its id, GUID, type and text.
func (h *Handler) schemaByGUID(w http.ResponseWriter, r *http.Request) {
	s, err := h.reg.SchemaByGUID(r.Context(), r.PathValue("guid"))
	if errors.Is(err, registry.ErrSchemaNotFound) {
		h.failCode(w, codeSchemaNotFound, "Schema "+r.PathValue("guid")+" not found")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if out, ok := h.schemaBody(w, r, s); ok {
		writeJSON(w, http.StatusOK, out)
	}
}

func (h *Handler) schemaTextByID(w http.ResponseWriter, r *http.Request) {
	s, ok := h.schemaID(w, r)
	if !ok {
		return
	}
	if text, ok := h.formatted(w, r, s); ok {
		writeRaw(w, text)
	}
}

// writeRaw answers a schema's own text, as the /schema endpoints do.
func writeRaw(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

func (h *Handler) usages(w http.ResponseWriter, r *http.Request) ([]registry.Version, bool) {
	s, ok := h.schemaID(w, r)
	if !ok {
		return nil, false
	}
	vs, err := h.reg.VersionsByID(r.Context(), s.ID, flag(r, "deleted"))
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return vs, true
}

func (h *Handler) subjectsByID(w http.ResponseWriter, r *http.Request) {
	vs, ok := h.usages(w, r)
	if !ok {
		return
	}
	out := []string{}
	for _, v := range vs {
		if len(out) == 0 || out[len(out)-1] != v.Subject {
			out = append(out, v.Subject)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (h *Handler) versionsByID(w http.ResponseWriter, r *http.Request) {
	vs, ok := h.usages(w, r)
	if !ok {
		return
	}
	out := make([]subjectVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, subjectVersion{Subject: v.Subject, Version: v.Version})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) subjects(w http.ResponseWriter, r *http.Request) {
	out, err := h.reg.Subjects(r.Context(), flag(r, "deleted"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) versions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.reg.Versions(r.Context(), r.PathValue("subject"), flag(r, "deleted"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]int, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Version)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) (registry.SubjectSchema, bool) {
	v, err := parseVersion(r.PathValue("version"))
	if err != nil {
		h.fail(w, r, err)
		return registry.SubjectSchema{}, false
	}
	s, err := h.reg.Get(r.Context(), r.PathValue("subject"), v, flag(r, "deleted"))
	if err != nil {
		h.fail(w, r, err)
		return registry.SubjectSchema{}, false
	}
	return s, true
}

func (h *Handler) version(w http.ResponseWriter, r *http.Request) {
	s, ok := h.get(w, r)
	if !ok {
		return
	}
	if out, ok := h.subjectSchema(w, r, s); ok {
		writeJSON(w, http.StatusOK, out)
	}
}

func (h *Handler) versionSchema(w http.ResponseWriter, r *http.Request) {
	s, ok := h.get(w, r)
	if !ok {
		return
	}
	if text, ok := h.formatted(w, r, s.Schema); ok {
		writeRaw(w, text)
	}
}

// latestWithMetadata serves GET /subjects/{subject}/metadata: the newest
// version whose metadata properties hold every ?key=...&value=... pair.
func (h *Handler) latestWithMetadata(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	keys, values := q["key"], q["value"]
	if len(keys) != len(values) {
		h.failCode(w, codeInvalidSchema, fmt.Sprintf("%d keys and %d values: give one value per key", len(keys), len(values)))
		return
	}
	want := make(map[string]string, len(keys))
	for i, k := range keys {
		want[k] = values[i]
	}
	s, err := h.reg.LatestWithMetadata(r.Context(), r.PathValue("subject"), want, flag(r, "deleted"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if out, ok := h.subjectSchema(w, r, s); ok {
		writeJSON(w, http.StatusOK, out)
	}
}

// schemaRequest is the body of register, lookup and compatibility calls.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
	ID         int               `json:"id"`
	Version    int               `json:"version"`
	// RuleSet and Metadata are the data contract registered with the
	// schema; a lookup that gives them matches them too.
	RuleSet  *registry.RuleSet  `json:"ruleSet"`
	Metadata *registry.Metadata `json:"metadata"`
}

func (h *Handler) readSchema(w http.ResponseWriter, r *http.Request) (schemaRequest, schema.Format, bool) {
	var req schemaRequest
	if err := decode(r, &req); err != nil {
		h.failCode(w, codeInvalidSchema, err.Error())
		return req, "", false
	}
	if len(req.References) > 0 {
		h.failCode(w, codeInvalidSchema, "schema references are not supported yet")
		return req, "", false
	}
	if req.Schema == "" {
		h.failCode(w, codeInvalidSchema, "empty schema")
		return req, "", false
	}
	f, err := registry.ParseFormat(req.SchemaType)
	if err != nil {
		h.fail(w, r, err)
		return req, "", false
	}
	return req, f, true
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	req, f, ok := h.readSchema(w, r)
	if !ok {
		return
	}
	if req.ID < 0 {
		req.ID = 0
	}
	if req.Version < 0 {
		req.Version = 0
	}
	s, err := h.Register(r.Context(), registry.RegisterRequest{
		Subject: r.PathValue("subject"), Format: f, Schema: req.Schema, ID: req.ID, Version: req.Version,
		RuleSet: req.RuleSet, Metadata: req.Metadata, Normalize: flag(r, "normalize"),
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Confluent Platform 8 answers the registered schema whole, guid
	// included (its serializers write the guid); older ones, the id only.
	out, ok := h.subjectSchema(w, r, s)
	if !ok {
		return
	}
	out.Subject = ""
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) {
	req, f, ok := h.readSchema(w, r)
	if !ok {
		return
	}
	s, err := h.reg.Lookup(r.Context(), registry.LookupRequest{
		Subject: r.PathValue("subject"), Format: f, Schema: req.Schema, Deleted: flag(r, "deleted"),
		RuleSet: req.RuleSet, Metadata: req.Metadata,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if out, ok := h.subjectSchema(w, r, s); ok {
		writeJSON(w, http.StatusOK, out)
	}
}

func (h *Handler) deleteSubject(w http.ResponseWriter, r *http.Request) {
	out, err := h.reg.DeleteSubject(r.Context(), r.PathValue("subject"), flag(r, "permanent"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "schema.delete", "schema/"+r.PathValue("subject"), map[string]any{"versions": out, "permanent": flag(r, "permanent")})
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) deleteVersion(w http.ResponseWriter, r *http.Request) {
	v, err := parseVersion(r.PathValue("version"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	n, err := h.reg.DeleteVersion(r.Context(), r.PathValue("subject"), v, flag(r, "permanent"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "schema.delete", schemaTarget(r.PathValue("subject"), n), map[string]any{"permanent": flag(r, "permanent")})
	writeJSON(w, http.StatusOK, n)
}

type checkResponse struct {
	IsCompatible bool `json:"is_compatible"`
	Messages     any  `json:"messages,omitempty"` // only with verbose, then always a list
}

func (h *Handler) check(w http.ResponseWriter, r *http.Request) {
	version := 0
	if s := r.PathValue("version"); s != "" {
		v, err := parseVersion(s)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		version = v
	}
	req, f, ok := h.readSchema(w, r)
	if !ok {
		return
	}
	subject := r.PathValue("subject")
	if version != 0 {
		// A specific version of a missing subject is a 404, as in
		// Confluent; checking against all versions of one is compatible.
		if _, err := h.reg.Versions(r.Context(), subject, false); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	res, err := h.reg.Check(r.Context(), subject, version, f, req.Schema)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := checkResponse{IsCompatible: res.Compatible}
	if flag(r, "verbose") {
		out.Messages = registry.Messages(res.Breaking())
	}
	writeJSON(w, http.StatusOK, out)
}

// subjectLevelSet answers, for GET /config/{subject} and /mode/{subject}
// without defaultToGlobal, Confluent's "not configured" error when the
// subject has no setting of its own (set reports whether it has), and
// reports whether the request may go on.
func (h *Handler) subjectLevelSet(w http.ResponseWriter, r *http.Request, set func(registry.Config) bool, code int, what string) bool {
	subject := r.PathValue("subject")
	if subject == "" || flag(r, "defaultToGlobal") {
		return true
	}
	c, err := h.reg.Config(r.Context(), subject)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		h.fail(w, r, err)
		return false
	}
	if !set(c) {
		h.failCode(w, code, "Subject '"+subject+"' does not have subject-level "+what+" configured")
		return false
	}
	return true
}

type configResponse struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

func (h *Handler) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if !h.subjectLevelSet(w, r, func(c registry.Config) bool { return c.Compatibility != "" }, codeSubjectLevelCompatNotSet, "compatibility") {
		return
	}
	level, err := h.reg.Compatibility(r.Context(), subject)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{CompatibilityLevel: string(level)})
}

// configRequest is the body of PUT /config. Besides the level, Confluent
// has settings the registry does not: given a value other than their
// default, they are refused rather than dropped.
type configRequest struct {
	Compatibility      string          `json:"compatibility"`
	CompatibilityLevel string          `json:"compatibilityLevel"`
	Normalize          *bool           `json:"normalize"`
	Alias              string          `json:"alias"`
	CompatibilityGroup string          `json:"compatibilityGroup"`
	ValidateFields     *bool           `json:"validateFields"`
	DefaultMetadata    json.RawMessage `json:"defaultMetadata"`
	OverrideMetadata   json.RawMessage `json:"overrideMetadata"`
	DefaultRuleSet     json.RawMessage `json:"defaultRuleSet"`
	OverrideRuleSet    json.RawMessage `json:"overrideRuleSet"`
}

// unsupported names the settings of c the registry does not keep.
func (c *configRequest) unsupported() []string {
	var out []string
	if c.Normalize != nil && *c.Normalize {
		out = append(out, "normalize (pass ?normalize=true when registering instead)")
	}
	if c.ValidateFields != nil && *c.ValidateFields {
		out = append(out, "validateFields")
	}
	for name, v := range map[string]string{"alias": c.Alias, "compatibilityGroup": c.CompatibilityGroup} {
		if v != "" {
			out = append(out, name)
		}
	}
	for name, v := range map[string]json.RawMessage{
		"defaultMetadata": c.DefaultMetadata, "overrideMetadata": c.OverrideMetadata,
		"defaultRuleSet": c.DefaultRuleSet, "overrideRuleSet": c.OverrideRuleSet,
	} {
		if len(v) > 0 && string(v) != "null" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (h *Handler) putConfig(w http.ResponseWriter, r *http.Request) {
	var req configRequest
	if err := decode(r, &req); err != nil {
		h.failCode(w, codeInvalidCompatibility, err.Error())
		return
	}
	if u := req.unsupported(); len(u) > 0 {
		h.failCode(w, codeInvalidCompatibility, "this registry does not support the configuration settings "+strings.Join(u, ", ")+": only compatibility is configurable")
		return
	}
	if req.Compatibility == "" {
		req.Compatibility = req.CompatibilityLevel
	}
	level, err := h.reg.SetCompatibility(r.Context(), r.PathValue("subject"), req.Compatibility)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "registry.config", configTarget(r), map[string]any{"compatibility": level})
	writeJSON(w, http.StatusOK, struct {
		Compatibility string `json:"compatibility"`
	}{string(level)})
}

func (h *Handler) deleteConfig(w http.ResponseWriter, r *http.Request) {
	prev, err := h.reg.DeleteCompatibility(r.Context(), r.PathValue("subject"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "registry.config", configTarget(r), map[string]any{"deleted": prev})
	// Confluent's documentation and clients disagree on the field's name
	// here (franz-go reads "compatibility"): answer both.
	writeJSON(w, http.StatusOK, struct {
		Compatibility      string `json:"compatibility"`
		CompatibilityLevel string `json:"compatibilityLevel"`
	}{string(prev), string(prev)})
}

type modeBody struct {
	Mode string `json:"mode"`
}

func (h *Handler) getMode(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if !h.subjectLevelSet(w, r, func(c registry.Config) bool { return c.Mode != "" }, codeSubjectLevelModeNotSet, "mode") {
		return
	}
	m, err := h.reg.Mode(r.Context(), subject)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, modeBody{Mode: string(m)})
}

func (h *Handler) putMode(w http.ResponseWriter, r *http.Request) {
	var req modeBody
	if err := decode(r, &req); err != nil {
		h.failCode(w, codeInvalidMode, err.Error())
		return
	}
	m, err := h.reg.SetMode(r.Context(), r.PathValue("subject"), req.Mode)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "registry.mode", configTarget(r), map[string]any{"mode": m})
	writeJSON(w, http.StatusOK, modeBody{Mode: string(m)})
}

func (h *Handler) deleteMode(w http.ResponseWriter, r *http.Request) {
	prev, err := h.reg.DeleteMode(r.Context(), r.PathValue("subject"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.record(r, "registry.mode", configTarget(r), map[string]any{"deleted": prev})
	writeJSON(w, http.StatusOK, modeBody{Mode: string(prev)})
}

// otherMethod reports whether r's path is served under another method.
func (h *Handler) otherMethod(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			return true
		}
	}
	return false
}

// all serves GET /schemas: every live version (?deleted=true: every one;
// ?latestOnly=true: each subject's latest) whose subject starts with
// ?subjectPrefix.
func (h *Handler) all(w http.ResponseWriter, r *http.Request) {
	all, err := h.reg.All(r.Context(), flag(r, "deleted"), flag(r, "latestOnly"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	prefix := r.URL.Query().Get("subjectPrefix")
	out := make([]schemaJSON, 0, len(all))
	for _, s := range all {
		if !strings.HasPrefix(s.Subject, prefix) {
			continue
		}
		body, ok := h.subjectSchema(w, r, s)
		if !ok {
			return
		}
		out = append(out, body)
	}
	writeJSON(w, http.StatusOK, out)
}

// contexts serves GET /contexts: only the default context exists.
func (h *Handler) contexts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{"."})
}

// referencedBy serves GET .../referencedby: references are not supported,
// so no schema refers to any version.
func (h *Handler) referencedBy(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.get(w, r); ok {
		writeJSON(w, http.StatusOK, []int{})
	}
}

// record appends the audit event of a change that succeeded, and tells the
// auth middleware it needs no generic one. The change is done: a failure to
// record it is logged, not answered.
func (h *Handler) record(r *http.Request, action, target string, details any) {
	h.recordCtx(r.Context(), action, target, details)
}

// recordCtx appends the audit event of a change made by ctx's principal.
func (h *Handler) recordCtx(reqCtx context.Context, action, target string, details any) {
	if h.audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), 10*time.Second)
	defer cancel()
	if err := h.audit.Append(ctx, httpapi.AuditEvent(reqCtx, action, target, "", details)); err != nil {
		h.log.ErrorContext(ctx, "appending to the audit log", "action", action, "target", target, "err", err)
		return
	}
	audit.Recorded(reqCtx)
}

// schemaTarget names a subject's version as an audit target.
func schemaTarget(subject string, version int) string {
	return "schema/" + subject + "/" + strconv.Itoa(version)
}

// configTarget names the configuration a /config or /mode call changes:
// a subject's, or the global one.
func configTarget(r *http.Request) string {
	if s := r.PathValue("subject"); s != "" {
		return "schema/" + s
	}
	return "registry/global"
}
