-- 0001: the initial schema of the PostgreSQL store.
-- One table per Belvo resource, keyed by Belvo's id so that a retried
-- activity overwrites instead of duplicating; link_id is indexed because every
-- read (counts, deletes, the app's own queries) is per link. data is jsonb so
-- the backend can query inside Belvo's objects.

CREATE TABLE fetch_state (
    link_id    text        NOT NULL,
    resource   text        NOT NULL,
    rows       integer     NOT NULL,
    fetched_at timestamptz NOT NULL,
    PRIMARY KEY (link_id, resource)
);

CREATE TABLE processed_webhooks (
    link_id      text        NOT NULL,
    key          text        NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (link_id, key)
);

CREATE TABLE accounts (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX accounts_link ON accounts (link_id);

CREATE TABLE bills (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX bills_link ON bills (link_id);

CREATE TABLE cl_debt_reports (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX cl_debt_reports_link ON cl_debt_reports (link_id);

CREATE TABLE cl_invoices (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX cl_invoices_link ON cl_invoices (link_id);

CREATE TABLE current_employments (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX current_employments_link ON current_employments (link_id);

CREATE TABLE employments (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX employments_link ON employments (link_id);

CREATE TABLE employment_metrics (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX employment_metrics_link ON employment_metrics (link_id);

CREATE TABLE employment_records (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX employment_records_link ON employment_records (link_id);

CREATE TABLE exchanges (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX exchanges_link ON exchanges (link_id);

CREATE TABLE financial_statements (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX financial_statements_link ON financial_statements (link_id);

CREATE TABLE incomes (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX incomes_link ON incomes (link_id);

CREATE TABLE investments (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX investments_link ON investments (link_id);

CREATE TABLE investment_transactions (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX investment_transactions_link ON investment_transactions (link_id);

CREATE TABLE invoices (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX invoices_link ON invoices (link_id);

CREATE TABLE owners (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX owners_link ON owners (link_id);

CREATE TABLE recurring_expenses (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX recurring_expenses_link ON recurring_expenses (link_id);

CREATE TABLE risk_insights (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX risk_insights_link ON risk_insights (link_id);

CREATE TABLE tax_compliance_status (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX tax_compliance_status_link ON tax_compliance_status (link_id);

CREATE TABLE tax_retentions (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX tax_retentions_link ON tax_retentions (link_id);

CREATE TABLE tax_returns (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX tax_returns_link ON tax_returns (link_id);

CREATE TABLE tax_status (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX tax_status_link ON tax_status (link_id);

CREATE TABLE transactions (
    id         text        PRIMARY KEY,
    link_id    text        NOT NULL,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX transactions_link ON transactions (link_id);
