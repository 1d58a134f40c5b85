package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// checkSearchAttributes refuses to start a worker on a namespace that lacks
// one of the product's search attributes: its workflows would fail every
// task that sets it (an upgrade that adds an attribute must register it
// before new workers roll out), so failing at start, with the command that
// fixes it, is kinder than a fleet of stuck executions.
func checkSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list the search attributes of namespace %s: %w", namespace, err)
	}
	have := resp.GetCustomAttributes()
	var missing []string
	for _, k := range workflows.SearchAttributes() {
		t, ok := have[k.GetName()]
		if !ok || t != k.GetValueType() {
			missing = append(missing, fmt.Sprintf("temporal operator search-attribute create --namespace %s --name %s --type %s",
				namespace, k.GetName(), workflows.SearchAttributeType(k)))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks search attributes the workflows set; register them first:\n  %s",
			namespace, strings.Join(missing, "\n  "))
	}
	return nil
}
