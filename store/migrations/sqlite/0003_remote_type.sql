-- 0003: the other side's item type, when this side has no type of that
-- name and the twin got this side's default instead (a Jira Bug becomes an
-- Asana task). Kept so the type is shown, and so a sync back restores it
-- rather than turning the Bug into a Task. Empty when the types match.

ALTER TABLE twins ADD COLUMN remote_type TEXT NOT NULL DEFAULT '';
