package webhookbridge

import (
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/temporal"
)

// temporalAttrs are the search attributes set when the bridge starts a
// link's execution, so it is findable by link id from its first event.
func temporalAttrs(linkID string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(workflows.LinkIDAttr.ValueSet(linkID))
}
