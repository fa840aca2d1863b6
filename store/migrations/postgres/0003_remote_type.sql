-- 0003 on PostgreSQL: sqlite/0003_remote_type.sql, unchanged.

ALTER TABLE twins ADD COLUMN remote_type TEXT NOT NULL DEFAULT '';
