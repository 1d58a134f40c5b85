package specval

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// timestampPhrase is how Belvo's spec says, in a parameter's description,
// that a filter whose schema reads format: date also takes a timestamp:
// collected_at__gte and its siblings, "YYYY-MM-DD or full `ISO-8601`
// timestamp". The description is Belvo's own document as much as the
// schema is, so such a parameter takes either form; no other parameter is
// widened.
const timestampPhrase = "or full `iso-8601` timestamp"

// widenDocumentedTimestamps lets every query parameter whose description
// documents a full timestamp take a date-time as well as a date. It returns
// how many parameters it widened.
func widenDocumentedTimestamps(doc *openapi3.T) int {
	n := 0
	seen := map[*openapi3.Parameter]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range params {
					if p == nil || p.Value == nil || seen[p.Value] {
						continue
					}
					seen[p.Value] = true
					if widenTimestamp(p.Value) {
						n++
					}
				}
			}
		}
	}
	return n
}

func widenTimestamp(p *openapi3.Parameter) bool {
	if p.In != openapi3.ParameterInQuery || p.Schema == nil || p.Schema.Value == nil ||
		p.Schema.Value.Format != "date" || !strings.Contains(strings.ToLower(p.Description), timestampPhrase) {
		return false
	}
	p.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{
		Type:  &openapi3.Types{openapi3.TypeString},
		AnyOf: openapi3.SchemaRefs{openapi3.NewDateTimeSchema().NewRef(), p.Schema},
	})
	return true
}
