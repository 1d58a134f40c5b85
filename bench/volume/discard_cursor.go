package main

import (
	"context"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// The download-only baseline keeps no cursor either: every listing it
// measures is a whole one.

func (d *discard) Cursor(context.Context, string, belvo.Resource) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (d *discard) AdvanceCursor(context.Context, string, belvo.Resource, time.Time) error {
	return nil
}
func (d *discard) DropCursor(context.Context, string, belvo.Resource) error { return nil }
