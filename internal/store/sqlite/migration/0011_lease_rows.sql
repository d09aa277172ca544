-- Host lease rows are created with the pages that need them, by a trigger
-- on pages, instead of by each claim: a claim no longer scans the run's
-- queued pages for hosts without a row (docs/scaling.md, "Host leases").
-- The cost is one primary-key probe of host_leases per admitted page.
CREATE TRIGGER pages_lease_rows AFTER INSERT ON pages
WHEN NOT EXISTS (SELECT 1 FROM host_leases WHERE run_id = NEW.run_id AND host = NEW.host)
BEGIN
	INSERT OR IGNORE INTO host_leases (run_id, host) VALUES (NEW.run_id, NEW.host);
END;

-- The hosts queued before this migration.
INSERT OR IGNORE INTO host_leases (run_id, host)
SELECT DISTINCT run_id, host FROM pages WHERE state = 0;
