-- The CDR list over millions of records. A tenant's page filtered by time, direction,
-- disposition or the flag is counted and chosen from this index alone (it holds every
-- column those filters read, and `id` after `started_at` so "newest first" is its own
-- order, with no sort); only the page's 50 rows are then read from the table. Before, every
-- record of the period was read from the table to test its direction: at 10,000,000
-- records that was hundreds of random reads per page. It replaces cdrs_tenant_started,
-- whose columns it begins with.
DROP INDEX cdrs_tenant_started;
CREATE INDEX cdrs_tenant_list ON cdrs(tenant_id, started_at, id, direction, disposition, flagged);

-- The super admin's list across tenants, newest first: the page without sorting every
-- record.
CREATE INDEX cdrs_list ON cdrs(started_at, id, direction, disposition, flagged);
