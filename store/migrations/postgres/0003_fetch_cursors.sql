-- 0003: where each resource's next incremental read starts. newest is the
-- latest of Belvo's own row timestamps (collected_at or created_at) seen on
-- the rows stored, never this product's clock, so correctness does not
-- depend on clocks agreeing. It only moves forward (GREATEST), and goes
-- with the link's other data when the link is deleted.

CREATE TABLE fetch_cursors (
    link_id    text        NOT NULL,
    resource   text        NOT NULL,
    newest     timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (link_id, resource)
);
