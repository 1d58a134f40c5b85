-- 0004: a resource's rows are keyed by (link_id, id), the link first.
-- Before, the key was Belvo's id alone, with a second index on link_id:
-- a page of 1,000 rows with random UUIDs touched leaves all over the id
-- index, and both indexes had to be kept. Now a link's rows sit together
-- in the one index every read uses (all of them name the link), and a row
-- is the link's: the same id listed by two links is a row of each, so
-- deleting one link never removes what the other listed.
-- Rows written before keep their values; at most one row per id existed,
-- so the new key cannot collide. The key is rebuilt, so this step takes
-- time proportional to the rows stored, under an exclusive lock per table.

ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX accounts_link;

ALTER TABLE bills DROP CONSTRAINT bills_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX bills_link;

ALTER TABLE cl_debt_reports DROP CONSTRAINT cl_debt_reports_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX cl_debt_reports_link;

ALTER TABLE cl_invoices DROP CONSTRAINT cl_invoices_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX cl_invoices_link;

ALTER TABLE current_employments DROP CONSTRAINT current_employments_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX current_employments_link;

ALTER TABLE employments DROP CONSTRAINT employments_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX employments_link;

ALTER TABLE employment_metrics DROP CONSTRAINT employment_metrics_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX employment_metrics_link;

ALTER TABLE employment_records DROP CONSTRAINT employment_records_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX employment_records_link;

ALTER TABLE exchanges DROP CONSTRAINT exchanges_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX exchanges_link;

ALTER TABLE financial_statements DROP CONSTRAINT financial_statements_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX financial_statements_link;

ALTER TABLE incomes DROP CONSTRAINT incomes_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX incomes_link;

ALTER TABLE investments DROP CONSTRAINT investments_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX investments_link;

ALTER TABLE investment_transactions DROP CONSTRAINT investment_transactions_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX investment_transactions_link;

ALTER TABLE invoices DROP CONSTRAINT invoices_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX invoices_link;

ALTER TABLE owners DROP CONSTRAINT owners_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX owners_link;

ALTER TABLE recurring_expenses DROP CONSTRAINT recurring_expenses_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX recurring_expenses_link;

ALTER TABLE risk_insights DROP CONSTRAINT risk_insights_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX risk_insights_link;

ALTER TABLE tax_compliance_status DROP CONSTRAINT tax_compliance_status_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX tax_compliance_status_link;

ALTER TABLE tax_retentions DROP CONSTRAINT tax_retentions_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX tax_retentions_link;

ALTER TABLE tax_returns DROP CONSTRAINT tax_returns_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX tax_returns_link;

ALTER TABLE tax_status DROP CONSTRAINT tax_status_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX tax_status_link;

ALTER TABLE transactions DROP CONSTRAINT transactions_pkey, ADD PRIMARY KEY (link_id, id);
DROP INDEX transactions_link;
