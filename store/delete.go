package store

import (
	"fmt"

	"github.com/belvo-temporal/backbone/belvo"
)

// deleteStatement removes one kind of a link's data; rows says whether what
// it removes counts as the link's rows (not bookkeeping).
type deleteStatement struct {
	what string
	sql  string // the link id is $1
	rows bool
}

// deleteLinkStatements are the deletions of DeleteLink, shared by both
// backends so neither forgets a table: every resource's rows, then the
// fetch state, the cursors and the processed webhooks.
func deleteLinkStatements() []deleteStatement {
	var out []deleteStatement
	for _, r := range belvo.AllResources() {
		out = append(out, deleteStatement{string(r), fmt.Sprintf(`DELETE FROM %s WHERE link_id = $1`, r.Table()), true})
	}
	return append(out,
		deleteStatement{"fetch state", `DELETE FROM fetch_state WHERE link_id = $1`, false},
		deleteStatement{"cursors", `DELETE FROM fetch_cursors WHERE link_id = $1`, false},
		deleteStatement{"processed webhooks", `DELETE FROM processed_webhooks WHERE link_id = $1`, false})
}
