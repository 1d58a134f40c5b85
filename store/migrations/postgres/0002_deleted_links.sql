-- 0002: links deleted at Belvo. A deleted link's rows, fetch state and
-- processed webhooks are removed; this tombstone stays, so that a listing
-- still running when the deletion came cannot write the link's rows back,
-- and executions a late webhook starts for the link end at once.

CREATE TABLE deleted_links (
    link_id    text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
