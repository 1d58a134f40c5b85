// Package specval checks HTTP requests against Belvo's published OpenAPI
// documents. The project's rule is that Belvo's documents are the reference:
// every request the product can send must be a documented request. Tests put
// a Validator in front of the emulator (or any fake Belvo) so that a request
// Belvo does not document fails the test that sent it, instead of passing
// against an emulator that was written to accept it.
//
// kin-openapi validates what a spec declares (required parameters, types,
// enums, formats, body schemas, security), but it ignores what a spec does
// not declare. An undeclared query parameter, an undeclared body property or
// an undeclared X-Belvo-* header is exactly how a client drifts away from the
// documents, so the Validator adds those strict checks on top.
package specval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The versions of Belvo's spec a request is checked against, in order of
// preference: the current one, then the older one that still holds the
// Mexico banking endpoints the current one dropped.
const (
	CurrentVersion = "v1.223.0"
	LegacyVersion  = "v1.35.0"
)

// specFiles maps each version to its file in the spec directory, in the
// order requests are checked.
var specFiles = []struct{ version, file string }{
	{CurrentVersion, "belvo-openapi-v1.223.0.json"},
	{LegacyVersion, "belvo-openapi-v1.35.0.yaml"},
}

// Errors a Violation wraps, so tests can tell why a request was refused.
// Schema, enum, format, security and required-parameter failures come from
// kin-openapi as *openapi3filter.RequestError values instead.
var (
	// ErrUndocumented: no spec documents the request's method and path.
	ErrUndocumented = errors.New("no Belvo spec documents this method and path")
	// ErrUndeclaredQuery: a query parameter the operation does not declare.
	ErrUndeclaredQuery = errors.New("undeclared query parameter")
	// ErrUndeclaredHeader: an X-Belvo-* header the operation does not
	// declare (standard HTTP headers are not operation parameters and are
	// not checked).
	ErrUndeclaredHeader = errors.New("undeclared Belvo header")
	// ErrUndeclaredProperty: a top-level body property the request body
	// schema does not declare.
	ErrUndeclaredProperty = errors.New("undeclared body property")
)

// GuideExtension is a request Belvo documents in a guide rather than in
// its OpenAPI specs. The guide this product implements, "Asynchronous
// workflows and requests" (shared/reference/belvo-async-workflows.txt),
// shows two requests the specs do not describe: registering a Mexico retail
// bank link with fetch_resources, and a widget token with external_id,
// fetch_historical and fetch_resources. Both are Belvo's own published
// documents, so both are accepted, each exactly as far as the guide goes.
type GuideExtension struct {
	Version     string
	OperationID string
	// Properties are the body properties the guide adds.
	Properties []string
	// BodyByGuideOnly: no body schema of the spec describes the guide's
	// request (the widget token's variants are Brazil's and Mexico
	// fiscal's), so only the property names are checked, against the
	// spec's and the guide's.
	BodyByGuideOnly bool
	// Guide names the document and what it shows.
	Guide string
}

// GuideExtensions are the requests Belvo's guide documents beyond its
// specs. Keep this list short: each entry is a place where the product
// relies on a guide because the specs are silent or disagree.
var GuideExtensions = []GuideExtension{
	{Version: LegacyVersion, OperationID: "RegisterLink", Properties: []string{"fetch_resources"},
		Guide: `"Asynchronous workflows and requests": POST /api/links/ for erebor_mx_retail with "fetch_resources": ["ACCOUNTS", "TRANSACTIONS", "OWNERS"]`},
	{Version: CurrentVersion, OperationID: "GenerateWidgetAccessToken", Properties: []string{"external_id", "fetch_historical"}, BodyByGuideOnly: true,
		Guide: `"Asynchronous workflows and requests": POST /api/token/ with id, password, external_id, scopes, "fetch_historical": true and fetch_resources`},
}

// guideExtension is the extension of one spec operation, if any.
func guideExtension(version, operationID string) (GuideExtension, bool) {
	for _, e := range GuideExtensions {
		if e.Version == version && e.OperationID == operationID {
			return e, true
		}
	}
	return GuideExtension{}, false
}

// maxBody bounds how much of a request body is buffered; Belvo's request
// bodies are small JSON objects.
const maxBody = 32 << 20

// spec is one parsed document and its path router.
type spec struct {
	version string
	doc     *openapi3.T
	router  routers.Router
}

// loaded parses one directory's specs once: they are megabytes of JSON and
// YAML, and every test of a process shares the result.
type loaded struct {
	once  sync.Once
	specs []*spec
	err   error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*loaded{}
)

// loadSpecs returns the parsed specs of dir, parsing them on first use.
func loadSpecs(dir string) ([]*spec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("specval: spec directory %s: %w", dir, err)
	}
	cacheMu.Lock()
	l, ok := cache[abs]
	if !ok {
		l = &loaded{}
		cache[abs] = l
	}
	cacheMu.Unlock()
	l.once.Do(func() { l.specs, l.err = parseSpecs(abs) })
	return l.specs, l.err
}

func parseSpecs(dir string) ([]*spec, error) {
	out := make([]*spec, 0, len(specFiles))
	for _, f := range specFiles {
		path := filepath.Join(dir, f.file)
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("specval: load Belvo spec %s (%s): %w", f.version, path, err)
		}
		// The servers are Belvo's hostnames; the emulator runs on
		// 127.0.0.1. Without servers the router matches on the path alone.
		doc.Servers = nil
		for _, item := range doc.Paths.Map() {
			item.Servers = nil
		}
		widenDocumentedTimestamps(doc)
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("specval: route Belvo spec %s: %w", f.version, err)
		}
		out = append(out, &spec{version: f.version, doc: doc, router: r})
	}
	return out, nil
}

// Violation is one request no spec accepts.
type Violation struct {
	Method string
	Path   string
	Query  string // raw query, "" when none
	// OperationID is the operation of the first spec that documents the
	// method and path, "" when none does.
	OperationID string
	// Err holds each spec's reasons, one "version: reason" per spec.
	Err error
}

// String renders the request and every reason, for test failures.
func (v Violation) String() string {
	target := v.Path
	if v.Query != "" {
		target += "?" + v.Query
	}
	op := ""
	if v.OperationID != "" {
		op = " (" + v.OperationID + ")"
	}
	return fmt.Sprintf("%s %s%s: %v", v.Method, target, op, v.Err)
}

// Validator checks requests against Belvo's specs and records what it saw.
// It is safe for concurrent use.
type Validator struct {
	specs []*spec

	mu         sync.Mutex
	violations []Violation
	ops        map[string]int
}

// Load builds a Validator over the specs in dir (parsed once per process
// and directory).
func Load(dir string) (*Validator, error) {
	specs, err := loadSpecs(dir)
	if err != nil {
		return nil, err
	}
	return &Validator{specs: specs, ops: map[string]int{}}, nil
}

// New is Load for tests: it fails the test when the specs cannot be read.
// Tests pass testenv.SpecDir(t) as dir.
func New(t testing.TB, dir string) *Validator {
	t.Helper()
	v, err := Load(dir)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v
}

// Wrap validates every request under /api/ before handing it to next, and
// records the violations and the operations seen. It never refuses a
// request: flows go on, so one test reports every undocumented request it
// made, not only the first. Other paths (the emulator's /_sandbox control
// endpoints) pass unchecked.
func (v *Validator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			op, err := v.Check(r)
			v.record(r, op, err)
		}
		next.ServeHTTP(w, r)
	})
}

func (v *Validator) record(r *http.Request, op string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if op != "" {
		v.ops[op]++
	}
	if err != nil {
		v.violations = append(v.violations, Violation{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, OperationID: op, Err: err})
	}
}

// Violations returns a copy of the violations recorded so far, in order.
func (v *Validator) Violations() []Violation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Violation(nil), v.violations...)
}

// Operations returns how many requests matched each operationId: the one a
// spec validated, or, for a violation, the first documented one. Tests use
// it to prove a flow reached the operations it was meant to.
func (v *Validator) Operations() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.ops))
	for k, n := range v.ops {
		out[k] = n
	}
	return out
}

// AssertNoViolations fails t with every recorded violation.
func (v *Validator) AssertNoViolations(t testing.TB) {
	t.Helper()
	for _, vi := range v.Violations() {
		t.Errorf("request not documented by Belvo's specs: %s", vi)
	}
}

// Check validates one request and returns the operationId it matched. The
// request is valid when at least one spec that documents its method and
// path accepts it, trying v1.223.0 first and v1.35.0 next; otherwise the
// error holds every spec's reasons. The body is read and put back, so the
// request can still be served.
func (v *Validator) Check(r *http.Request) (string, error) {
	body, err := readBody(r)
	if err != nil {
		return "", fmt.Errorf("specval: read %s %s body: %w", r.Method, r.URL.Path, err)
	}
	var (
		firstOp    string
		reasons    []error
		documented bool
	)
	for _, s := range v.specs {
		op, ok, err := s.check(r, body)
		if ok && firstOp == "" {
			firstOp = op
		}
		documented = documented || ok
		if ok && err == nil {
			return op, nil
		}
		reasons = append(reasons, fmt.Errorf("%s: %w", s.version, err))
	}
	if !documented {
		return "", fmt.Errorf("%w: %w", ErrUndocumented, errors.Join(reasons...))
	}
	return firstOp, errors.Join(reasons...)
}

// readBody buffers the body and puts an identical reader back in its place.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data, nil
}

// check validates r against one spec. ok is false when the spec does not
// document the method and path (err then says why).
func (s *spec) check(r *http.Request, body []byte) (op string, ok bool, err error) {
	// kin-openapi may rewrite the request (defaults, body): give it a copy.
	req := r.Clone(context.Background())
	req.Body, req.ContentLength = http.NoBody, 0
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return "", false, fmt.Errorf("%s %s is not documented (%v)", r.Method, r.URL.Path, err)
	}
	ext, extended := guideExtension(s.version, route.Operation.OperationID)
	if extended && !ext.BodyByGuideOnly {
		body = without(body, ext.Properties) // the guide's additions; the rest is the spec's
	}
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError:                        true,
			SkipSettingDefaults:               true,
			RejectWhenRequestBodyNotSpecified: true,
			AuthenticationFunc:                authenticate,
			ExcludeRequestBody:                extended && ext.BodyByGuideOnly,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				// Bodies carry bank credentials and secret keys: reasons
				// must not quote values (nor whole schemas, which drown them).
				openapi3.DisableSchemaErrorDetails(),
				// kin-openapi leaves uuid unchecked by default; Belvo's ids
				// are uuids and the specs say so.
				openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
			},
		},
	}
	var errs []error
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, undeclaredQuery(route, r)...)
	errs = append(errs, undeclaredHeaders(route, r)...)
	errs = append(errs, undeclaredProperties(route, r, body, ext.Properties)...)
	return route.Operation.OperationID, true, errors.Join(errs...)
}

// without removes top-level properties from a JSON object body (anything
// else is returned as it is).
func without(body []byte, props []string) []byte {
	var obj map[string]json.RawMessage
	if len(props) == 0 || json.Unmarshal(body, &obj) != nil {
		return body
	}
	for _, p := range props {
		delete(obj, p)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

// authenticate accepts the schemes Belvo documents (HTTP Basic with the
// secret keys): the credentials themselves are the emulator's business,
// their presence and shape are the document's.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	sch := in.SecurityScheme
	req := in.RequestValidationInput.Request
	if sch.Type == "http" && strings.EqualFold(sch.Scheme, "basic") {
		if req.Header.Get("Authorization") == "" {
			return in.NewError(errors.New("no Authorization header"))
		}
		if _, _, ok := req.BasicAuth(); !ok {
			return in.NewError(errors.New("the Authorization header is not HTTP Basic"))
		}
		return nil
	}
	return in.NewError(fmt.Errorf("security scheme %q (%s %s) is not one this client uses", in.SecuritySchemeName, sch.Type, sch.Scheme))
}

// declared returns the parameters of the operation and its path item that
// are in the given location, by name (header names canonicalised).
func declared(route *routers.Route, in string) map[string]bool {
	out := map[string]bool{}
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p == nil || p.Value == nil || p.Value.In != in {
				continue
			}
			name := p.Value.Name
			if in == openapi3.ParameterInHeader {
				name = http.CanonicalHeaderKey(name)
			}
			out[name] = true
		}
	}
	return out
}

// undeclaredQuery reports query parameters the operation does not declare:
// kin-openapi ignores them, and Belvo may ignore them too, silently
// returning unfiltered data.
func undeclaredQuery(route *routers.Route, r *http.Request) []error {
	known := declared(route, openapi3.ParameterInQuery)
	var errs []error
	for _, name := range sortedKeys(r.URL.Query()) {
		if !known[name] {
			errs = append(errs, fmt.Errorf("%w %q for %s", ErrUndeclaredQuery, name, route.Operation.OperationID))
		}
	}
	return errs
}

// undeclaredHeaders reports X-Belvo-* headers the operation does not
// declare (for example X-Belvo-Request-Mode on an operation that has no
// async mode).
func undeclaredHeaders(route *routers.Route, r *http.Request) []error {
	known := declared(route, openapi3.ParameterInHeader)
	var errs []error
	for _, name := range sortedKeys(r.Header) {
		if strings.HasPrefix(strings.ToLower(name), "x-belvo-") && !known[http.CanonicalHeaderKey(name)] {
			errs = append(errs, fmt.Errorf("%w %q for %s", ErrUndeclaredHeader, name, route.Operation.OperationID))
		}
	}
	return errs
}

// undeclaredProperties reports top-level properties of a JSON object body
// that no alternative of the request body schema declares. Anything else
// about the body (types, required fields, enums) is kin-openapi's check.
func undeclaredProperties(route *routers.Route, r *http.Request, body []byte, extra []string) []error {
	rb := route.Operation.RequestBody
	if len(body) == 0 || rb == nil || rb.Value == nil {
		return nil
	}
	mt := rb.Value.Content.Get(r.Header.Get("Content-Type"))
	if mt == nil || mt.Schema == nil {
		return nil // kin-openapi reports the content type
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil // not an object: kin-openapi reports the type
	}
	alts := propertySets(mt.Schema, 0)
	for _, set := range alts {
		for _, p := range extra {
			if set != nil {
				set[p] = true
			}
		}
	}
	best, bestMissing := -1, []string(nil)
	for i, set := range alts {
		if set == nil {
			return nil // this alternative allows any property
		}
		var missing []string
		for _, k := range sortedKeys(obj) {
			if !set[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if best < 0 || len(missing) < len(bestMissing) {
			best, bestMissing = i, missing
		}
	}
	if best < 0 {
		return nil
	}
	errs := make([]error, 0, len(bestMissing))
	for _, k := range bestMissing {
		errs = append(errs, fmt.Errorf("%w %q for %s (declared: %s)", ErrUndeclaredProperty, k, route.Operation.OperationID,
			strings.Join(sortedKeys(alts[best]), ", ")))
	}
	return errs
}

// maxDepth stops $ref cycles through allOf/oneOf/anyOf.
const maxDepth = 16

// propertySets returns, for each alternative shape of an object schema
// (one per oneOf/anyOf branch, with allOf parts merged in), the set of
// property names it declares; a nil set means the alternative accepts any
// property (explicit additionalProperties, or no constraint at all).
func propertySets(ref *openapi3.SchemaRef, depth int) []map[string]bool {
	if ref == nil || ref.Value == nil || depth > maxDepth {
		return []map[string]bool{nil}
	}
	s := ref.Value
	ap := s.AdditionalProperties
	if (ap.Has != nil && *ap.Has) || ap.Schema != nil {
		return []map[string]bool{nil}
	}
	composed := len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0
	if len(s.Properties) == 0 && !composed && (s.Type == nil || s.Type.IsEmpty()) {
		return []map[string]bool{nil} // an unconstrained schema
	}
	own := map[string]bool{}
	for name := range s.Properties {
		own[name] = true
	}
	sets := []map[string]bool{own}
	for _, part := range s.AllOf {
		sets = cross(sets, propertySets(part, depth+1))
	}
	for _, branches := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(branches) == 0 {
			continue
		}
		var alts []map[string]bool
		for _, b := range branches {
			alts = append(alts, propertySets(b, depth+1)...)
		}
		sets = cross(sets, alts)
	}
	return sets
}

// cross merges every set of a with every set of b (nil: any property).
func cross(a, b []map[string]bool) []map[string]bool {
	out := make([]map[string]bool, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if x == nil || y == nil {
				out = append(out, nil)
				continue
			}
			m := make(map[string]bool, len(x)+len(y))
			for k := range x {
				m[k] = true
			}
			for k := range y {
				m[k] = true
			}
			out = append(out, m)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
